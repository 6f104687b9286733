"""Data-parallel training on gloo: tiny programs, two processes, every wait bounded.

Ranks are plain subprocesses given torchrun's environment (``tests/runtime/ddp_worker.py``
or ``python -m runtime train``), or torchrun's own workers (``cdl train --nproc 2``, and
``--max-restarts 1`` with a worker killed), one torch thread each; each spawn is killed
after ``SPAWN_TIMEOUT`` seconds and every collective has an explicit timeout.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from runtime import Batches, Trainer
from runtime.errors import RunError
from runtime.sources import TensorSource
from runtime.train.checkpoint import latest, list_checkpoints, load_checkpoint

from .runtime_fixtures import assert_bitwise_equal, parameters, tiny_data, tiny_program

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("ddp_worker.py")
SPAWN_TIMEOUT = 90
# 2 ranks × batch b against 1 process × batch 2b: the same arithmetic up to the order of
# float sums (the mean of two half-batch means, the all-reduce's sum), amplified a little
# by Adam over the steps: measured max abs difference ~1e-7 after 8 steps
ATOL = 1e-5
QUIET = {"progress": False, "tensorboard": False}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(rank: int, world: int, port: int) -> dict:
    return {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world),
            "LOCAL_WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port), "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""}


def start(world: int, args: dict | list, cmd: list | None = None) -> list[subprocess.Popen]:
    port = _port()
    cmd = cmd or [sys.executable, str(WORKER), json.dumps(args)]
    return [subprocess.Popen(cmd, env=_env(r, world, port), cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for r in range(world)]


def wait(procs, timeout: float = SPAWN_TIMEOUT) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    out = []
    try:
        for p in procs:
            _, err = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
            out.append((p.returncode, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    return out


def run(world: int, args: dict) -> None:
    for rank, (rc, err) in enumerate(wait(start(world, args))):
        assert rc == 0, f"rank {rank} exited {rc}:\n{err[-3000:]}"


def straight(out: Path, steps: int, batch: int, until: int | None = None, **options):
    prog = tiny_program(**options)
    Trainer(prog, tiny_data(), out, steps=steps, batch_size=batch, checkpoint_every=2,
            **QUIET).fit(until=until)
    return prog


def assert_close(a: dict, b: dict, atol: float = ATOL) -> None:
    assert a.keys() == b.keys()
    worst = max((a[k] - b[k]).abs().max().item() for k in a)
    assert worst <= atol, f"max abs difference {worst:.3g} > {atol}"


# ---------------------------------------------------------------------- the shards
def test_shards_are_disjoint_slices_of_the_global_batch():
    src = {"A": TensorSource(torch.arange(40.))}
    one = Batches(src, 8, seed=3)
    ranks = [Batches(src, 8, seed=3, shard=(r, 2)) for r in range(2)]
    for _ in range(12):  # across epochs
        x = next(one)["A"]
        parts = [next(b)["A"] for b in ranks]
        assert torch.equal(torch.cat(parts), x)
    assert ranks[0].state_dict() == one.state_dict()  # the position is the global one


def test_the_global_batch_must_divide():
    with pytest.raises(RunError, match="global batch 10 does not divide among 3 processes"):
        Batches({"A": TensorSource(torch.arange(40.))}, 10, shard=(0, 3))
    with pytest.raises(RunError, match="rank, world"):
        Batches({"A": TensorSource(torch.arange(40.))}, 10, shard=(2, 2))


# ---------------------------------------------------------------------- 2 ranks == 1 process
def test_two_ranks_equal_one_process_and_resume_across_world_sizes(tmp_path):
    """2 ranks × batch 8 reach the parameters of 1 process × batch 16 after 8 steps;
    so do a 1-process run resumed at step 4 on 2 ranks, and the 2-rank run's step-4
    checkpoint resumed by 1 process (one spawn of 2 ranks runs both 2-rank jobs)."""
    want = parameters(straight(tmp_path / "one", 8, 16))
    straight(tmp_path / "from-one", 8, 16, until=4)
    run(2, [{"out": str(tmp_path / "two"), "steps": 8, "batch": 16,
             "params": str(tmp_path / "two.pt")},
            {"out": str(tmp_path / "from-one"), "resume": True,
             "params": str(tmp_path / "from-one.pt")}])
    assert_close(torch.load(tmp_path / "two.pt"), want)
    assert load_checkpoint(tmp_path / "two").step == 8
    assert load_checkpoint(tmp_path / "from-one").step == 8
    assert_close(torch.load(tmp_path / "from-one.pt"), want)  # 1 -> 2 processes
    again = tiny_program(init_seed=7)
    t = Trainer.resume(tmp_path / "two", program=again, data=tiny_data(),
                       checkpoint="step-00000004", **QUIET)
    assert t.step == 0 and t.batch_size == 16
    t.fit()
    assert_close(parameters(again), want)  # 2 -> 1 process


def test_wgan_gp_on_two_ranks_equals_one_process(tmp_path):
    """The gradient penalty's interpolation weights are drawn for the global batch and
    each rank takes its slice (``Program.draw_shard``): 2 ranks × 8 reach 1 × 16 after 8
    steps, as without the penalty (with every rank drawing the same 8 weights they don't).
    With a fake pool (one per rank: not the one-process arithmetic) the run trains and
    its checkpoint holds rank 0's pool."""
    opts = {"adversarial": "wgan-gp"}
    want = parameters(straight(tmp_path / "one", 8, 16, **opts))
    pool = {**opts, "fake_pool": 4}
    run(2, [{"out": str(tmp_path / "two"), "steps": 8, "batch": 16, "options": opts,
             "params": str(tmp_path / "two.pt")},
            {"out": str(tmp_path / "pool"), "steps": 4, "batch": 16, "options": pool,
             "params": str(tmp_path / "pool.pt")}])
    assert_close(torch.load(tmp_path / "two.pt"), want)
    ck = load_checkpoint(tmp_path / "pool")
    assert ck.step == 4 and int(ck.state["program"]["fake_pool:count"]) == 4
    assert all(torch.isfinite(v).all() for v in torch.load(tmp_path / "pool.pt").values())


def test_resume_refuses_a_world_that_does_not_divide(tmp_path):
    straight(tmp_path / "run", 8, 6, until=2)

    class Three:  # what the Trainer asks of a DataParallel before any collective
        shard, is_writer = (0, 4), True

    with pytest.raises(RunError, match="global batch 6 does not divide among 4"):
        Trainer.resume(tmp_path / "run", program=tiny_program(), data=tiny_data(),
                       parallel=Three(), **QUIET)


# ---------------------------------------------------------------------- faults
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGSTOP], ids=["kill-9", "stopped"])
def test_a_killed_rank_stops_the_other_with_a_resume_hint(tmp_path, how):
    """kill -9 of rank 1: gloo sees the closed connection at once; SIGSTOP (a hung rank):
    the explicit 3 s collective timeout ends the wait. Either way rank 0 exits 1 within
    60 s naming the failure and how to resume, and the run resumes from its checkpoint."""
    out = tmp_path / "run"
    procs = start(2, {"out": str(out), "steps": 400, "batch": 8, "sleep": 0.05,
                      "timeout_s": 3})
    try:
        deadline = time.monotonic() + SPAWN_TIMEOUT
        while latest(out) is None and time.monotonic() < deadline:
            assert procs[0].poll() is None, procs[0].communicate()[1][-3000:]
            time.sleep(0.2)
        assert latest(out) is not None, "no checkpoint within the spawn timeout"
        os.kill(procs[1].pid, how)
        t0 = time.monotonic()
        _, err = procs[0].communicate(timeout=60)
        took = time.monotonic() - t0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
    assert procs[0].returncode != 0
    assert took < 60
    assert "rank 0 of 2" in err and "failed" in err, err[-3000:]
    assert f"Resume with: cdl train --resume --out {out}" in err
    step = load_checkpoint(out).step
    assert 0 < step < 400
    t = Trainer.resume(out, program=tiny_program(), data=tiny_data(), steps=step + 4, **QUIET)
    t.fit()
    assert load_checkpoint(out).step == step + 4


