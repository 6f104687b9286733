import pytest
import torch

from runtime.errors import ExperimentError
from runtime.experiment import BUILTIN, Experiment, load, prepare


def test_builtin_experiments_load_and_build():
    for name in BUILTIN:
        module, ref = load(name)
        assert ref == name and callable(module.build)
    exp, program = prepare("gaussians", device="cpu", seed=3)
    assert isinstance(exp, Experiment) and exp.schema.name == "Gaussians"
    assert program.device == torch.device("cpu")
    assert set(exp.evaluate(program)) == {"f", "g"}


def test_the_seed_fixes_the_initial_networks():
    a = prepare("gaussians", seed=1)[0].functor.modules
    b = prepare("gaussians", seed=1)[0].functor.modules
    c = prepare("gaussians", seed=2)[0].functor.modules
    first = lambda ms: next(iter(ms.values()))[0].weight  # noqa: E731
    assert torch.equal(first(a), first(b)) and not torch.equal(first(a), first(c))


def test_unknown_experiment_lists_the_known_ones():
    with pytest.raises(ExperimentError, match="unknown experiment 'fontz'; built-in: fonts"):
        load("fontz")


def test_a_file_without_build(tmp_path):
    f = tmp_path / "nobuild.py"
    f.write_text("x = 1\n")
    with pytest.raises(ExperimentError, match="has no build\\(options\\) function"):
        load(str(f))


def test_a_file_that_fails_to_import(tmp_path):
    f = tmp_path / "broken.py"
    f.write_text("import not_a_module_anywhere\n")
    with pytest.raises(ExperimentError, match="importing experiment .* failed: "
                                              "ModuleNotFoundError"):
        load(str(f))


def test_build_must_return_an_experiment(tmp_path):
    f = tmp_path / "wrong.py"
    f.write_text("def build(options):\n    return {'functor': None}\n")
    with pytest.raises(ExperimentError, match="must return a runtime.Experiment, got dict"):
        prepare(str(f))


def test_missing_file(tmp_path):
    with pytest.raises(ExperimentError, match="does not exist"):
        load(str(tmp_path / "absent.py"))
