"""Data-parallel training on ``torch.distributed`` (gloo on CPU, NCCL on CUDA).

``torchrun --nproc_per_node=N -m runtime train EXPERIMENT`` (or ``cdl train --nproc N``)
runs one process per rank; each builds the same program and calls
:meth:`DataParallel.from_env`, which joins the process group torchrun set up (with an
explicit collective ``timeout``, not gloo's 30-minute default) and hands the trainer:

- its data shard: ``Batches(shard=(rank, world))`` gives each rank a disjoint slice of
  every global batch (the batch size of a run is the *global* batch);
- :meth:`DataParallel.attach`: the parameters and buffers of every network are broadcast
  from rank 0, and ``program.grad_hook`` is set, so that after the one backward pass of
  each step the gradients of :meth:`~compiler.Program.parameters` (stacked banks and
  lone modules: not one ``nn.Module``, so ``DistributedDataParallel`` cannot wrap them)
  are averaged across ranks before the fused optimizer step;
- :attr:`DataParallel.is_writer`: only rank 0 writes logs, samples, checkpoints;
  :meth:`DataParallel.average` averages the logged metrics.

Gradient averaging: the gradients are flattened into a few flat buckets of at most
``bucket_mb`` MiB (per dtype and device), each summed with one asynchronous
``all_reduce`` (all buckets in flight at once), scaled by ``1/world`` and copied back.
The step's total loss and a stop flag ride in the last bucket, so every rank checks the
same (average) loss for finiteness and all ranks stop at the same step on SIGINT/SIGTERM.
``benchmarks/bench_ddp.py`` measures this against one ``all_reduce`` per tensor.

A collective that fails (a rank died, the network broke, a peer is stuck past the
timeout) raises :class:`RankFailure`, a :class:`~runtime.errors.RunError` naming the
failure; ``cdl train`` adds how to resume and exits non-zero.

Restarts (``torchrun --max-restarts K``, ``cdl train --nproc N --max-restarts K``): each
attempt joins torchrun's store under its own prefix (:func:`attempt_store`), so the
restarted workers build a fresh gloo mesh; ``cdl train`` then resumes the run folder this
launch began from its latest checkpoint, or starts it over when the workers died before
the first one (the dead attempt's files set aside as ``OUT.attempt-K``): see
:mod:`runtime.restarts`.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

import torch
import torch.distributed as dist

from ..errors import RunError
from .checkpoint import latest
from .networks import named_modules

DEFAULT_TIMEOUT_S = 300.0
DEFAULT_BUCKET_MB = 25.0


class RankFailure(RunError):
    """A collective failed: another rank died or hung past the timeout."""


class DataParallel:
    """This process's rank in a data-parallel run: collectives, shard, writer flag.

    Build it with :meth:`from_env` (under torchrun) or :meth:`init` (explicit
    rendezvous); pass it to ``Trainer(parallel=...)``.
    """

    def __init__(self, rank: int, world: int, local_rank: int = 0, timeout_s: float =
                 DEFAULT_TIMEOUT_S, bucket_mb: float = DEFAULT_BUCKET_MB,
                 restart_count: int = 0):
        if not dist.is_initialized():
            raise RunError("DataParallel needs an initialised torch.distributed process "
                           "group: use DataParallel.from_env() under torchrun")
        self.rank, self.world, self.local_rank = rank, world, local_rank
        self.timeout_s, self.bucket_bytes = float(timeout_s), int(bucket_mb * 2 ** 20)
        self.restart_count = restart_count
        self.stop_requested = False   # set by the trainer before a step (a signal arrived)
        self.stop_agreed = False      # after the step: some rank asked to stop
        self.reduce_seconds = 0.0     # time spent averaging gradients (wall clock)
        self.reduce_calls = 0
        self.bucket_sizes: list[int] = []  # bytes per bucket of the last reduction

    # ------------------------------------------------------------------ set-up
    @classmethod
    def from_env(cls, timeout_s: float = DEFAULT_TIMEOUT_S, backend: str | None = None,
                 bucket_mb: float = DEFAULT_BUCKET_MB) -> DataParallel | None:
        """Join the process group torchrun describes (``RANK``, ``WORLD_SIZE``,
        ``MASTER_ADDR``…); ``None`` when not launched by torchrun or with one process.
        ``backend``: default NCCL when CUDA is present, else gloo."""
        env = os.environ
        world = int(env.get("WORLD_SIZE", "1"))
        if world <= 1 or "RANK" not in env:
            return None
        rank, local = int(env["RANK"]), int(env.get("LOCAL_RANK", "0"))
        if backend is None:
            backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local)
        if not dist.is_initialized():
            timeout = datetime.timedelta(seconds=timeout_s)
            dist.init_process_group(backend, rank=rank, world_size=world, timeout=timeout,
                                    store=attempt_store(env, world, timeout))
        return cls(rank, world, local, timeout_s, bucket_mb,
                   int(env.get("TORCHELASTIC_RESTART_COUNT", "0")))

    @property
    def is_writer(self) -> bool:
        """Rank 0 writes the run folder; the others only train."""
        return self.rank == 0

    @property
    def shard(self) -> tuple[int, int]:
        return self.rank, self.world

    @property
    def device(self) -> torch.device:
        """The device of this rank: ``cuda:LOCAL_RANK`` with CUDA, else the CPU."""
        if torch.cuda.is_available():
            return torch.device("cuda", self.local_rank)
        return torch.device("cpu")

    def attach(self, program) -> None:
        """Start every rank from rank 0's weights and average gradients in each step."""
        tensors = list(program.parameters())
        seen = {id(t) for t in tensors}
        for m in named_modules(program).values():
            for t in [*m.parameters(), *m.buffers()]:
                # stacked modules' parameters are views into the banks: already covered
                if id(t) not in seen and not _is_view_of(t, tensors):
                    seen.add(id(t))
                    tensors.append(t)
        with torch.no_grad():
            for bucket in self._buckets(tensors):
                flat = torch.cat([t.detach().reshape(-1) for t in bucket])
                self._run("broadcast of the initial weights",
                          lambda f=flat: dist.broadcast(f, src=0))
                _unflatten_into(flat, [t.data for t in bucket])
        program.grad_hook = self
        program.draw_shard = self.shard  # per-sample random numbers: this rank's slice

    # ------------------------------------------------------------------ per step
    def __call__(self, params: Sequence[torch.Tensor], total: torch.Tensor) -> torch.Tensor:
        """The program's ``grad_hook``: average the gradients (and the total) in place."""
        t0 = time.perf_counter()
        grads = [p.grad for p in params if p.grad is not None]
        control = torch.stack([total.float(), torch.tensor(
            float(self.stop_requested), device=total.device)])
        buckets = self._buckets(grads)
        flats = [torch.cat([g.reshape(-1) for g in b]) for b in buckets]
        if flats and flats[-1].dtype == control.dtype and flats[-1].device == control.device:
            flats[-1] = torch.cat([flats[-1], control])
        else:
            flats.append(control)
        self.bucket_sizes = [f.numel() * f.element_size() for f in flats]
        with torch.no_grad():
            works = [self._run("gradient all_reduce",
                               lambda f=f: dist.all_reduce(f, async_op=True)) for f in flats]
            for w in works:
                self._run("gradient all_reduce", w.wait)
            scale = 1.0 / self.world
            for f in flats:
                f.mul_(scale)
            out = flats[-1][-2:]
            for b, f in zip(buckets, flats, strict=False):
                _unflatten_into(f, b)
        self.stop_agreed = bool(out[1].item() > 0)
        self.reduce_seconds += time.perf_counter() - t0
        self.reduce_calls += 1
        return out[0]

    def average(self, values: torch.Tensor) -> torch.Tensor:
        """The mean over ranks of ``values`` (the logged metrics), on every rank."""
        x = values.detach().clone()
        self._run("metrics all_reduce", lambda: dist.all_reduce(x))
        return x / self.world

    def barrier(self, what: str = "barrier") -> None:
        self._run(what, lambda: dist.barrier())

    def broadcast_object(self, obj: object) -> object:
        """Rank 0's ``obj`` on every rank (e.g. the run folder chosen by rank 0)."""
        box = [obj]
        self._run("broadcast", lambda: dist.broadcast_object_list(box, src=0))
        return box[0]

    def close(self) -> None:
        """Leave the group together: a barrier first, so that no rank tears down its
        gloo pairs (or, rank 0, the store) while a peer is still using them — one rank
        leaving early once made its peer abort at exit ("terminate called without an
        active exception"). A peer already gone is no reason to fail the exit."""
        if not dist.is_initialized():
            return
        try:
            dist.barrier()
        except Exception:  # noqa: BLE001 - a dead peer: destroy our side all the same
            pass
        dist.destroy_process_group()

    # ------------------------------------------------------------------ internals
    def _buckets(self, tensors: Sequence[torch.Tensor]) -> list[list[torch.Tensor]]:
        """Consecutive tensors of one dtype and device, at most ``bucket_bytes`` each."""
        out: list[list[torch.Tensor]] = []
        size, key = 0, None
        for t in tensors:
            nbytes = t.numel() * t.element_size()
            k = (t.dtype, t.device)
            if not out or k != key or size + nbytes > self.bucket_bytes:
                out.append([])
                size, key = 0, k
            out[-1].append(t)
            size += nbytes
        return out

    def _run(self, what: str, fn):
        try:
            return fn()
        except (RuntimeError, dist.DistError) as e:  # DistBackendError, gloo's errors
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise RankFailure(f"rank {self.rank} of {self.world}: the {what} failed "
                              f"(another rank died, hung longer than the {self.timeout_s:g} s "
                              f"timeout, or the network failed): {first}") from e


