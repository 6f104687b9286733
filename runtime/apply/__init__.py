"""A trained path put to use: ``cdl apply`` (a path's network on a folder, an image, a
tensor file or drawn codes) and ``cdl export`` (the network as a ``.pt2`` or ``.onnx`` file
that runs without cdl).

- :mod:`.network` — the path's network as one module (:func:`path_network`);
- :mod:`.inputs` — what is read: image folders and files, tensor files, latent codes;
- :mod:`.outputs` — what is written: images, tensor files, staged and moved into place;
- :mod:`.loop` — the batched loop (:func:`apply_network`);
- :mod:`.export` — ``torch.export`` and ONNX, checked against the network
  (:func:`export_network`).
"""

from .export import Exported, export_network
from .inputs import Inputs, latent_prior, read_inputs
from .loop import apply_network
from .network import PathNetwork, data_kind, path_network
from .outputs import Outputs, plan_outputs

__all__ = ["Exported", "Inputs", "Outputs", "PathNetwork", "apply_network", "data_kind",
           "export_network", "latent_prior", "path_network", "plan_outputs", "read_inputs"]
