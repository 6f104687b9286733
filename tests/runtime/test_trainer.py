import json
import os
import shutil
import signal

import pytest
import torch

from runtime import Trainer
from runtime.errors import (
    CheckpointError,
    Interrupted,
    RunError,
    RunFolderError,
    SourceError,
    TrainingDiverged,
)
from runtime.sources import TensorSource
from runtime.train import linear_decay
from runtime.train.checkpoint import list_checkpoints, load_checkpoint
from runtime.train.samples import application_label

from .runtime_fixtures import assert_bitwise_equal, parameters, tiny_data, tiny_program

QUIET = {"progress": False, "tensorboard": False}


def trainer(out, program=None, steps=6, **kw):
    program = program or tiny_program()
    return Trainer(program, tiny_data(), out, steps=steps, batch_size=8,
                   **{**QUIET, "checkpoint_every": 2, **kw})


def straight(tmp_path, steps, **kw):
    prog = tiny_program(**kw.pop("program_options", {}))
    trainer(tmp_path / "straight", prog, steps=steps, **kw).fit()
    return parameters(prog)


# ---------------------------------------------------------------------- exact resume
@pytest.mark.parametrize("options", [{}, {"fake_pool": 4, "adversarial": "wgan-gp"}])
def test_resume_is_exact(tmp_path, options):
    """10 steps, a resume into a program built from other initial weights, 10 more:
    the same parameters, to the bit, as 20 straight (optimizer, schedule, RNG, data
    position and fake pool restored)."""
    kw = {"n_critic": 2, "decay_from": 0.25, "program_options": options}
    want = straight(tmp_path, 20, **dict(kw))
    first = tiny_program(**options)
    trainer(tmp_path / "run", first, steps=20, n_critic=2, decay_from=0.25).fit(until=10)
    again = tiny_program(init_seed=99, **options)
    assert not torch.equal(parameters(again)["f/0.weight"], parameters(first)["f/0.weight"])
    Trainer.resume(tmp_path / "run", program=again, data=tiny_data(), **QUIET).fit()
    assert_bitwise_equal(parameters(again), want)


def test_resume_is_exact_compiled(tmp_path):
    want = straight(tmp_path, 8, program_options={"backend": "inductor"})
    trainer(tmp_path / "run", tiny_program(backend="inductor"), steps=8).fit(until=4)
    again = tiny_program(init_seed=5, backend="inductor")
    Trainer.resume(tmp_path / "run", program=again, data=tiny_data(), **QUIET).fit()
    assert_bitwise_equal(parameters(again), want)


def test_resume_can_extend_the_run(tmp_path):
    run = tmp_path / "run"
    trainer(run, steps=4, decay_from=1.0).fit()
    with pytest.raises(RunError, match="already at step 4 of 4"):
        Trainer.resume(run, program=tiny_program(), data=tiny_data(), **QUIET).fit()
    t = Trainer.resume(run, program=tiny_program(), data=tiny_data(), steps=8, **QUIET)
    t.fit()
    assert t.step == 8
    assert load_checkpoint(run).step == 8


# ---------------------------------------------------------------------- the log of a resumed run
class Crash(Exception):
    """The process dying mid-run: no checkpoint saved on the way out."""


def crash_at(step):
    def crash(t, at, losses):
        if at == step:  # before step `at` is logged
            raise Crash(at)
    return crash


def evaluate_f(prog):
    f = prog.functor.modules[prog.functor.schema["f"]]
    return {"f": {"weight_sum": float(sum(p.detach().sum() for p in f.parameters()))}}


LOGGED = {"log_every": 1, "sample_every": 3, "evaluate": evaluate_f}


def logged(run):
    """metrics.jsonl's records, less the wall-clock keys (they differ between runs)."""
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(x).items()
             if k not in ("time", "step_time", "steps_per_s")} for x in lines]


def assert_logged_once(run, want):
    records = logged(run)
    for kind in ("loss/total", "eval/f/weight_sum"):
        steps = [r["step"] for r in records if kind in r]
        assert steps == sorted(set(steps)), f"{kind} logged at steps {steps}"
    assert records == want


