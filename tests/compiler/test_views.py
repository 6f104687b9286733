"""The program's view of the user's modules: honoured changes and refused ones."""

import pytest
import torch
from compiler_fixtures import cyclegan, cyclegan_batch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from compiler import CompilerError

ENTRIES = ["step", "critic_step", "generator_losses", "critic_losses"]
TARGETS = ["f", "g", "Horse", "Zebra"]  # two arrows, two critics


def module(prog, target: str) -> nn.Module:
    S = prog.functor.schema
    if target in ("f", "g"):
        return prog.functor.modules[S[target]]
    return prog.critics[target]


def label(target: str) -> str:
    return f"arrow {target}" if target in ("f", "g") else f"critic for {target}"


def run(prog, entry: str, batch) -> None:
    if entry in ("step", "critic_step"):
        getattr(prog, entry)(batch)
    else:
        getattr(prog, entry)(batch)["total"].backward()


def snapshot(prog) -> dict[tuple[str, str], torch.Tensor]:
    return {(t, n): p.detach().clone() for t in TARGETS
            for n, p in module(prog, t).named_parameters()}


@pytest.mark.parametrize("fuse", [None, False])
@pytest.mark.parametrize("entry", ENTRIES)
def test_reloading_with_assign_is_refused_naming_the_module(fuse, entry):
    prog = cyclegan(fuse=fuse)
    f = module(prog, "f")
    f.load_state_dict({k: v.clone() for k, v in f.state_dict().items()}, assign=True)
    with pytest.raises(CompilerError, match=r"arrow f: parameter '0.weight' was replaced.*"
                                            r"assign=True.*compile the functor again"):
        run(prog, entry, cyclegan_batch())


@pytest.mark.parametrize("fuse", [None, False])
@pytest.mark.parametrize("entry", ENTRIES)
def test_replacing_a_submodule_is_refused_naming_it(fuse, entry):
    prog = cyclegan(fuse=fuse)
    module(prog, "Zebra")[2] = nn.Linear(16, 1)
    with pytest.raises(CompilerError, match=r"critic for Zebra: submodule '2' was replaced "
                                            r"after compile_functor \(now Linear\)"):
        run(prog, entry, cyclegan_batch())


@pytest.mark.parametrize("fuse", [None, False])
@pytest.mark.parametrize("entry", ENTRIES)
def test_changing_a_modules_dtype_is_refused_at_every_entry_point(fuse, entry):
    prog = cyclegan(fuse=fuse)
    module(prog, "g").to(torch.float64)
    with pytest.raises(CompilerError, match=r"arrow g: .*compile the functor again"):
        run(prog, entry, cyclegan_batch())


@pytest.mark.parametrize("fuse", [None, False])
@pytest.mark.parametrize("clip", [None, 0.5])
def test_freezing_after_compile_is_honoured_by_step(fuse, clip):
    prog = cyclegan(fuse=fuse)
    batch = cyclegan_batch()
    prog.step(batch)  # the optimizer has momentum for every parameter now
    f, horse = module(prog, "f"), module(prog, "Horse")
    f.requires_grad_(False)
    horse[0].weight.requires_grad_(False)
    before = snapshot(prog)
    for _ in range(2):
        prog.step(batch, max_grad_norm=clip)
        prog.critic_step(batch, max_grad_norm=clip)
    after = snapshot(prog)
    frozen = {("f", n) for n, _ in f.named_parameters()} | {("Horse", "0.weight")}
    for k in before:
        assert torch.equal(before[k], after[k]) == (k in frozen), k
    f.requires_grad_(True)  # unfreezing: trained again
    prog.step(batch)
    assert not torch.equal(f[0].weight, after["f", "0.weight"])


def test_freezing_is_honoured_by_the_users_own_loop():
    prog = cyclegan()
    module(prog, "g")[0].weight.requires_grad_(False)
    prog.generator_losses(cyclegan_batch())["total"].backward()
    g, f = module(prog, "g"), module(prog, "f")
    assert g[0].weight.grad is None and g[0].bias.grad is not None
    assert all(p.grad is not None for p in f.parameters())