def attempt_store(env: Mapping[str, str], world: int,
                  timeout: datetime.timedelta) -> dist.Store | None:
    """The rendezvous store of this attempt of a torchrun launch, or ``None`` (then
    ``init_process_group`` reads ``MASTER_ADDR``/``MASTER_PORT`` itself).

    torchrun's agent hosts one TCPStore for the whole launch (``TORCHELASTIC_USE_AGENT_STORE
    =True``: the default of the c10d and static rendezvous since torch 2.4) and keeps it
    across ``--max-restarts``; ``init_process_group``'s ``env://`` joins it without a
    per-attempt prefix. The restarted workers then read the gloo addresses (or NCCL ids)
    that the dead attempt left under the same keys, and ``connectFullMesh`` fails with
    "Connection refused" (pytorch/pytorch#135712). Joining through a ``PrefixStore`` named
    by ``TORCHELASTIC_RESTART_COUNT`` gives every attempt its own keys; the count comes from
    the one agent of a node, so it agrees among the workers of a single-node launch.
    """
    if env.get("TORCHELASTIC_USE_AGENT_STORE") != "True" or "MASTER_PORT" not in env:
        return None
    attempt = int(env.get("TORCHELASTIC_RESTART_COUNT", "0"))
    tcp = dist.TCPStore(env.get("MASTER_ADDR", "127.0.0.1"), int(env["MASTER_PORT"]), world,
                        is_master=False, timeout=timeout)
    return dist.PrefixStore(f"cdl/attempt-{attempt}", tcp)


