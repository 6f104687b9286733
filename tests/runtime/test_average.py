"""The moving average of the arrows' weights (``ema``): what it averages, where it is
used, how it is saved and resumed, and how a finished run yields it."""

from pathlib import Path

import numpy as np
import pytest
import torch

from runtime import Trainer
from runtime.cli import main
from runtime.errors import RunError
from runtime.train import TrainOptions
from runtime.train.average import PREFIX, WeightAverage
from runtime.train.checkpoint import load_checkpoint
from runtime.train.run_folder import open_run

from .runtime_fixtures import assert_bitwise_equal, parameters, tiny_data, tiny_program

QUIET = {"progress": False, "tensorboard": False}
TINY = str(Path(__file__).with_name("tiny_paths_experiment.py"))


def arrows(program) -> dict[str, torch.Tensor]:
    return {k: v for k, v in parameters(program).items() if not k.startswith("critic")}


def averaged(run: Path) -> dict[str, torch.Tensor]:
    """The last checkpoint's average, keyed as ``parameters`` keys the arrows."""
    ck = load_checkpoint(run)
    return {k[len(PREFIX) + len("arrow/"):]: v for k, v in ck.weights.items()
            if k.startswith(PREFIX)}


def test_the_average_is_the_moving_average_of_the_arrows_live_weights(tmp_path):
    """After each step, average ← β·average + (1 − β)·live, from the initial weights; the
    critics are not averaged."""
    beta, program = 0.6, tiny_program()
    want = arrows(program)
    seen = []
    Trainer(program, tiny_data(), tmp_path / "run", steps=5, batch_size=8, ema=beta,
            callbacks=[lambda tr, step, losses: seen.append(arrows(tr.program))],
            **QUIET).fit()
    for live in seen:
        want = {k: beta * want[k] + (1 - beta) * live[k] for k in want}
    got = averaged(tmp_path / "run")
    assert got.keys() == want.keys()
    for k in want:
        torch.testing.assert_close(got[k], want[k], rtol=1e-6, atol=1e-6)
        assert not torch.allclose(got[k], seen[-1][k])  # an average, not the last weights
    assert not any(k.startswith(PREFIX + "critic") for k in load_checkpoint(tmp_path / "run")
                   .weights)


def test_the_evaluation_sees_the_average_and_training_goes_on_from_the_live_weights(tmp_path):
    program, plain = tiny_program(), tiny_program()
    evaluated = []

    def evaluate(prog):
        evaluated.append(arrows(prog))
        return {"row": {"value": 0.0}}

    Trainer(program, tiny_data(), tmp_path / "avg", steps=6, batch_size=8, ema=0.5,
            sample_every=3, evaluate=evaluate, **QUIET).fit()
    Trainer(plain, tiny_data(), tmp_path / "plain", steps=6, batch_size=8, sample_every=3,
            **QUIET).fit()
    # keeping an average changes nothing the optimizer does
    assert_bitwise_equal(parameters(program), parameters(plain))
    assert len(evaluated) == 2  # steps 3 and 6
    assert_bitwise_equal(evaluated[-1], averaged(tmp_path / "avg"))
    assert not torch.equal(evaluated[-1]["f/0.weight"], arrows(program)["f/0.weight"])
    # the run's page says whose evaluation it shows
    assert "moving average of the arrows" in (tmp_path / "avg" / "index.html").read_text()


def test_a_resume_restores_the_average_exactly(tmp_path):
    straight = tiny_program()
    Trainer(straight, tiny_data(), tmp_path / "straight", steps=10, batch_size=8, ema=0.8,
            **QUIET).fit()
    Trainer(tiny_program(), tiny_data(), tmp_path / "run", steps=10, batch_size=8, ema=0.8,
            checkpoint_every=5, **QUIET).fit(until=5)
    again = tiny_program(init_seed=7)
    Trainer.resume(tmp_path / "run", program=again, data=tiny_data(), **QUIET).fit()
    assert_bitwise_equal(parameters(again), parameters(straight))
    assert_bitwise_equal(averaged(tmp_path / "run"), averaged(tmp_path / "straight"))