def test_resume_after_a_crash_logs_each_step_once(tmp_path):
    """Killed at step 6 (checkpoint 4, steps 5 logged): the resumed run logs 5 and 6
    again, so the dead run's 5 is taken back — the log equals an uninterrupted run's."""
    trainer(tmp_path / "straight", steps=8, **LOGGED).fit()
    want = logged(tmp_path / "straight")
    run = tmp_path / "run"
    with pytest.raises(Crash):
        trainer(run, steps=8, callbacks=[crash_at(6)], **LOGGED).fit()
    assert load_checkpoint(run).step == 4 and logged(run)[-1]["step"] == 5
    Trainer.resume(run, program=tiny_program(), data=tiny_data(), evaluate=evaluate_f,
                   **QUIET).fit()
    assert_logged_once(run, want)


def test_resume_from_an_earlier_checkpoint_takes_back_the_later_log(tmp_path):
    trainer(tmp_path / "straight", steps=6, **LOGGED).fit()
    want = logged(tmp_path / "straight")
    run = tmp_path / "run"
    trainer(run, steps=6, **LOGGED).fit()  # checkpoints 2, 4, 6
    Trainer.resume(run, program=tiny_program(), data=tiny_data(), evaluate=evaluate_f,
                   checkpoint="step-00000002", **QUIET).fit()
    assert_logged_once(run, want)


@pytest.mark.parametrize("crash", [5, 6])
def test_a_torn_last_line_does_not_break_the_resume(tmp_path, crash):
    """The process killed mid-write leaves half a line (of a step past the checkpoint):
    dropped on resume, and the next line starts a line of its own."""
    trainer(tmp_path / "straight", steps=8, **LOGGED).fit()
    want = logged(tmp_path / "straight")
    run = tmp_path / "run"
    with pytest.raises(Crash):
        trainer(run, steps=8, callbacks=[crash_at(crash)], **LOGGED).fit()
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write(f'{{"step": {crash}, "time": 0.1, "loss/tot')
    Trainer.resume(run, program=tiny_program(), data=tiny_data(), evaluate=evaluate_f,
                   **QUIET).fit()
    assert_logged_once(run, want)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit, from tensorboard
def test_resume_purges_the_tensorboard_steps_it_logs_again(tmp_path):
    # tensorboard is in the dev extra: what the README promises runs in CI, never skips
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    trainer(run, steps=6, log_every=1, tensorboard=True).fit()
    Trainer.resume(run, program=tiny_program(), data=tiny_data(), checkpoint="step-00000002",
                   progress=False).fit()
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    assert [e.step for e in events.Scalars("loss/total")] == [1, 2, 3, 4, 5, 6]


# ---------------------------------------------------------------------- what the run writes
def test_run_folder_holds_metrics_samples_report(tmp_path):
    run = tmp_path / "run"
    evaluate = lambda prog: {"f": {"ratio": 0.5}}  # noqa: E731
    t = trainer(run, steps=6, log_every=2, sample_every=3, evaluate=evaluate)
    assert t.fit() == {"f": {"ratio": 0.5}}
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    train = [x for x in lines if "loss/total" in x]
    assert [x["step"] for x in train] == [2, 4, 6]
    for key in ("loss/adv:f", "loss/adv:g", "loss/eq:f.g = id(A)", "loss/eq:g.f = id(B)",
                "loss/critic:A", "loss/critic:B", "loss/critic_total", "lr", "step_time"):
        assert all(key in x for x in train), key
    assert train[-1]["lr"] < train[0]["lr"]  # linear decay in the second half
    assert [x["step"] for x in lines if "eval/f/ratio" in x] == [3, 6]
    for step in (3, 6):
        for ob in ("A", "B"):
            assert (run / "samples" / f"step-{step:08d}" / f"{ob}.png").is_file()
    assert (run / "curves.png").is_file() and (run / "index.html").is_file()
    info = json.loads((run / "run.json").read_text())
    assert info["trainer"]["steps"] == 6 and "schema Tiny" in info["schema"]
    assert [p.name for p in list_checkpoints(run)] == ["step-00000002", "step-00000004",
                                                       "step-00000006"]


