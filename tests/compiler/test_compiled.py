"""Compiled (inductor) programs: same numbers as eager, one graph each, and training.

Cold compiles cost seconds each, so every test here compiles one plan shape once.
"""

import statistics

import pytest
import torch
import torch._dynamo.testing as dynamo_testing
from compiler_fixtures import (
    Affine,
    Replay,
    cyclegan,
    cyclegan_batch,
    cyclegan_functor,
    grads_of,
    momentum_sgd,
    product,
    product_batch,
    schema,
    train_in_turn,
    zero_grads,
)
from torch import nn

from compiler import Euclid, Functor, compile_functor


def losses_and_grads(prog, batch, seed=3):
    zero_grads(prog)
    torch.manual_seed(seed)
    g = prog.generator_losses(batch)
    g["total"].backward()
    c = prog.critic_losses(batch)
    c["total"].backward()
    return {**g, **{f"critic/{k}": v for k, v in c.items()}}, grads_of(prog)


def assert_same(eager, compiled, atol=1e-5):
    (le, ge), (lc, gc) = eager, compiled
    assert le.keys() == lc.keys()
    for k in le:
        assert torch.allclose(le[k], lc[k], rtol=1e-4, atol=atol), (k, le[k], lc[k])
    assert len(ge) == len(gc)
    for a, b in zip(ge, gc, strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=atol)
    assert any(a.abs().sum() > 0 for a in gc)


def test_cyclegan_inductor_equals_eager_in_one_graph_per_entry_point():
    counter = dynamo_testing.CompileCounterWithBackend("inductor")
    batch = cyclegan_batch()
    compiled = cyclegan(backend=counter)
    assert_same(losses_and_grads(cyclegan(backend="eager"), batch),
                losses_and_grads(compiled, batch))
    assert counter.frame_count == 2  # generator graph + critic graph, no breaks
    losses_and_grads(compiled, cyclegan_batch(seed=9))  # same shapes: no recompilation
    assert counter.frame_count == 2


def test_an_eager_and_a_compiled_program_over_the_same_modules_train_them_in_turn():
    # The README's way to compare backends: compile the functor twice. The second
    # compile stacked the modules' parameters anew, and the first program then refused
    # them as moved. Grouped alike, the programs now train one stack: no copies.
    F, critics = cyclegan_functor()
    replay = Replay(F, critics, momentum_sgd, programs=2)
    eager = compile_functor(F, critics, backend="eager", optimizer=momentum_sgd)
    compiled = compile_functor(F, critics, backend="inductor", optimizer=momentum_sgd)
    assert all(b.stacked for b in [*eager.arrow_banks.banks, *eager.critic_banks.banks])
    assert all(a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
               for a, b in zip(eager.parameters(), compiled.parameters(), strict=True))
    train_in_turn([eager, compiled], replay, turns=5)


def test_product_wgan_gp_inductor_equals_eager():
    counter = dynamo_testing.CompileCounterWithBackend("inductor")
    batch = product_batch()
    kw = {"adversarial": "wgan-gp", "priors": {"C": "normal"}}
    eager = losses_and_grads(product(backend="eager", **kw), batch)
    compiled = losses_and_grads(product(backend=counter, **kw), batch)
    assert_same(eager, compiled)
    assert compiled[0]["critic/gp:A"] > 0
    assert counter.frame_count == 2


def toy_batch(g: torch.Generator, n: int = 64) -> dict:
    """Two Gaussian clouds in R^2."""
    return {"Horse": torch.randn(n, 2, generator=g) * 0.5 + torch.tensor([-2.0, 0.0]),
            "Zebra": torch.randn(n, 2, generator=g) * 0.5 + torch.tensor([2.0, 1.0])}


