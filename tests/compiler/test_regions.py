"""Regional compilation: each lone network is one nested compile region, traced once per
architecture and reused wherever the plan applies it, with the numbers unchanged.

The graphs are compiled with ``aot_eager`` behind a recording backend (no Inductor: the
regions are decided by Dynamo and AOTAutograd, and cost no C++ build here).
"""

import pytest
import torch
from compiler_fixtures import (
    BatchNormNet,
    Join,
    Split,
    cyclegan,
    cyclegan_batch,
    cyclegan_functor,
    grads_of,
    mlp,
    zero_grads,
)
from functorch.compile import make_boxed_func
from torch._dynamo.backends.common import aot_autograd
from torch._inductor.exc import InductorError

from compiler import Euclid, FunctorError, ProductSpace, compile_functor
from compiler.fallback import RegionsFailed
from compiler.lowering import in_region


class Recording:
    """A ``torch.compile`` backend keeping every graph Dynamo hands it (then aot_eager)."""

    def __init__(self):
        self.graphs = []

    def __call__(self, gm, example_inputs):
        self.graphs.append(gm)
        return torch._dynamo.lookup_backend("aot_eager")(gm, example_inputs)

    def regions(self) -> list[str]:
        """The region each ``invoke_subgraph`` call of the graphs runs, call by call."""
        return [n.args[1] for gm in self.graphs for n in gm.graph.nodes
                if n.op == "call_function" and "invoke_subgraph" in str(n.target)]


def step_and_grads(prog, batch):
    zero_grads(prog)
    torch.manual_seed(5)
    losses = prog.step(batch)
    return losses, grads_of(prog)


def test_one_region_per_architecture_and_role_reused_across_networks():
    """CycleGAN's step applies the generator architecture four times (f, g, then g.f and
    f.g) and the critic's six times (twice detached in the generator losses, on reals and
    fakes in the critic losses): ten calls, each architecture built once per way it is
    called (input with or without gradient; critic detached or not)."""
    rec = Recording()
    prog = cyclegan(backend=rec, fuse=False, regional=True)
    prog.step(cyclegan_batch())
    assert len(rec.graphs) == 1  # still one graph for the whole step
    regions = rec.regions()
    assert len(regions) == 10
    assert len(set(regions)) <= 4  # f and g share theirs, and so do the two critics
    # the first two calls are f and g at depth one: two networks, one region
    assert regions[0] == regions[1]


def test_regions_change_no_number():
    """Three steps with regions, without them, and eager: the same losses, gradients and
    parameters (to float tolerance: the same operations, differently grouped)."""
    runs = [cyclegan(backend=Recording(), fuse=False, regional=True),
            cyclegan(backend=Recording(), fuse=False, regional=False),
            cyclegan(backend="eager", fuse=False)]
    for step in range(3):
        batch = cyclegan_batch(seed=10 + step)
        (l0, g0), *others = [step_and_grads(p, batch) for p in runs]
        for losses, grads in others:
            assert losses.keys() == l0.keys()
            for k in l0:
                assert torch.allclose(losses[k], l0[k], rtol=1e-5, atol=1e-6), (step, k)
            for a, b in zip(grads, g0, strict=True):
                assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)
    assert any(g.abs().sum() > 0 for g in g0)


def test_without_regions_and_eager_no_call_is_a_region():
    rec = Recording()
    cyclegan(backend=rec, fuse=False, regional=False).step(cyclegan_batch())
    assert rec.regions() == []
    eager = cyclegan(backend="eager", fuse=False)
    code = eager.generator_graph.code + eager.critic_graph.code
    assert "regional" not in code  # eager: plain calls, no parameter swapping


def test_a_network_with_buffers_is_inlined():
    """BatchNorm updates its running statistics in place during a training forward; a
    region may not mutate what it is given, so such a network is called inline."""
    assert not in_region(BatchNormNet(2, 2), Euclid(2))
    assert in_region(torch.nn.Linear(2, 2), Euclid(2))
    rec = Recording()
    prog = cyclegan(backend=rec, fuse=False, net=BatchNormNet, regional=True)
    before = prog.functor.modules[prog.functor.schema["f"]].norm.running_mean.clone()
    prog.step(cyclegan_batch())
    after = prog.functor.modules[prog.functor.schema["f"]].norm.running_mean
    assert rec.regions() == [] and not torch.equal(before, after)


def test_networks_returning_views_or_their_input_or_on_products_are_inlined():
    """A region may not take or return aliases: a split of one tensor into a product's
    factors (two views of it), the input itself, or a network on a product (whose factors
    may be views of one tensor) is called inline (test_compiled's product programs run
    such networks)."""
    assert not in_region(Split(), Euclid(4))
    assert not in_region(torch.nn.Identity(), Euclid(2))
    assert not in_region(Join(), ProductSpace(Euclid(3), Euclid(2)))  # factors may alias
    assert in_region(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh()), Euclid(2))