def test_keep_last_rotates_checkpoints(tmp_path):
    run = tmp_path / "run"
    trainer(run, steps=10, checkpoint_every=1, keep_last=2).fit()
    assert [p.name for p in list_checkpoints(run)] == ["step-00000009", "step-00000010"]


def test_schedule_is_constant_then_linear_to_zero():
    f = linear_decay(10, 0.6)
    assert [f(s) for s in (0, 5, 6, 8, 10)] == [1.0, 1.0, 1.0, 0.5, 0.0]
    assert linear_decay(10, 1.0)(10) == 1.0


def test_sample_labels_read_as_function_application():
    from category import Schema

    S = Schema.parse("schema T\nobject A, B\nf : A -> B\ng : B -> A\n")
    assert application_label(S.path("f.g")) == "g(f(x))"
    assert application_label(S["A"].id) == "x"


# ---------------------------------------------------------------------- guards
def test_nan_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    run = tmp_path / "run"
    prog = tiny_program()

    def poison(t, step, losses):
        if step == 3:
            with torch.no_grad():
                next(prog.functor.modules[prog.functor.schema["f"]].parameters()).fill_(
                    float("nan"))

    with pytest.raises(TrainingDiverged) as e:
        trainer(run, prog, steps=10, callbacks=[poison]).fit()
    assert "step 4" in str(e.value) and "non-finite" in str(e.value)
    assert "step-00000002" in str(e.value)  # names the checkpoint that is kept
    ck = load_checkpoint(run)
    assert ck.step == 2 and all(torch.isfinite(v).all() for v in ck.weights.values())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_saves_a_checkpoint_and_resume_continues_exactly(tmp_path, sig):
    want = straight(tmp_path, 6)
    run = tmp_path / "run"

    def press(t, step, losses):
        if step == 3:
            os.kill(os.getpid(), sig)

    before = signal.getsignal(sig)
    with pytest.raises(Interrupted) as e:
        trainer(run, steps=6, callbacks=[press]).fit()
    assert e.value.step == 3 and e.value.signal == sig
    assert "--resume" in str(e.value)
    assert load_checkpoint(run).step == 3
    assert signal.getsignal(sig) is before  # the caller's handler is back
    again = tiny_program(init_seed=7)
    Trainer.resume(run, program=again, data=tiny_data(), **QUIET).fit()
    assert_bitwise_equal(parameters(again), want)


# ---------------------------------------------------------------------- bad input
def test_missing_data_for_an_object_the_program_reads(tmp_path):
    with pytest.raises(RunError, match="B: missing"):
        Trainer(tiny_program(), {"A": tiny_data()["A"]}, tmp_path / "r", steps=2, **QUIET)


def test_unknown_object_in_data(tmp_path):
    with pytest.raises(RunError, match="'Zebra' is not an object of schema Tiny"):
        Trainer(tiny_program(), {**tiny_data(), "Zebra": tiny_data()["A"]}, tmp_path / "r",
                steps=2, **QUIET)


def test_source_of_the_wrong_shape(tmp_path):
    data = {**tiny_data(), "B": TensorSource(torch.zeros(16, 3))}
    with pytest.raises(SourceError, match=r"B.*\(2,\).*\(3,\)"):
        Trainer(tiny_program(), data, tmp_path / "r", steps=2, **QUIET)


def test_a_plain_tensor_is_a_source_and_a_dict_is_refused_naming_its_object(tmp_path):
    data = {name: src.tensor for name, src in tiny_data().items()}  # bare tensors
    run = Trainer(tiny_program(), data, tmp_path / "r", steps=2, batch_size=8, **QUIET)
    run.fit()
    assert run.step == 2 and isinstance(run.data["A"], TensorSource)
    with pytest.raises(SourceError, match=r"^source for object B: expected a dataset .*\(dict\)"):
        Trainer(tiny_program(), {**tiny_data(), "B": {0: torch.zeros(2)}}, tmp_path / "d",
                steps=2, **QUIET)