def test_every_parameter_frozen_is_a_step_that_changes_nothing():
    prog = cyclegan(fuse=False)
    for t in TARGETS:
        module(prog, t).requires_grad_(False)
    before = snapshot(prog)
    prog.step(cyclegan_batch())
    prog.critic_step(cyclegan_batch())
    assert all(torch.equal(v, snapshot(prog)[k]) for k, v in before.items())


def test_plain_load_state_dict_is_followed():
    prog = cyclegan()
    f = module(prog, "f")
    new = {k: torch.full_like(v, 0.1) for k, v in f.state_dict().items()}
    f.load_state_dict(new)
    bank = prog.arrow_banks.banks[0]
    assert torch.equal(bank.stacks[0][bank.index(f)], new["0.weight"])
    prog.step(cyclegan_batch())  # no error: the program trains the loaded values
    assert not torch.equal(f[0].weight, new["0.weight"])


# --------------------------------------------------------------------- property
MISUSE = st.sampled_from(["freeze", "unfreeze", "load", "noop", "data",
                          "assign", "replace", "redtype", "new_param", "data_dtype"])
REFUSED = {"assign", "replace", "redtype", "new_param", "data_dtype"}


def misuse(prog, what: str, target: str, which: int) -> None:
    m = module(prog, target)
    params = list(m.parameters())
    if what == "freeze":
        params[which % len(params)].requires_grad_(False)
    elif what == "unfreeze":
        params[which % len(params)].requires_grad_(True)
    elif what == "load":
        m.load_state_dict({k: v * 0.9 for k, v in m.state_dict().items()})
    elif what == "assign":
        m.load_state_dict({k: v.clone() for k, v in m.state_dict().items()}, assign=True)
    elif what == "replace":
        m[0] = nn.Linear(m[0].in_features, m[0].out_features)
    elif what == "redtype":
        m.to(torch.float64)
    elif what == "new_param":
        m[2].weight = nn.Parameter(m[2].weight.detach().clone())
    elif what == "data":  # new storage, same shape, dtype and device: followed
        p = params[which % len(params)]
        p.data = p.detach() * 0.9
    elif what == "data_dtype":
        p = params[which % len(params)]
        p.data = p.detach().double()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fuse=st.sampled_from([None, False]),
       moves=st.lists(st.tuples(MISUSE, st.sampled_from(TARGETS), st.integers(0, 3),
                                st.sampled_from(ENTRIES)), min_size=1, max_size=6))
def test_every_step_trains_the_modules_as_they_are_or_names_the_one_that_changed(fuse, moves):
    prog = cyclegan(fuse=fuse)
    batch = cyclegan_batch(n=4)
    for what, target, which, entry in moves:
        misuse(prog, what, target, which)
        for t in TARGETS:
            module(prog, t).zero_grad(set_to_none=True)
        before = snapshot(prog)
        if what in REFUSED:
            with pytest.raises(CompilerError, match=f"{label(target)}: "):
                run(prog, entry, batch)
            assert all(torch.equal(v, snapshot(prog)[k]) for k, v in before.items())
            with pytest.raises(CompilerError, match=f"{label(target)}: "):  # and stays so
                prog.step(batch)
            return
        run(prog, entry, batch)
        after = snapshot(prog)
        updated = {"step": TARGETS, "critic_step": ["Horse", "Zebra"]}.get(entry, [])
        graded = {"generator_losses": ["f", "g"], "critic_losses": ["Horse", "Zebra"]}.get(
            entry, [])
        for t in TARGETS:
            for n, p in module(prog, t).named_parameters():
                trained = p.requires_grad and t in updated
                assert torch.equal(before[t, n], after[t, n]) != trained, (t, n)
                if entry in ("generator_losses", "critic_losses"):
                    has_grad = p.grad is not None and bool(p.grad.abs().sum() > 0)
                    assert has_grad == (p.requires_grad and t in graded), (t, n)