def test_step_trains_a_toy_cyclegan_and_matches_eager():
    counter = dynamo_testing.CompileCounterWithBackend("inductor")
    eager, compiled = cyclegan(backend="eager", lr=2e-3), cyclegan(backend=counter, lr=2e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        b = toy_batch(g)
        le, lc = eager.step(b), compiled.step(b)
        for k in le:
            assert torch.allclose(le[k], lc[k], rtol=1e-4, atol=1e-5), k
    for a, b in zip(eager.parameters(), compiled.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)
    assert counter.frame_count == 1  # the whole step is one graph
    history = [compiled.step(toy_batch(g)) for _ in range(300)]
    assert counter.frame_count == 1

    def early(k):
        return statistics.mean(h[k].item() for h in history[:20])

    def late(k):
        return statistics.mean(h[k].item() for h in history[-50:])

    residuals = compiled.functor.residuals(toy_batch(g))
    assert all(r < 0.2 for r in residuals.values()), residuals
    for k in ["eq:f.g = id(Horse)", "eq:g.f = id(Zebra)"]:
        assert late(k) < 0.2 * early(k), k
    for k in ["adv:f", "adv:g"]:
        assert late(k) < 0.7 * early(k), k
    # the user's modules hold the trained weights
    f = compiled.functor.modules[compiled.functor.schema["f"]]
    x = toy_batch(g)["Horse"]
    assert (f(x).mean(0) - torch.tensor([2.0, 1.0])).norm() < 1.0


@pytest.mark.parametrize("adversarial, penalty", [("wgan-gp", "gp"), ("nsgan-r1", "r1")])
@pytest.mark.parametrize("kind", ["stacked", "vmap", "call"])
def test_every_fusion_path_traces_into_one_graph_with_gradient_penalty(kind, adversarial,
                                                                      penalty):
    """Dynamo only (no inductor): cheap; stacked, vmap and unfused critics under the
    gradient penalty (on interpolates) and R1 (on reals) each trace to one graph with
    eager's numbers."""
    counter = dynamo_testing.CompileCounterWithBackend("eager")
    batch = cyclegan_batch()
    outs = []
    net, fuse = {"stacked": (None, None), "vmap": (Affine, True), "call": (None, False)}[kind]
    for backend in ("eager", counter):
        prog = cyclegan(backend=backend, fuse=fuse, net=net, adversarial=adversarial)
        assert {c.how for c in prog.plan.calls} == {kind}
        torch.manual_seed(4)
        outs.append(prog.step(batch))
    assert counter.frame_count == 1
    for k in outs[0]:
        assert torch.allclose(outs[0][k], outs[1][k], rtol=1e-4, atol=1e-5), k
    assert outs[1][f"{penalty}:Zebra"] > 0


def forward_convolutions(fn) -> int:
    """How many convolutions ``fn`` runs forward (backward ones are named differently)."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        fn()
    return sum(e.name == "aten::convolution" for e in prof.events())


def test_compiled_step_scores_each_fake_once_per_critic():
    """Each fake meets its critic in the generator loss (critic held fixed) and in the
    critic loss (fake detached), with the same pre-update weights. In the step compiled
    by inductor with the networks inlined (the default) the two forwards are one
    (its joint-graph passes drop the detaches and common-subexpression elimination
    merges the two convolutions); each keeps its own backward (input gradient for the
    generators, weight gradient for the critic). Conv nets, as in the CycleGAN
    benchmark, where this saves a critic forward per fake. With ``regional=True`` the two
    are separate calls of the critic's region, as in eager (measured: ``bench_compile``)."""
    def conv(i, o):
        return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.Tanh())

    S = schema("cyclegan")
    counts, outs = [], []
    for backend, regional in (("eager", False), ("inductor", False), ("inductor", True)):
        torch.manual_seed(0)
        F = Functor(S, ob={"Horse": Euclid(3, 6, 6), "Zebra": Euclid(3, 6, 6)},
                    ar={"f": conv(3, 3), "g": conv(3, 3)})
        prog = compile_functor(F, critics={"Horse": conv(3, 1), "Zebra": conv(3, 1)},
                               backend=backend, regional=regional)
        g = torch.Generator().manual_seed(2)
        batch = {o: torch.randn(4, 3, 6, 6, generator=g) for o in ("Horse", "Zebra")}
        prog.step(batch)  # compiles
        counts.append(forward_convolutions(lambda p=prog, b=batch: outs.append(p.step(b))))
    # generators: f(H), g(Z), g(f(H)), f(g(Z)); critics: two reals and two fakes, the
    # fakes scored twice in eager (generator and critic losses), once compiled inline
    assert counts == [4 + 2 + 2 * 2, 4 + 2 + 2, 4 + 2 + 2 * 2]
    for out in outs[1:]:  # a second step: float rounding of the first one's kernels
        for k in outs[0]:
            assert torch.allclose(outs[0][k], out[k], rtol=3e-4, atol=1e-5), k


def test_fake_pool_and_critic_step_compile_once_as_the_pool_fills():
    """``step`` and ``critic_step`` with a fake pool of 4 and batches of 3: filling,
    then the step that fills it, then full — one graph each (the fill count is a tensor
    input, the random draws are made outside), and inductor's numbers equal eager's."""
    counter = dynamo_testing.CompileCounterWithBackend("inductor")
    kw = {"adversarial": "wgan-gp", "fake_pool": 4}
    eager, compiled = cyclegan(backend="eager", **kw), cyclegan(backend=counter, **kw)
    for i in range(4):
        b = cyclegan_batch(n=3, seed=10 + i)
        for entry in ("step", "critic_step"):
            torch.manual_seed(i)
            le = getattr(eager, entry)(b)
            torch.manual_seed(i)
            lc = getattr(compiled, entry)(b)
            for k in le:
                assert torch.allclose(le[k], lc[k], rtol=1e-4, atol=1e-5), (i, entry, k)
    assert counter.frame_count == 2  # step + critic_step, however full the pool
    se, sc = eager.state_dict(), compiled.state_dict()
    assert sc["fake_pool:count"].item() == 4
    assert all(torch.allclose(se[k], sc[k], rtol=1e-4, atol=1e-5) for k in se)
    for a, b in zip(eager.parameters(), compiled.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)


def test_critic_losses_through_the_pool_trace_into_one_graph():
    """Dynamo only (cheap): ``critic_losses`` queries and updates the pool in one graph."""
    counter = dynamo_testing.CompileCounterWithBackend("eager")
    compiled, eager = cyclegan(backend=counter, fake_pool=4), cyclegan(fake_pool=4)
    for i in range(3):
        b = cyclegan_batch(n=3, seed=i)
        torch.manual_seed(i)
        lc = compiled.critic_losses(b)
        torch.manual_seed(i)
        le = eager.critic_losses(b)
        assert all(torch.allclose(le[k], lc[k], rtol=1e-5, atol=1e-6) for k in le)
    assert counter.frame_count == 1
    assert compiled.state_dict()["fake_pool:count"].item() == 4


def test_many_programs_in_one_process_each_compile_once():
    """Dynamo caches per code object (8 entries): programs sharing one compiled method
    would fail from the ninth on with fullgraph=True. Each program has its own code."""
    import torch._dynamo

    torch._dynamo.reset()
    for k in range(12):
        counter = dynamo_testing.CompileCounter()
        prog = cyclegan(backend=counter, seed=k)
        for _ in range(2):
            prog.step(cyclegan_batch())
            prog.generator_losses(cyclegan_batch())
        assert counter.frame_count == 2, (k, counter.frame_count)