def test_kill_9_at_random_moments_loses_nothing_but_the_last_steps(tmp_path):
    """A single-process run (a checkpoint every step) is killed with SIGKILL 3 times at
    random moments, resumed each time: every checkpoint left loads (hash-checked), and
    the run ends at its final step with the parameters of an uninterrupted run."""
    steps, out = 40, tmp_path / "run"
    want = parameters(straight(tmp_path / "straight", steps, 8))
    args = {"out": str(out), "steps": steps, "batch": 8, "sleep": 0.03, "checkpoint_every": 1,
            "params": str(tmp_path / "p.pt")}
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    rng, kills, resumed = random.Random(9), 0, []
    for _ in range(8):  # 3 kills, then a resume that finishes (bounded attempts)
        cmd = [sys.executable, str(WORKER), json.dumps({**args, "resume": latest(out)
                                                        is not None})]
        p = subprocess.Popen(cmd, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        resumed.append(0 if latest(out) is None else load_checkpoint(out).step)
        if kills < 3:
            start_step = resumed[-1]
            deadline = time.monotonic() + SPAWN_TIMEOUT
            while (latest(out) is None or load_checkpoint(out).step <= start_step) \
                    and p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)  # training has begun: a checkpoint newer than the start
            time.sleep(rng.uniform(0.0, 0.4))
            if p.poll() is None:
                p.kill()
                kills += 1
        try:
            _, err = p.communicate(timeout=SPAWN_TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        for ck in list_checkpoints(out):  # every complete checkpoint loads, none is torn
            load_checkpoint(out, ck.name)
        if p.returncode == 0:
            break
        assert p.returncode == -signal.SIGKILL, err[-3000:]
    assert kills == 3, f"the run finished before 3 kills (resumed at {resumed})"
    assert load_checkpoint(out).step == steps
    assert_bitwise_equal(torch.load(tmp_path / "p.pt"), want)


def test_sigterm_to_one_rank_stops_both_at_the_same_step(tmp_path):
    """The stop flag rides in the gradient all_reduce: SIGTERM to rank 1 alone stops both
    ranks after the same step, and rank 0 saves that step's checkpoint."""
    out = tmp_path / "run"
    procs = start(2, {"out": str(out), "steps": 400, "batch": 8, "sleep": 0.05,
                      "checkpoint_every": 100})
    try:
        deadline = time.monotonic() + SPAWN_TIMEOUT
        while not (out / "metrics.jsonl").is_file() and time.monotonic() < deadline:
            assert procs[0].poll() is None, procs[0].communicate()[1][-3000:]
            time.sleep(0.2)
        os.kill(procs[1].pid, signal.SIGTERM)
        errs = [p.communicate(timeout=60)[1] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
    assert "SIGTERM: stopped at step" in errs[0], errs[0][-3000:]
    assert "failed" not in errs[0]  # no broken collective: both stopped together
    step = load_checkpoint(out).step
    assert f"stopped at step {step} of 400" in errs[0] and 0 < step < 100


# ---------------------------------------------------------------------- the command line
def test_cdl_train_nproc_2_then_resume_on_one(tmp_path, capsys):
    """``cdl train --nproc 2`` launches torchrun (2 gloo workers); rank 0 alone writes; the
    run then resumes in one process with the same global batch."""
    from runtime.cli import main

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "runtime", "train", "gaussians", "--nproc", "2", "--steps",
           "4", "--batch", "32", "--out", str(out), "--dist-timeout", "30"]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    p = subprocess.run(cmd, env={**env, "PYTHONPATH": str(ROOT)}, cwd=tmp_path,
                       capture_output=True, text=True, timeout=SPAWN_TIMEOUT)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "2 processes × batch 16" in p.stderr
    assert p.stdout.count("run folder:") == 1  # printed by rank 0 only
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines if "loss/total" in x] == [4]  # one writer
    assert load_checkpoint(out).step == 4
    assert main(["train", "--resume", "--out", str(out), "--steps", "6"]) == 0
    assert load_checkpoint(out).step == 6
    assert "batch 32" in capsys.readouterr().err