def _is_view_of(t: torch.Tensor, bases: Sequence[torch.Tensor]) -> bool:
    ptr = t.untyped_storage().data_ptr()
    return any(ptr == b.untyped_storage().data_ptr() for b in bases)


def _unflatten_into(flat: torch.Tensor, tensors: Sequence[torch.Tensor]) -> None:
    offset = 0
    for t in tensors:
        n = t.numel()
        t.copy_(flat[offset:offset + n].view_as(t))
        offset += n


def resume_hint(out: object, world: int, batch_size: int) -> str:
    """How to continue a run folder after a failure: the latest checkpoint and commands."""
    ck = latest(out)
    where = f"its latest checkpoint is {ck}" if ck else "it has no checkpoint yet"
    return (f"{out}: {where}. Resume with: cdl train --resume --out {out} --nproc {world} "
            f"(or torchrun --nproc_per_node={world} -m runtime train --resume --out {out}); "
            f"any number of processes that divides the global batch {batch_size} works")


def launch(nproc: int, argv: Sequence[str], max_restarts: int = 0) -> int:
    """Run ``python -m runtime ARGV`` on ``nproc`` local processes through torchrun
    (``--standalone`` rendezvous: a fresh run id per launch), restarting them up to
    ``max_restarts`` times; returns the workers' exit status (:mod:`runtime.torchrun`)."""
    cmd = [sys.executable, "-m", "runtime.train.torchrun", "--standalone",
           f"--nproc_per_node={nproc}", f"--max-restarts={max_restarts}",
           "-m", "runtime", *argv]
    return subprocess.call(cmd)