def test_regions_are_off_by_default_and_on_where_asked():
    """Off by default (the measured trade favours inlining once compiled code is kept:
    bench_compile.py); ``regional=True`` makes each lone network's call a region."""
    assert "regional" not in cyclegan(backend="inductor", fuse=False).generator_graph.code
    on = cyclegan(backend="inductor", fuse=False, regional=True)
    assert on.generator_graph.code.count("lowering_regional_apply(") == 4
    assert "regional" in on.critic_graph.code
    rec = Recording()
    cyclegan(backend=rec, fuse=False).step(cyclegan_batch())
    assert rec.regions() == []


def test_regional_must_be_a_bool():
    with pytest.raises(FunctorError, match="regional must be True .* got 'yes'"):
        cyclegan(backend="eager", regional="yes")


def refusing_regions(where: str):
    """A backend that fails, as torch 2.13's Inductor does on some region layouts, when a
    graph holds a region: at the forward's compile, or at the backward's (lazily, at the
    first backward pass, after the forward ran)."""

    def has_region(gm) -> bool:
        return any("invoke_subgraph" in str(n.target) for n in gm.graph.nodes)

    def fw(gm, example_inputs):
        if where == "forward" and has_region(gm):
            raise InductorError(RuntimeError("cannot view a region's input"), None)
        return make_boxed_func(gm)

    def bw(gm, example_inputs):
        if where == "backward" and has_region(gm):
            raise InductorError(RuntimeError("cannot view a region's gradient"), None)
        return make_boxed_func(gm)

    return aot_autograd(fw_compiler=fw, bw_compiler=bw)


@pytest.mark.parametrize("where", ["forward", "backward"])
def test_a_failing_regional_compile_falls_back_inline_as_if_never_tried(where):
    """The first step fails to compile with regions (in the forward's compile, or in the
    backward's after the forward ran): it is said once, the graphs are lowered again
    inlined, and the step runs — with the random numbers (wgan-gp's interpolation
    weights) and the BatchNorm critics' running statistics as if it had never been tried:
    every number equals a program compiled inline from the start."""
    kw = {"fuse": False, "adversarial": "wgan-gp"}
    tried = cyclegan(backend=refusing_regions(where), regional=True, **kw)
    inline = cyclegan(backend="aot_eager", regional=False, **kw)
    with pytest.warns(RegionsFailed, match="regional compilation failed") as said:
        torch.manual_seed(7)
        first = tried.step(cyclegan_batch())
    assert sum(issubclass(w.category, RegionsFailed) for w in said) == 1
    torch.manual_seed(7)
    want = inline.step(cyclegan_batch())
    assert first.keys() == want.keys()
    for k in want:
        assert torch.allclose(first[k], want[k], rtol=1e-5, atol=1e-6), k
    assert "regional" not in tried.generator_graph.code  # inlined from now on
    import warnings  # noqa: PLC0415 - only here: the second step says nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error", RegionsFailed)
        tried.step(cyclegan_batch(seed=4))


def batchnorm_arrows(backend, regional: bool):
    """CycleGAN with BatchNorm arrows (inlined: buffers) and MLP critics (regions),
    wgan-gp (random interpolation weights)."""
    F, _ = cyclegan_functor(net=BatchNormNet)
    torch.manual_seed(1)
    critics = {"Horse": mlp(2, 1), "Zebra": mlp(2, 1)}
    return compile_functor(F, critics=critics, backend=backend, regional=regional,
                           fuse=False, adversarial="wgan-gp")


def test_buffers_and_random_numbers_are_put_back_after_a_failed_backward():
    """A failure in the backward's compile comes after the forward ran: BatchNorm's
    running statistics moved and random numbers were drawn; both are put back."""
    tried = batchnorm_arrows(refusing_regions("backward"), True)
    inline = batchnorm_arrows("aot_eager", False)
    with pytest.warns(RegionsFailed):
        torch.manual_seed(3)
        tried.step(cyclegan_batch())
        after_tried = torch.rand(3)  # the next draw: as many numbers used before it
    torch.manual_seed(3)
    inline.step(cyclegan_batch())
    assert torch.equal(after_tried, torch.rand(3))
    for name in ("f", "g"):
        a = tried.functor.modules[tried.functor.schema[name]].norm
        b = inline.functor.modules[inline.functor.schema[name]].norm
        assert torch.equal(a.running_mean, b.running_mean)  # moved once, not twice
        # f and g each run twice a step (on data, then on the other's output)
        assert int(a.num_batches_tracked) == int(b.num_batches_tracked) == 2


def test_a_users_error_is_not_taken_for_a_compile_failure():
    class Broken(torch.nn.Module):
        def __init__(self, i, o):
            super().__init__()
            self.lin = torch.nn.Linear(i, o)

        def forward(self, x):
            if x.shape[0] > 5:  # fine on the compiler's checks (batch 2), not on 8
                raise ValueError("the user's own error")
            return self.lin(x)

    prog = cyclegan(backend="eager", fuse=False, net=Broken)
    with pytest.raises(ValueError, match="the user's own error"):
        prog.step(cyclegan_batch())
