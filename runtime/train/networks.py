"""The program's networks as a run folder stores them: named, weighed, fingerprinted.

Every network of a program has a checkpoint prefix — ``arrow/<name>`` for an arrow's,
``critic/<object>`` for a critic — under which its ``state_dict`` entries are saved
(:func:`weights`) and loaded back in place (:func:`load_weights`), once the checkpoint's
:func:`fingerprint` (schema, spaces, network shapes) matches the program's.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from compiler import Program

from ..errors import CheckpointError
from .checkpoint import Checkpoint, fingerprint_diff

__all__ = ["arrow_modules", "eval_mode", "fingerprint", "load_into", "load_weights",
           "named_modules", "restore_weights", "weights"]


def named_modules(program: Program) -> dict[str, nn.Module]:
    """Every network of the program by its checkpoint prefix: ``arrow/f``, ``critic/Horse``."""
    out = {f"arrow/{a.name}": m for a, m in program.functor.modules.items()}
    out.update({f"critic/{name}": m for name, m in program.critics.items()})
    return out


def arrow_modules(program: Program) -> dict[str, nn.Module]:
    """The arrows' networks alone by their checkpoint prefixes (what a trained functor is)."""
    return {k: m for k, m in named_modules(program).items() if k.startswith("arrow/")}


def weights(program: Program) -> dict[str, torch.Tensor]:
    """Every network's ``state_dict`` entries, keyed ``<prefix>/<entry>``; copies, since a
    stacked module's entries are views into one shared stack (safetensors refuses those)."""
    out: dict[str, torch.Tensor] = {}
    for prefix, m in named_modules(program).items():
        for k, v in m.state_dict().items():
            out[f"{prefix}/{k}"] = v.detach().clone()
    return out


def restore_weights(program: Program, ck: Checkpoint) -> None:
    """The checkpoint's weights in the program's modules, once its fingerprint matches."""
    diff = fingerprint_diff(ck.fingerprint, fingerprint(program))
    if diff:
        raise CheckpointError(f"checkpoint {ck.path} is of another schema, functor or network "
                              f"shape than this program:\n  " + "\n  ".join(diff))
    load_weights(program, ck.weights, ck.path)


def load_weights(program: Program, saved: Mapping[str, torch.Tensor], where: object) -> None:
    """Copy saved weights into the program's modules (in place: stacked views stay views)."""
    load_into(named_modules(program), saved, where)


def load_into(modules: Mapping[str, nn.Module], saved: Mapping[str, torch.Tensor],
              where: object, partial: bool = False) -> None:
    """Copy the entries of ``saved`` keyed ``<prefix>/<entry>`` into the network of each
    prefix, in place; ``partial``: a network may take some of its entries or none (a moving
    average holds floating-point entries of the arrows only), but never a foreign one."""
    for prefix, m in modules.items():
        sd = {k[len(prefix) + 1:]: v for k, v in saved.items() if k.startswith(prefix + "/")}
        if partial and not sd:
            continue
        try:
            unexpected = m.load_state_dict(sd, strict=not partial).unexpected_keys
        except RuntimeError as e:
            raise CheckpointError(f"checkpoint {where}: the weights of {prefix} do not fit: "
                                  f"{str(e).splitlines()[0]}") from None
        if unexpected:
            raise CheckpointError(f"checkpoint {where}: {prefix} has no entries "
                                  f"{', '.join(sorted(unexpected))}")


def fingerprint(program: Program) -> dict:
    """What a checkpoint must agree on to be loaded: schema, spaces, network shapes."""
    F = program.functor
    return {"schema": str(F.schema),
            "spaces": {str(ob): str(sp) for ob, sp in F.spaces.items()},
            "networks": {prefix: {"class": type(m).__name__,
                                  "shapes": {k: list(v.shape)
                                             for k, v in m.state_dict().items()}}
                         for prefix, m in named_modules(program).items()},
            "fake_pool": program.fake_pool}



class eval_mode:
    """Networks in eval mode (BatchNorm, Dropout) for sampling and evaluation."""

    def __init__(self, program: Program):
        self.modules = list(named_modules(program).values())

    def __enter__(self):
        self.modes = [m.training for m in self.modules]
        for m in self.modules:
            m.eval()

    def __exit__(self, *exc):
        for m, mode in zip(self.modules, self.modes, strict=True):
            m.train(mode)
        return False
