"""Warm starts along schema maps (`cdl train --init RUN --along MAP`, `init_along`): the
new arrows start from copies of a trained run's networks, the old run is never touched,
and the pairs, the composite rule and the bad pairs behave as documented."""

import hashlib
import json
from pathlib import Path

import pytest
import torch

from compiler import PathModule
from runtime.cli import main
from runtime.experiments import prepare
from runtime.train.checkpoint import load_checkpoint
from runtime.train.warm_start import init_along, init_pairs

GAUSSIANS = "schema Gaussians\nobject A, B\nf : A -> B\ng : B -> A\nf.g = id(A)\ng.f = id(B)\n"
WARM = "schema Warm\nobject A, B, C\nab : A -> B\nbc : B -> C\nac : A -> C\nab.bc = ac\n"

# a triangle over the gaussians' plane; SGD at lr 0, so that a step leaves the start as it was;
# bc's network is narrower than the gaussians' (another architecture)
EXPERIMENT = f'''
import torch
from category import Schema
from compiler import Euclid, Functor
from runtime import Experiment
from runtime.experiments.gaussians import mlp
from runtime.sources import TensorSource


def still(groups):
    return torch.optim.SGD(groups, lr=0.0)


def build(options):
    S = Schema.parse({WARM!r})
    gen = torch.Generator().manual_seed(options.seed)
    data = {{o: TensorSource(torch.randn(64, 2, generator=gen) + i)
            for i, o in enumerate(S.objects())}}
    F = Functor(S, ob={{o: Euclid(2) for o in S.objects()}},
                ar={{"ab": mlp(2, 2), "bc": mlp(2, 2, 16), "ac": mlp(2, 2)}})
    held = torch.randn(32, 2, generator=gen)

    def evaluate(program):
        return {{"triangle": {{"residual": F.residual("ab.bc", "ac", held)}}}}

    return Experiment(functor=F, critics={{"B": mlp(2, 1), "C": mlp(2, 1)}}, data=data,
                      evaluate=evaluate, compile={{"backend": "eager", "optimizer": still}},
                      train={{"steps": 1, "batch_size": 16}})
'''

