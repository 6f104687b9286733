"""The loop of ``cdl apply``: a batch of points read, the path's network applied in
inference mode, the outputs written; a progress bar (tqdm, on stderr) counts the points.

Reading and writing overlap the network: while batch ``k`` runs, batch ``k + 1`` is read
(decoded) by one thread and batch ``k - 1``'s outputs are written (encoded) by another —
Pillow and numpy let go of the interpreter while they work, so files cost little more
than the network where both have a core. Each thread keeps its order: outputs are
written as they would be one after the other, and the first failure stops the loop.
"""

from __future__ import annotations

import sys
from concurrent.futures import Future, ThreadPoolExecutor

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
    starts = range(0, n, batch)
    training = net.training
    net.eval()
    bar = tqdm(total=n, unit="pt", desc=net.name, dynamic_ncols=True, file=sys.stderr,
               disable=not progress)

    def read(start: int):
        return start, *inputs.read(start, min(n, start + batch))

    def write(kept, y) -> None:
        with torch.inference_mode():
            outputs.write(kept, y)

    pending: Future | None = None
    try:
        with ThreadPoolExecutor(1) as reader, ThreadPoolExecutor(1) as writer, \
                torch.inference_mode():
            ahead = reader.submit(read, starts[0]) if starts else None
            for k in range(len(starts)):
                start, kept, xs = ahead.result()
                if k + 1 < len(starts):
                    ahead = reader.submit(read, starts[k + 1])
                if kept:
                    y = net(*(x.to(device) for x in xs))
                    if pending is not None:
                        pending.result()  # the previous batch's failure stops the loop here
                    pending = writer.submit(write, kept, y)
                    written += len(kept)
                bar.update(min(n, start + batch) - start)
            if pending is not None:
                pending.result()
        outputs.finish()
    finally:
        bar.close()
        net.train(training)
    return written