def test_a_run_resumed_with_an_average_it_lacked_starts_it_at_the_resumed_weights(tmp_path):
    Trainer(tiny_program(), tiny_data(), tmp_path / "run", steps=10, batch_size=8,
            **QUIET).fit(until=5)
    resumed = tmp_path / "run"
    start = {}  # the live weights after the first resumed step
    Trainer.resume(resumed, program=tiny_program(init_seed=3), data=tiny_data(), ema=0.5,
                   callbacks=[lambda tr, step, losses: start or start.update(arrows(tr.program))],
                   **QUIET).fit(until=6)
    ck5 = load_checkpoint(resumed, "step-00000005").weights
    first = {k[len("arrow/"):]: 0.5 * v + 0.5 * start[k[len("arrow/"):]]
             for k, v in ck5.items() if k.startswith("arrow/")}
    got = averaged(resumed)
    for k in first:
        torch.testing.assert_close(got[k], first[k])


@pytest.mark.parametrize("beta", [1.0, -0.1, 1.5, "0.9", True])
def test_a_decay_outside_0_to_1_is_refused_naming_the_setting(beta):
    with pytest.raises(RunError, match=r"ema must be a decay per step in \[0, 1\)"):
        TrainOptions(steps=5, ema=beta)
    with pytest.raises(RunError, match="beta must be in"):
        WeightAverage({}, beta=1.0)


@pytest.fixture(scope="module")
def ema_run(tmp_path_factory) -> Path:
    """A run of the tiny paths experiment (``cdl train --ema 0.5``), 3 steps."""
    out = tmp_path_factory.mktemp("ema") / "run"
    assert main(["train", TINY, "--steps", "3", "--ema", "0.5", "--backend", "eager",
                 "--out", str(out), "--no-progress", "--no-tensorboard"]) == 0
    return out


def test_a_finished_run_yields_its_average_and_live_weights_on_request(ema_run, capsys):
    out = ema_run
    ck = load_checkpoint(out)
    kept = {k[len(PREFIX):]: v for k, v in ck.weights.items() if k.startswith(PREFIX)}
    assert kept and all(k.startswith("arrow/") for k in kept)
    _, program, _ = open_run(out, forward_only=True)
    _, live, _ = open_run(out, forward_only=True, live=True)
    yielded = {f"arrow/{a.name}/{k}": v for a, m in program.functor.modules.items()
               for k, v in m.state_dict().items()}
    trained = {f"arrow/{a.name}/{k}": v for a, m in live.functor.modules.items()
               for k, v in m.state_dict().items()}
    for k, v in kept.items():
        assert torch.equal(yielded[k], v)
        assert torch.equal(trained[k], ck.weights[k])
    assert any(not torch.equal(ck.weights[k], v) for k, v in kept.items())
    # --ema changes how a run trains: a resume refuses it
    capsys.readouterr()
    assert main(["train", "--resume", "--out", str(out), "--steps", "5", "--ema", "0.9"]) != 0
    assert "--ema" in capsys.readouterr().err


def test_cdl_apply_runs_the_average_and_the_live_weights_with_live(ema_run, tmp_path,
                                                                    capsys):
    out = ema_run
    x = torch.rand(5, 3, 8, 8) * 2 - 1
    np.save(tmp_path / "x.npy", x.numpy())
    for flags, live in (([], False), (["--live"], True)):
        target = tmp_path / f"h-{live}.npy"
        capsys.readouterr()
        assert main(["apply", str(out), "h", str(tmp_path / "x.npy"), "-o", str(target),
                     *flags]) == 0
        # the message says when the output is the average's, not what --live gives
        assert ("moving average" in capsys.readouterr().out) is not live
        _, program, _ = open_run(out, forward_only=True, live=live)
        with torch.no_grad():
            want = program.functor(program.functor.schema.path("h"))(x)
        torch.testing.assert_close(torch.from_numpy(np.load(target)), want)
    assert not np.allclose(np.load(tmp_path / "h-False.npy"),
                              np.load(tmp_path / "h-True.npy"))


def test_networks_without_weights_have_an_empty_average():
    average = WeightAverage({"arrow/f": torch.nn.ReLU()}, beta=0.9)
    average.update()
    with average.applied():
        pass
    assert average.weights() == {} and average.load({}, "nowhere") is False