# ---------------------------------------------------------------------- torchrun restarts
RESTART_STEPS = 1200  # gaussians at ~100 steps/s: a checkpoint every 300 steps


def _workers(root: int, rank: int, attempt: int) -> list[int]:
    """The pids of torchrun's worker ``rank`` of ``attempt`` below process ``root``."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile
            continue
        todo += [int(k) for k in kids]
        if f"RANK={rank}".encode() in env and \
                f"TORCHELASTIC_RESTART_COUNT={attempt}".encode() in env:
            found.append(pid)
    return found


def _restarted_run(tmp_path, rank: int, ready) -> tuple[Path, str]:
    """``cdl train gaussians --nproc 2 --max-restarts 1``; once ``ready(out)``, kill -9
    of worker ``rank`` of the first attempt; returns the run folder and the launcher's
    stderr after the run ended by itself (exit status 0 asserted)."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "runtime", "train", "gaussians", "--nproc", "2",
           "--max-restarts", "1", "--steps", str(RESTART_STEPS), "--batch", "32", "--out",
           str(out), "--dist-timeout", "30"]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    p = subprocess.Popen(cmd, env={**env, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
                         cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    try:
        deadline = time.monotonic() + SPAWN_TIMEOUT
        while not ready(out) and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert p.poll() is None and ready(out), "the run never got to the moment of the kill"
        victims = _workers(p.pid, rank, attempt=0)
        assert len(victims) == 1, victims
        os.kill(victims[0], signal.SIGKILL)
        _, err = p.communicate(timeout=SPAWN_TIMEOUT)
    finally:
        if p.poll() is None:
            for pid in _workers(p.pid, 0, 1) + _workers(p.pid, 1, 1):
                os.kill(pid, signal.SIGKILL)
            p.kill()
            p.communicate()
    assert p.returncode == 0, err[-4000:]
    return out, err


def _logged_steps(out: Path) -> list[int]:
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    return [x["step"] for x in lines if "loss/total" in x]


def test_each_torchrun_attempt_joins_the_agent_store_under_its_own_prefix():
    """torchrun's agent keeps one TCPStore across restarts: what attempt 0 wrote there
    (gloo's addresses) must not be seen by attempt 1, else its mesh dials dead ports."""
    import datetime

    from runtime.train.distributed import attempt_store

    t = datetime.timedelta(seconds=10)
    agent = torch.distributed.TCPStore("127.0.0.1", 0, 1, is_master=True, timeout=t)
    env = {"TORCHELASTIC_USE_AGENT_STORE": "True", "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": str(agent.port), "TORCHELASTIC_RESTART_COUNT": "0"}
    first = attempt_store(env, 2, t)
    first.set("rank_0", "127.0.0.1:4242 (dead)")
    again = attempt_store({**env, "TORCHELASTIC_RESTART_COUNT": "1"}, 2, t)
    assert not again.check(["rank_0"]) and first.check(["rank_0"])
    again.set("rank_0", "new")
    assert first.get("rank_0") == b"127.0.0.1:4242 (dead)"
    # no agent store (TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1, or our tests' hand-made env):
    # init_process_group's env:// makes a fresh store per attempt itself
    assert attempt_store({**env, "TORCHELASTIC_USE_AGENT_STORE": "False"}, 2, t) is None


def test_torchrun_restarts_the_workers_which_resume_from_the_checkpoint(tmp_path):
    """kill -9 of rank 1 after the first checkpoint: rank 0 stops with the failure,
    torchrun restarts both workers (a fresh gloo mesh under this attempt's store prefix),
    which resume from the latest checkpoint by themselves and finish the run."""
    out, err = _restarted_run(tmp_path, 1, lambda out: latest(out) is not None)
    # rank 0 was in the step's gradient all_reduce or the logged metrics' one
    assert "rank 0 of 2: the " in err and " all_reduce failed" in err, err[-4000:]
    assert "torchrun restarts the workers: restart 1 of 1" in err, err[-4000:]
    assert "connectFullMesh" not in err, err[-4000:]
    resumed = [int(line.rsplit("step-", 1)[1]) for line in err.splitlines()
               if "torchrun restart 1 of 1: resuming" in line]
    assert len(resumed) == 1, err[-4000:]
    assert resumed[0] > 0 and resumed[0] % (RESTART_STEPS // 4) == 0, err[-4000:]
    ck = load_checkpoint(out)  # the final checkpoint loads (hashes checked)
    assert ck.step == RESTART_STEPS
    # the first attempt logged 10, 20, … X (X ≥ the checkpoint's step); the restart
    # takes back what came after the checkpoint and logs from there: each step once
    assert _logged_steps(out) == list(range(10, RESTART_STEPS + 1, 10))
    assert not list(tmp_path.glob("run.attempt-*"))


def test_a_restart_before_the_first_checkpoint_starts_over(tmp_path):
    """kill -9 of rank 0 (the writer) once training has begun, before any checkpoint:
    the restarted workers set the dead attempt's files aside as run.attempt-0 (logged,
    not deleted) and train from step 0 to the end in the same folder."""
    out, err = _restarted_run(tmp_path, 0, lambda out: (out / "metrics.jsonl").is_file()
                              and latest(out) is None)
    aside = tmp_path / "run.attempt-0"
    assert f"its files are set aside as {aside}" in err, err[-4000:]
    assert (aside / "run.json").is_file() and latest(aside) is None
    assert json.loads((out / "run.json").read_text())["launch"]["attempt"] == 1
    assert load_checkpoint(out).step == RESTART_STEPS
    assert _logged_steps(out) == list(range(10, RESTART_STEPS + 1, 10))


def test_a_restart_does_not_take_over_a_folder_of_another_launch(tmp_path, monkeypatch):
    """The restart rules only touch a folder begun by this launch: another run's folder
    (with or without a checkpoint) is neither resumed nor set aside; without --out
    (torchrun by hand) the restart finds this launch's runs/NAME-k folder."""
    import shutil

    from runtime.train.restarts import restart_plan

    other = tmp_path / "other"
    straight(other, 4, 8, until=2)
    info = json.loads((other / "run.json").read_text())
    (other / "run.json").write_text(json.dumps({**info, "launch": {"id": "x@h:1",
                                                                   "attempt": 0}}))

    class Rank0:
        restart_count, is_writer = 1, True

    monkeypatch.chdir(tmp_path)
    for name, launch in (("gaussians", "x@h:1"), ("gaussians-2", "y@h:2")):
        shutil.copytree(other, tmp_path / "runs" / name)
        info["launch"] = {"id": launch, "attempt": 0}
        (tmp_path / "runs" / name / "run.json").write_text(json.dumps(info))
    def plan(out, launch):
        return restart_plan(out, "gaussians", launch, False, Rank0())

    assert plan(None, "y@h:2") == (str(Path("runs/gaussians-2")), True)
    # the dead attempt made no folder: a fresh one
    assert plan(None, "z@h:3") == (str(Path("runs/gaussians-3")), False)
    assert plan(str(other), "y@h:2") == (str(other), False)  # left to the usual refusal
    assert plan(str(other), "x@h:1") == (str(other), True)  # ours: resumed
    (other / "checkpoints").rename(tmp_path / "moved")
    assert plan(str(other), "x@h:1") == (str(other), False)  # ours, no checkpoint
    assert (tmp_path / "other.attempt-0" / "run.json").is_file() and not other.exists()