def test_batch_larger_than_a_source(tmp_path):
    with pytest.raises(SourceError, match="64 samples, fewer than the batch size 100"):
        Trainer(tiny_program(), tiny_data(), tmp_path / "r", steps=2, batch_size=100, **QUIET)


@pytest.mark.parametrize("steps", [0, -3, 2.5])
def test_steps_must_be_positive_whole_numbers(tmp_path, steps):
    with pytest.raises(RunError, match="steps must be a positive whole number"):
        Trainer(tiny_program(), tiny_data(), tmp_path / "r", steps=steps, **QUIET)


def test_bf16_needs_cuda(tmp_path):
    with pytest.raises(RunError, match="autocasts on CUDA"):
        Trainer(tiny_program(), tiny_data(), tmp_path / "r", steps=2, precision="bf16",
                **QUIET)


def test_a_non_empty_out_is_never_overwritten(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "precious.txt").write_text("keep me")
    with pytest.raises(RunFolderError, match="not empty: pass --resume"):
        trainer(run, steps=2).fit()
    assert (run / "precious.txt").read_text() == "keep me"


def test_resume_without_a_checkpoint(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(RunFolderError, match="not a run folder"):
        Trainer.resume(run, program=tiny_program(), data=tiny_data(), **QUIET)
    run.mkdir()
    (run / "run.json").write_text("{}")
    with pytest.raises(RunFolderError, match="records no trainer settings"):
        Trainer.resume(run, program=tiny_program(), data=tiny_data(), **QUIET)
    other = tmp_path / "other"
    trainer(other, steps=2).fit()
    shutil.rmtree(other / "checkpoints")
    with pytest.raises(CheckpointError, match="no checkpoint to resume from"):
        Trainer.resume(other, program=tiny_program(), data=tiny_data(), **QUIET).fit()


def test_checkpoint_of_another_functor_is_refused(tmp_path):
    run = tmp_path / "run"
    trainer(run, steps=2).fit()
    wider = tiny_program(width=16)
    with pytest.raises(CheckpointError) as e:
        Trainer.resume(run, program=wider, data=tiny_data(), steps=4, **QUIET).fit()
    text = str(e.value)
    assert "another schema, functor or network shape" in text
    assert "arrow/f" in text and "[8, 2]" in text and "[16, 2]" in text


def test_resume_of_a_python_run_needs_its_program(tmp_path):
    run = tmp_path / "run"
    trainer(run, steps=2).fit()
    with pytest.raises(RunFolderError, match="pass Trainer.resume"):
        Trainer.resume(run)


# ---------------------------------------------------------------------- issue 19: settings
def test_zero_means_never_for_grids_and_periodic_checkpoints(tmp_path):
    seen = []
    t = trainer(tmp_path / "run", steps=6, sample_every=0, checkpoint_every=0,
                evaluate=lambda prog: seen.append(1) or {"f": {"x": 1.0}})
    assert (t.sample_every, t.checkpoint_every) == (0, 0)
    t.fit()
    assert not (tmp_path / "run" / "samples").exists()  # no grid at all
    assert [p.name for p in list_checkpoints(tmp_path / "run")] == ["step-00000006"]  # final
    assert seen == [1]  # the evaluation still runs once, at the last step
    assert json.loads((tmp_path / "run" / "run.json").read_text())["trainer"]["sample_every"] == 0


def test_left_out_periods_take_the_defaults(tmp_path):
    t = trainer(tmp_path / "run", steps=40, sample_every=None, checkpoint_every=None)
    assert (t.sample_every, t.checkpoint_every) == (4, 10)


@pytest.mark.parametrize("bad", [{"sample_every": -1}, {"checkpoint_every": 2.5},
                                 {"seed": "abc"}, {"seed": 1.0}, {"seed": True},
                                 {"max_grad_norm": "1"}, {"max_grad_norm": 0}])
def test_wrong_settings_name_the_setting(tmp_path, bad):
    (name, value), = bad.items()
    with pytest.raises(RunError, match=rf"^{name} must be .*got {value!r}"):
        trainer(tmp_path / "run", **bad)


def test_fit_twice_continues_the_same_run(tmp_path):
    t = trainer(tmp_path / "run", steps=6)
    t.fit(until=3)
    t.fit()
    assert t.step == 6 and load_checkpoint(tmp_path / "run").step == 6


# ---------------------------------------------------------------------- issue 19: run folders
def test_a_run_folder_held_by_another_process_is_refused(tmp_path):
    """The claim is a kernel lock: a second writer, fresh or resuming, meets it."""
    import subprocess
    import sys

    run = tmp_path / "run"
    trainer(run, steps=2).fit()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from runtime.train.run_folder import claim; "
         "c = claim(sys.argv[1], resume=True); print('held', flush=True); sys.stdin.read()",
         str(run)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunFolderError, match=rf"being written by another process "
                                                 rf"\(pid {holder.pid}\)"):
            Trainer.resume(run, program=tiny_program(), data=tiny_data(), steps=4,
                           **QUIET).fit()
    finally:
        holder.communicate("")
    # the holder is gone (and with it its lock): the run resumes
    Trainer.resume(run, program=tiny_program(), data=tiny_data(), steps=4, **QUIET).fit()
    assert load_checkpoint(run).step == 4


