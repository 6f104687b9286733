import pytest
import torch

from runtime.errors import ExperimentError
from runtime.experiments import BUILTIN, Experiment, Options, describe, load, prepare


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


def test_an_old_name_and_a_variant_load():
    module, ref = load("fonts")  # the default's earlier name: older run folders still open
    assert ref == "cyclegan_fonts" and module.__name__.endswith("cyclegan_fonts")
    variant, ref = load("cyclegan_fonts_serif")
    assert ref == "cyclegan_fonts_serif" and "Serif" in describe(ref)
    exp = variant.build(Options(torch.device("cpu")))
    assert [o.name for o in exp.schema.objects()] == ["Sans", "Serif"]


def test_unknown_experiment_lists_the_known_ones():
    with pytest.raises(ExperimentError, match="unknown experiment 'fontz'; built-in: cyclegan"):
        load("fontz")


@pytest.mark.parametrize("text, step, message", [
    ("x = 1\n", load, "has no build\\(options\\) function"),
    ("import not_a_module_anywhere\n", load,
     "importing experiment .* failed: ModuleNotFoundError"),
    ("def build(options):\n    return {'functor': None}\n", prepare,
     "must return a runtime.Experiment, got dict"),
    ("def build():\n    return None\n", prepare,
     r"build must take one argument, the options .* but it is build\(\)"),
    ("def build(options):\n    x = 1\n    return {}['missing']\n", prepare,
     r"build\(options\) failed at .*mine.py, line 3: KeyError: 'missing'"),
])
def test_a_broken_experiment_file_is_named(tmp_path, text, step, message):
    f = tmp_path / "mine.py"
    f.write_text(text)
    with pytest.raises(ExperimentError, match=message):
        step(str(f))


def test_missing_file(tmp_path):
    with pytest.raises(ExperimentError, match="does not exist"):
        load(str(tmp_path / "absent.py"))
