"""compile_functor's options: checked in one place, every problem listed."""

import pytest
from compiler_fixtures import cyclegan, cyclegan_functor
from torch import nn

from compiler import CompileOptions, FunctorError, compile_functor


def test_every_bad_option_is_listed_with_how_to_fix_it():
    with pytest.raises(FunctorError) as e:
        CompileOptions(adversarial="lsgn", distance="l3", backend="inductr", fake_pool=1.5,
                       gp_weight=-1, r1_gamma=float("nan"), lr=0, equation_weight="10",
                       data_objects="Horse", bind=[2], priors=("normal",), fuse="yes",
                       critic_optimizer="adam", compile_options=3)
    text = "\n".join(e.value.problems)
    assert len(e.value.problems) == 14, text
    for needle in ["unknown adversarial loss 'lsgn' (did you mean 'lsgan'?); choose one of",
                   "unknown distance 'l3'; choose one of l1, l2",
                   "unknown backend 'inductr'; use 'inductor'",
                   "fake_pool must be an integer ≥ 0", "gp_weight must be a finite number ≥ 0",
                   "r1_gamma must be a finite number ≥ 0, got nan",
                   "lr must be a finite number > 0, got 0",
                   "equation_weight must be a finite number ≥ 0, got '10'",
                   "data_objects must be a list of objects or their names (or None: every "
                   "object), got str: write ['Horse']",
                   "bind must be a mapping {symbol or its name: int}, got list: pair each",
                   "priors must be a mapping", "fuse must be True, False, None",
                   "critic_optimizer must be a factory parameters → torch.optim.Optimizer",
                   "compile_options must be a mapping"]:
        assert needle in text, needle


def test_options_are_frozen_and_resolved():
    o = CompileOptions(adversarial="wgan-gp", gp_weight=5, data_objects=iter(["Horse"]))
    assert o.data_objects == ("Horse",) and o.gp_weight == 5.0
    assert o.regulariser.name == "gp" and o.regulariser_weight == 5.0
    assert CompileOptions().regulariser is None and CompileOptions().regulariser_weight == 0
    with pytest.raises(AttributeError):
        o.adversarial = "lsgan"


def test_lenient_keeps_the_good_options_and_lists_the_bad():
    o, problems = CompileOptions.lenient(adversarial="hinge", fake_pool=-2, lr=1e-3)
    assert (o.adversarial, o.fake_pool, o.lr) == ("hinge", 0, 1e-3)
    assert len(problems) == 1 and problems[0].startswith("fake_pool must be")


def test_compile_lists_bad_options_with_the_functors_problems():
    F, critics = cyclegan_functor()
    with pytest.raises(FunctorError) as e:
        compile_functor(F, critics={"Horse": critics["Horse"], "Zebra": nn.Linear(3, 1)},
                        adversarial="wgan", fake_pool=-1, backend="eager")
    text = "\n".join(e.value.problems)
    assert "unknown adversarial loss 'wgan' (did you mean 'wgan-gp'?)" in text
    assert "fake_pool must be" in text and "critic for Zebra" in text
    assert len(e.value.problems) == 3


def test_the_keywords_of_compile_functor_are_the_options():
    import inspect

    from compiler.options import CompileOptions as Options
    keywords = [p for p in inspect.signature(compile_functor).parameters
                if p not in ("F", "critics")]
    assert keywords == [f for f in Options.__dataclass_fields__]
    assert cyclegan(optimizer=None, critic_optimizer=None).optimizers