CONCURRENT = """
import sys
from runtime import Trainer
from runtime.errors import RunFolderError
sys.path.insert(0, sys.argv[2])
from tests.runtime.runtime_fixtures import tiny_data, tiny_program
t = Trainer(tiny_program(), tiny_data(), sys.argv[1], steps=3, batch_size=8,
            checkpoint_every=1, progress=False, tensorboard=False)
sys.stdout.write("ready\\n"); sys.stdout.flush(); sys.stdin.readline()
try:
    t.fit()
    print("trained")
except RunFolderError as e:
    print("refused:", e)
"""


def test_two_runs_started_together_on_one_folder(tmp_path):
    """Both pass every check up to the start, then start at the same instant: exactly one
    trains, the other is refused, and the run is whole (repeated: a race)."""
    import subprocess
    import sys
    from pathlib import Path

    repo = str(Path(__file__).resolve().parents[2])
    for attempt in range(4):
        run = tmp_path / f"run{attempt}"
        procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(run), repo],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                 for _ in range(2)]
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        outs = sorted(p.communicate()[0].strip() for p in procs)
        assert outs[1] == "trained", outs
        assert outs[0].startswith("refused:") and ("another process" in outs[0]
                                                   or "not empty" in outs[0]), outs
        assert load_checkpoint(run).step == 3
        assert len(logged(run)) == len([line for line in logged(run) if "step" in line])


def test_a_run_that_died_before_its_first_checkpoint_is_taken_over(tmp_path, capsys):
    run = tmp_path / "run"
    with pytest.raises(Crash):  # dies at step 1: run.json, no checkpoint
        trainer(run, steps=4, callbacks=[crash_at(1)]).fit()
    assert (run / "run.json").is_file() and not list_checkpoints(run)
    trainer(run, steps=2).fit()
    assert "takes the folder over" in capsys.readouterr().err
    assert load_checkpoint(run).step == 2


def test_a_run_with_foreign_files_is_not_taken_over(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(Crash):
        trainer(run, steps=4, callbacks=[crash_at(1)]).fit()
    (run / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="not empty"):
        trainer(run, steps=2).fit()
    assert (run / "notes.txt").read_text() == "mine"


def test_run_json_that_is_not_an_object(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text("[]")
    with pytest.raises(RunFolderError, match="holds a JSON list, not the object"):
        Trainer.resume(run, program=tiny_program(), data=tiny_data(), **QUIET)