MAPS = {  # Warm -> Gaussians, each a functor
    "merge": "ob A -> A\nob B -> B\nob C -> B\nar ab -> f\nar bc -> id(B)\nar ac -> f\n",
    "slant": "ob A -> A\nob B -> A\nob C -> B\nar ab -> id(A)\nar bc -> f\nar ac -> f\n",
    "long": "ob A -> A\nob B -> A\nob C -> B\nar ab -> f.g\nar bc -> f\nar ac -> f.g.f\n",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Two trained gaussians runs (seeds 0 and 1, two steps), the experiment file and the
    maps."""
    root = tmp_path_factory.mktemp("warm")
    for seed in (0, 1):
        assert main(["train", "gaussians", "--steps", "2", "--seed", str(seed),
                     "--out", str(root / f"old{seed}")]) == 0
    (root / "warm.py").write_text(EXPERIMENT)
    for name, body in MAPS.items():
        (root / f"{name}.map").write_text(f"{WARM}\n{GAUSSIANS}\nmap {name.title()} : "
                                          f"Warm -> Gaussians\n{body}")
    return root


def hashes(run: Path) -> dict[str, str]:
    return {str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run.rglob("*")) if p.is_file()}


def old_weights(run: Path, arrow: str) -> dict[str, torch.Tensor]:
    w = load_checkpoint(run).weights
    return {k.split("/", 2)[2]: v for k, v in w.items() if k.startswith(f"arrow/{arrow}/")}


def assert_same(module: torch.nn.Module, weights: dict[str, torch.Tensor]) -> None:
    sd = module.state_dict()
    assert sd.keys() == weights.keys()
    assert all(torch.equal(sd[k], weights[k]) for k in sd)


def test_init_along_copies_the_paths_networks_and_leaves_the_run_alone(world):
    old = world / "old0"
    before = hashes(old)
    exp, _ = prepare(str(world / "warm.py"))
    F = exp.functor
    report = init_along(F, old, world / "long.map")
    f, g = old_weights(old, "f"), old_weights(old, "g")
    assert {a: (s.path, s.how) for a, s in report.arrows.items()} == {
        "ab": ("f.g", "path"), "bc": ("f", "module"), "ac": ("f.g.f", "path")}
    ab, ac = F.modules["ab"], F.modules["ac"]
    assert isinstance(ab, PathModule) and [len(ab.steps), len(ac.steps)] == [2, 3]
    assert_same(ab.steps[0], f) and assert_same(ab.steps[1], g)
    assert_same(F.modules["bc"], f)  # another architecture: a copy of f replaces it
    assert ac.steps[0] is ac.steps[2] and ac.steps[0] is not ab.steps[0]  # f once, copied
    for p in F.modules["bc"].parameters():  # the copies train on their own
        p.data.add_(1.0)
    assert hashes(old) == before
    assert report.record()["pairs"][0]["step"] == 2 and report.fresh == ()


def test_two_runs_a_later_pair_wins_and_the_composite_rule_closes_the_triangle(world):
    exp, _ = prepare(str(world / "warm.py"))
    F = exp.functor
    merge_only = init_along(F, world / "old0", world / "merge.map")
    assert merge_only.fresh == ("bc",) and "sent to an identity" in "\n".join(
        merge_only.lines())
    exp, _ = prepare(str(world / "warm.py"))
    F = exp.functor
    report = init_pairs(F, [(world / "old0", world / "merge.map"),
                            (world / "old1", world / "slant.map")])
    assert {a: (s.pair, s.path, s.how) for a, s in report.arrows.items()} == {
        "ab": (0, "f", "weights"), "bc": (1, "f", "module"), "ac": (None, "ab.bc", "composite")}
    assert_same(F.modules["ab"], old_weights(world / "old0", "f"))
    assert_same(F.modules["bc"], old_weights(world / "old1", "f"))
    x = torch.randn(16, 2)
    assert F.residual("ab.bc", "ac", x) == 0.0  # the equation holds exactly at step 0
    assert F.modules["ac"].steps[0] is not F.modules["ab"]  # copies, not ab itself
    assert "ab.bc = ac" in "\n".join(report.lines())


def test_cli_init_along_records_trains_resumes_and_evaluates(world, tmp_path, capsys):
    olds = [world / "old0", world / "old1"]
    before = [hashes(o) for o in olds]
    new = tmp_path / "new"
    code = main(["train", str(world / "warm.py"), "--out", str(new),
                 "--init", str(olds[0]), "--along", str(world / "merge.map"),
                 "--init", str(olds[1]), "--along", str(world / "slant.map")])
    err = capsys.readouterr().err
    assert code == 0 and "warm start from 2 runs" in err and "ac <- ab.bc" in err
    warm = json.loads((new / "run.json").read_text())["warm_start"]
    assert [p["run"] for p in warm["pairs"]] == [str(o.resolve()) for o in olds]
    assert warm["pairs"][1]["map_text"] == (world / "slant.map").read_text()
    assert warm["pairs"][0]["checkpoint"] == "step-00000002"
    assert warm["arrows"]["ac"] == {"from": "composite", "path": "ab.bc", "how": "composite",
                                    "equation": "ab.bc = ac"}
    # lr 0: the first step leaves the copied weights as they started
    w = load_checkpoint(new).weights
    for k, v in old_weights(olds[0], "f").items():
        assert torch.equal(w[f"arrow/ab/{k}"], v) and torch.equal(w[f"arrow/ac/steps.0.{k}"], v)
    assert [hashes(o) for o in olds] == before
    # the replaced networks are rebuilt for eval and resume
    assert main(["eval", str(new)]) == 0 and "residual" in capsys.readouterr().out
    assert main(["train", "--resume", "--out", str(new), "--steps", "2"]) == 0


@pytest.mark.parametrize("flags, message", [
    (["--init", "{old}"], "--init {old} has no --along MAP"),
    (["--along", "{map}"], "has no --init RUN"),
    (["--init", "{old}", "--along", "examples/involution_cyclegan.map"],
     "--along examples/involution_cyclegan.map maps Involution -> CycleGAN, but this run's "
     "schema is Warm: a warm start needs a map from Warm"),
    (["--init", "{old}", "--along", "{other}"],
     "maps Warm -> Other, but --init {old} trained Gaussians"),
])
def test_bad_pairs_are_one_line_errors(world, tmp_path, capsys, flags, message):
    other = tmp_path / "other.map"
    other.write_text(f"{WARM}\nschema Other\nobject A, B\nf : A -> B\nmap M : Warm -> Other\n"
                     "ob A -> A\nob B -> B\nob C -> B\nar ab -> f\nar bc -> id(B)\n"
                     "ar ac -> f\n")
    fill = {"old": str(world / "old0"), "map": str(world / "merge.map"), "other": str(other)}
    code = main(["train", str(world / "warm.py"), "--out", str(tmp_path / "new"),
                 *[f.format(**fill) for f in flags]])
    err = capsys.readouterr().err
    assert code == 1 and message.format(**fill) in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "new").exists()


def test_a_resumed_run_refuses_init(world, capsys):
    code = main(["train", "--resume", "--out", str(world / "old0"), "--init", "x"])
    assert code == 1 and "--init cannot change" in capsys.readouterr().err
