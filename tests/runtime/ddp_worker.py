"""One rank of the data-parallel tests (or, without RANK/WORLD_SIZE, one process): the
tiny program of ``runtime_fixtures``, trained by a ``Trainer(parallel=DataParallel.
from_env())``; rank 0 saves the final parameters.

Run by ``test_distributed.py`` with torchrun's environment (RANK, WORLD_SIZE,
MASTER_ADDR, MASTER_PORT) set by hand; arguments are one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from runtime import Trainer  # noqa: E402
from runtime.train.distributed import DataParallel, RankFailure, resume_hint  # noqa: E402
from tests.runtime.runtime_fixtures import parameters, tiny_data, tiny_program  # noqa: E402


def main() -> int:
    """Arguments: one job (a dict) or a list of jobs run one after the other in the same
    process group (each spawn costs seconds of imports on a shared machine)."""
    torch.set_num_threads(1)
    jobs = json.loads(sys.argv[1])
    jobs = jobs if isinstance(jobs, list) else [jobs]
    parallel = DataParallel.from_env(timeout_s=jobs[0].get("timeout_s", 30))
    for a in jobs:
        code = job(a, parallel)
        if code:
            return code
    if parallel is not None:
        parallel.close()
    return 0


def job(a: dict, parallel: DataParallel | None) -> int:
    callbacks = [lambda t, step, losses: time.sleep(a["sleep"])] if a.get("sleep") else []
    kw = {"progress": False, "tensorboard": False, "parallel": parallel,
          "callbacks": callbacks}
    if a.get("resume"):
        trainer = Trainer.resume(a["out"], program=tiny_program(**a.get("options", {})),
                                 data=tiny_data(), **kw)
    else:
        trainer = Trainer(tiny_program(**a.get("options", {})), tiny_data(), a["out"],
                          steps=a["steps"], batch_size=a["batch"],
                          checkpoint_every=a.get("checkpoint_every", 2), **kw)
    try:
        trainer.fit(until=a.get("until"))
        if parallel is not None:
            parallel.barrier("final barrier")
    except RankFailure as e:
        print(f"error: {e}\n{resume_hint(trainer.out, parallel.world, trainer.batch_size)}",
              file=sys.stderr, flush=True)
        return 1
    if trainer.is_writer and a.get("params"):
        torch.save(parameters(trainer.program), a["params"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
