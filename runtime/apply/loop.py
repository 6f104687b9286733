"""The loop of ``cdl apply``: a batch of points read, the path's network applied in
inference mode, the outputs written; a progress bar (tqdm, on stderr) counts the points."""

from __future__ import annotations

import sys

import torch
from tqdm import tqdm

from .inputs import Inputs
from .network import PathNetwork
from .outputs import Outputs

__all__ = ["apply_network"]


def apply_network(net: PathNetwork, inputs: Inputs, outputs: Outputs, batch: int,
                  device: torch.device, progress: bool = True) -> int:
    """Every point of ``inputs`` through ``net`` (in eval mode, ``batch`` at a time, on
    ``device``) into ``outputs``, committed at the end; the number of points written."""
    n, written = len(inputs), 0
    training = net.training
    net.eval()
    bar = tqdm(total=n, unit="pt", desc=net.name, dynamic_ncols=True, file=sys.stderr,
               disable=not progress)
    try:
        with torch.inference_mode():
            for start in range(0, n, batch):
                stop = min(n, start + batch)
                kept, xs = inputs.read(start, stop)
                if kept:
                    outputs.write(kept, net(*(x.to(device) for x in xs)))
                    written += len(kept)
                bar.update(stop - start)
        outputs.finish()
    finally:
        bar.close()
        net.train(training)
    return written
