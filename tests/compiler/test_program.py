"""The program's semantics, on the eager backend (same plan as compiled, no compile cost)."""

import pytest
import torch
from compiler_fixtures import (
    Affine,
    Counted,
    Join,
    Replay,
    Split,
    cyclegan,
    cyclegan_batch,
    grads_of,
    grid,
    grid_batch,
    mlp,
    momentum_sgd,
    product,
    product_batch,
    schema,
    train_in_turn,
    zero_grads,
)
from torch import nn

from category import Schema
from compiler import (
    BatchError,
    CompilerError,
    Euclid,
    Functor,
    FunctorError,
    NonFiniteLossError,
    compile_functor,
)


def counted_cyclegan(**kw):
    S = schema("cyclegan")
    torch.manual_seed(0)
    nets = {"f": Counted(mlp(2, 2)), "g": Counted(mlp(2, 2))}
    crit = {"Horse": Counted(mlp(2, 1)), "Zebra": Counted(mlp(2, 1))}
    F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)}, ar=nets)
    prog = compile_functor(F, critics=crit, backend="eager", fuse=False, **kw)
    for m in [*nets.values(), *crit.values()]:
        m.calls = 0  # the compile-time dry run on meta tensors called each once
    return prog, nets, crit


def test_generator_step_evaluates_each_network_twice():
    prog, nets, crit = counted_cyclegan()
    prog.generator_losses(cyclegan_batch())
    assert [n.calls for n in nets.values()] == [2, 2]   # naive: 3 each
    assert [c.calls for c in crit.values()] == [1, 1]


def test_critic_losses_reuse_the_fakes_of_the_same_batch():
    prog, nets, crit = counted_cyclegan()
    batch = cyclegan_batch()
    prog.generator_losses(batch)
    prog.critic_losses(batch)
    assert [n.calls for n in nets.values()] == [2, 2]    # no generator re-evaluated
    assert [c.calls for c in crit.values()] == [3, 3]    # + real and fake
    prog.critic_losses(cyclegan_batch(seed=7))           # another batch: fakes recomputed
    assert [n.calls for n in nets.values()] == [4, 4]


def test_step_evaluates_each_network_once_per_path_prefix():
    prog, nets, crit = counted_cyclegan()
    prog.step(cyclegan_batch())
    assert [n.calls for n in nets.values()] == [2, 2]
    assert [c.calls for c in crit.values()] == [3, 3]


def test_losses_match_a_hand_written_cyclegan():
    prog = cyclegan(fuse=False)
    b = cyclegan_batch()
    x, y = b["Horse"], b["Zebra"]
    f, g = prog.functor.modules.values()
    DH, DZ = (bk.modules[0] for bk in prog.critic_banks.banks)
    DH, DZ = (DZ, DH) if prog.critic_banks.banks[0].labels == [["Zebra"]] else (DH, DZ)
    out = prog.generator_losses(b)
    assert out["adv:f"].item() == pytest.approx(((DZ(f(x)) - 1) ** 2).mean().item(), rel=1e-5)
    assert out["eq:f.g = id(Horse)"].item() == pytest.approx((g(f(x)) - x).abs().mean().item(),
                                                             rel=1e-5)
    total = sum(out[k] for k in ["adv:f", "adv:g"]) + 10 * sum(
        out[k] for k in ["eq:f.g = id(Horse)", "eq:g.f = id(Zebra)"])
    assert out["total"].item() == pytest.approx(total.item(), rel=1e-5)
    c = prog.critic_losses(b)
    expected = 0.5 * ((DZ(y) - 1) ** 2).mean() + 0.5 * (DZ(f(x)) ** 2).mean()
    assert c["critic:Zebra"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_fused_and_unfused_give_the_same_losses_and_gradients():
    b = grid_batch()
    results = []
    for fuse in (True, False):
        prog = grid(fuse=fuse)
        zero_grads(prog)
        g = prog.generator_losses(b)
        g["total"].backward()
        c = prog.critic_losses(b)
        c["total"].backward()
        results.append((g, c, grads_of(prog)))
    (g1, c1, d1), (g2, c2, d2) = results
    assert g1.keys() == g2.keys() and len(g1) == 12 + 4 + 1
    for k in g1:
        assert torch.allclose(g1[k], g2[k], atol=1e-5), k
    for k in c1:
        assert torch.allclose(c1[k], c2[k], atol=1e-5), k
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(d1, d2, strict=True))
    assert any(a.abs().sum() > 0 for a in d1)


def test_generator_losses_do_not_touch_critic_gradients():
    prog = cyclegan()
    zero_grads(prog)
    prog.generator_losses(cyclegan_batch())["total"].backward()
    critic_params = [p for bk in prog.critic_banks.banks for m in bk.modules
                     for p in m.parameters()]
    arrow_params = [p for m in prog.functor.modules.values() for p in m.parameters()]
    assert all(p.grad is None for p in critic_params)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in arrow_params)


def test_user_modules_stay_the_source_of_truth():
    prog = cyclegan()
    f = prog.functor.modules[prog.functor.schema["f"]]
    before = {k: v.clone() for k, v in f.state_dict().items()}
    param_ids = [id(p) for p in f.parameters()]
    for _ in range(3):
        prog.step(cyclegan_batch())
    after = f.state_dict()
    assert [id(p) for p in f.parameters()] == param_ids
    assert all(not torch.equal(before[k], after[k]) for k in before)
    # what the module computes is what the program computes
    x = cyclegan_batch()["Horse"]
    fx = prog.functor(prog.functor.schema.path("f"))(x)
    stacked = prog.arrow_banks.banks[0]
    assert stacked.stacked and torch.equal(f[0].weight, stacked.stacks[0][stacked.index(f)])
    assert fx.shape == x.shape
    # loading a checkpoint into the module is loading it into the program
    f.load_state_dict(before)
    assert torch.equal(stacked.stacks[0][stacked.index(f)], before["0.weight"])
    # moving a module's parameters elsewhere would silently split them from the program
    f.to(torch.float64)
    with pytest.raises(CompilerError, match="f were moved or replaced"):
        prog.step(cyclegan_batch())


def test_programs_that_stack_the_same_modules_differently_train_them_in_turn():
    # Three programs over one set of modules: every arrow stacked (f, g, h: one stack of
    # three), two of them stacked (f, g: a stack of two, h alone), none stacked. Each
    # program moves the rows it stacks back into its own stack when used, with the
    # weights the last step left, and its optimizer's state goes on from its own steps.
    S = Schema.parse("schema Three\nobject Horse, Zebra\nf, h : Horse -> Zebra\n"
                     "g : Zebra -> Horse\nf.g = id(Horse)\ng.f = id(Zebra)")
    torch.manual_seed(0)
    F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
                ar={a: mlp(2, 2) for a in "fgh"})
    critics = {"Horse": mlp(2, 1), "Zebra": mlp(2, 1)}
    replay = Replay(F, critics, momentum_sgd, programs=3)
    h = F.modules[S["h"]]
    programs = [compile_functor(F, critics, backend="eager", optimizer=momentum_sgd,
                                    fuse=fuse)
                for fuse in (None, lambda m: m is not h, False)]
    assert [[b.size for b in p.arrow_banks.banks] for p in programs] == [[3], [2, 1],
                                                                         [1, 1, 1]]
    train_in_turn(programs, replay, turns=7)


def test_a_users_optimizer_works_with_generator_losses():
    prog = cyclegan()
    f = prog.functor.modules[prog.functor.schema["f"]]
    opt = torch.optim.SGD(f.parameters(), lr=0.1)
    b = cyclegan_batch()
    w0 = f[0].weight.clone()
    opt.zero_grad()
    loss = prog.generator_losses(b)["total"]
    loss.backward()
    opt.step()
    assert not torch.equal(w0, f[0].weight)
    assert prog.generator_losses(b)["total"].item() != loss.item()
    # the program sees the update: its stacked storage is the module's storage
    bank = prog.arrow_banks.banks[0]
    assert torch.equal(bank.stacks[0][bank.index(f)], f[0].weight)


def test_equation_weights_by_equation_or_string():
    b = cyclegan_batch()
    S = schema("cyclegan")
    eq1, eq2 = S.equations
    prog = cyclegan(equation_weight={eq1: 2.0, "g.f = id(Zebra)": 0.0})
    out = prog.generator_losses(b)
    expected = out["adv:f"] + out["adv:g"] + 2.0 * out[f"eq:{eq1}"]
    assert out["total"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert out[f"eq:{eq2}"].item() > 0


def test_an_equation_on_a_product_weighs_each_factor_apart():
    b, gf = product_batch(), "g.f = id(BxC)"

    def losses(w):
        return product(equation_weight={gf: w}).generator_losses(b)

    none, only_b, only_c = losses((0.0, 0.0)), losses((1.0, 0.0)), losses((0.0, 1.0))
    d_b, d_c = only_b["total"] - none["total"], only_c["total"] - none["total"]
    assert d_b.item() > 0 and d_c.item() > 0
    weighed, plain = losses((2.0, 0.5)), losses(1.0)
    assert weighed["total"].item() == pytest.approx(
        (none["total"] + 2.0 * d_b + 0.5 * d_c).item(), rel=1e-5)
    assert plain["total"].item() == pytest.approx((none["total"] + d_b + d_c).item(), rel=1e-5)
    for out in (none, only_b, weighed, plain):  # the logged value stays the plain distance
        assert out[f"eq:{gf}"].item() == pytest.approx((d_b + d_c).item(), rel=1e-5)


@pytest.mark.parametrize("w, message", [
    ((1.0, 2.0, 3.0), r"one weight per factor, got 3 .*BxC has 2 factors \(B × C\)"),
    ((1.0, -1.0), r"g.f = id\(BxC\)'\] for factor C must be a finite number ≥ 0"),
])
def test_bad_factor_weights_are_named(w, message):
    with pytest.raises(FunctorError, match=message):
        product(equation_weight={"g.f = id(BxC)": w})


def test_factor_weights_on_a_plain_equation_are_refused():
    with pytest.raises(FunctorError, match=r"codomain A is not a product: give one number"):
        product(equation_weight={"f.g = id(A)": (1.0, 2.0)})


@pytest.mark.parametrize("adversarial", ["lsgan", "nsgan", "hinge", "wgan-gp", "nsgan-r1"])
@pytest.mark.parametrize("distance", ["l1", "l2"])
def test_every_loss_runs_and_is_finite(adversarial, distance):
    prog = cyclegan(adversarial=adversarial, distance=distance)
    out = prog.step(cyclegan_batch())
    assert all(torch.isfinite(v) for v in out.values())
    assert ("gp:Zebra" in out) == (adversarial == "wgan-gp")
    assert ("r1:Zebra" in out) == (adversarial == "nsgan-r1")


def test_wgan_gp_penalty_is_applied():
    b = cyclegan_batch()
    prog = cyclegan(adversarial="wgan-gp", fuse=False)
    torch.manual_seed(3)
    c = prog.critic_losses(b)
    assert c["gp:Zebra"].item() > 0 and c["gp:Horse"].item() > 0
    no_gp = c["critic:Zebra"] + c["critic:Horse"]
    assert c["total"].item() == pytest.approx(
        (no_gp + 10 * (c["gp:Zebra"] + c["gp:Horse"])).item(), rel=1e-5)
    DZ = next(bk.modules[0] for bk in prog.critic_banks.banks if bk.labels == [["Zebra"]])
    with_gp = torch.autograd.grad(c["total"], list(DZ.parameters()), retain_graph=True)
    without = torch.autograd.grad(no_gp, list(DZ.parameters()))
    assert any(not torch.allclose(a, b) for a, b in zip(with_gp, without, strict=True))


def test_gradient_penalty_matches_autograd():
    b = cyclegan_batch()
    prog = cyclegan(adversarial="wgan-gp", fuse=False)
    f = prog.functor.modules[prog.functor.schema["f"]]
    DZ = next(bk.modules[0] for bk in prog.critic_banks.banks if bk.labels == [["Zebra"]])
    torch.manual_seed(3)
    c = prog.critic_losses(b)
    torch.manual_seed(3)
    assert prog.plan.critics[0].name == "critic:Zebra"  # its alpha is drawn first
    alpha = torch.rand(8)
    x, y = b["Horse"], b["Zebra"]
    with torch.no_grad():
        fake = f(x)
    xhat = (alpha[:, None] * y + (1 - alpha[:, None]) * fake).requires_grad_(True)
    (gx,) = torch.autograd.grad(DZ(xhat).sum(), xhat, create_graph=True)
    gp = ((gx.norm(dim=1) - 1) ** 2).mean()
    assert c["gp:Zebra"].item() == pytest.approx(gp.item(), rel=1e-5)
    weights = list(DZ.parameters())[:3]  # the last bias does not move input gradients
    g1 = torch.autograd.grad(c["gp:Zebra"], weights)
    g2 = torch.autograd.grad(gp, weights)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(g1, g2, strict=True))


def test_batches_are_validated_with_clear_errors():
    prog = cyclegan()
    prog.step(cyclegan_batch(n=4))  # a valid batch first: its layout is remembered
    with pytest.raises(BatchError, match="Zebra: missing from the batch"):
        prog.generator_losses({"Horse": torch.randn(4, 2)})
    with pytest.raises(BatchError, match=r"Zebra: expected shape \(batch, 2\).*got \(4, 3\)"):
        prog.step({"Horse": torch.randn(4, 2), "Zebra": torch.randn(4, 3)})
    with pytest.raises(BatchError, match="same batch size"):
        prog.step({"Horse": torch.randn(4, 2), "Zebra": torch.randn(5, 2)})
    with pytest.raises(BatchError, match=r"batch key 'Zebar': unknown object 'Zebar' in schema "
                                         r"'CycleGAN' \(did you mean 'Zebra'\?\)"):
        prog.step({"Horse": torch.randn(4, 2), "Zebar": torch.randn(4, 2)})


@pytest.mark.parametrize("value, message", [
    (torch.randn(4, 2, dtype=torch.float64), r"expected dtype torch.float32 .* got torch.float64"),
    (torch.ones(4, 2, dtype=torch.long), r"expected dtype torch.float32 .* got torch.int64"),
    (torch.randn(4, 2).numpy(), r"got ndarray: convert it with torch.from_numpy"),
    (torch.randn(0, 2), r"the batch is empty"),
])
def test_batches_are_never_converted_or_accepted_silently(value, message):
    prog = cyclegan()
    before = [p.clone() for p in prog.parameters()]
    zebra = torch.randn(0, 2) if value.shape[0] == 0 else torch.randn(4, 2)
    with pytest.raises(BatchError, match=message):
        prog.step({"Horse": value, "Zebra": zebra})
    assert all(torch.equal(a, b) for a, b in zip(before, prog.parameters(), strict=True))


def test_a_step_with_non_finite_losses_is_refused_and_changes_nothing():
    prog = cyclegan()
    batch = cyclegan_batch(n=4)
    prog.step(batch)  # the optimizer has state: it must survive the refused step
    before = [p.clone() for p in prog.parameters()]
    state = [{k: v.clone() for k, v in s.items()} for opt in prog.optimizers
             for s in opt.state.values()]
    bad = {**batch, "Zebra": batch["Zebra"].clone()}
    bad["Zebra"][1, 0] = float("nan")
    with pytest.raises(NonFiniteLossError, match=r"(?s)adv:g.*not applied.*values for: Zebra"):
        prog.step(bad)
    assert all(torch.equal(a, b) for a, b in zip(before, prog.parameters(), strict=True))
    after = [s for opt in prog.optimizers for s in opt.state.values()]
    assert all(torch.equal(a[k], b[k]) for a, b in zip(state, after, strict=True) for k in a)
    assert all(torch.isfinite(v) for v in prog.step(batch).values())  # and it goes on
    unchecked = cyclegan(check_finite=False)
    unchecked.step(bad)
    assert any(not torch.isfinite(p).all() for p in unchecked.parameters())


@pytest.mark.parametrize("kw, message", [
    ({"equation_weight": -1.0}, r"equation_weight must be a finite number ≥ 0, got -1.0"),
    ({"equation_weight": {"f.g = id(Horse)": float("nan")}},
     r"equation_weight\['f.g = id\(Horse\)'\] must be a finite number"),
    ({"gp_weight": float("inf")}, r"gp_weight must be a finite number ≥ 0, got inf"),
    ({"lr": 0.0}, r"lr must be a finite number > 0, got 0.0"),
    ({"backend": "inductr"}, r"unknown backend 'inductr'; use 'inductor'"),
])
def test_bad_settings_fail_at_compile_time(kw, message):
    with pytest.raises(FunctorError, match=message):
        cyclegan(**kw)


def test_product_batches_take_tuples_factors_or_priors():
    prog = product(priors={"C": "normal"})
    b = product_batch()
    by_factor = prog.generator_losses(b)
    as_tuple = prog.generator_losses({"A": b["A"], "BxC": (b["B"], b["C"])})
    assert torch.allclose(by_factor["total"], as_tuple["total"])
    from_prior = prog.step({"A": b["A"], "B": b["B"]})  # C drawn from N(0, 1)
    assert torch.isfinite(from_prior["critic:C"])
    with pytest.raises(BatchError, match="BxC: expected a tuple of 2 tensors"):
        prog.generator_losses({"A": b["A"], "BxC": b["B"]})


def test_critic_for_a_product_object_is_refused():
    S = schema("product")
    from compiler_fixtures import Join, Split
    F = Functor(S, ob={"A": Euclid(4), "B": Euclid(3), "C": Euclid(2)},
                ar={"f": Split(), "g": Join()})
    from compiler import FunctorError
    with pytest.raises(FunctorError, match="one critic per factor"):
        compile_functor(F, critics={"A": mlp(4, 1), "BxC": mlp(5, 1)}, backend="eager")


def test_modules_with_buffers_are_not_fused():
    S = schema("cyclegan")
    torch.manual_seed(0)
    F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
                ar={"f": nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)),
                    "g": nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))})
    prog = compile_functor(F, critics={"Horse": mlp(2, 1), "Zebra": mlp(2, 1)}, backend="eager")
    assert not any(c.fused for c in prog.plan.calls)
    f = F.modules[S["f"]]
    before = f[1].running_mean.clone()
    prog.step(cyclegan_batch())
    assert not torch.equal(before, f[1].running_mean)


def test_grid_step_updates_every_network():
    prog = grid()
    before = [p.detach().clone() for p in prog.parameters()]
    prog.step(grid_batch())
    assert len(before) == 4 + 4  # 2 stacked banks × (2 weights + 2 biases)
    assert all(not torch.equal(a, b) for a, b in zip(before, prog.parameters(), strict=True))


@pytest.mark.parametrize("adversarial, penalty", [("wgan-gp", "gp"), ("nsgan-r1", "r1")])
@pytest.mark.parametrize("kind", ["vmap", "stacked"])
def test_fusion_paths_match_unfused_with_gradient_penalty(kind, adversarial, penalty):
    make = Affine if kind == "vmap" else (lambda i, o: mlp(i, o))
    S = schema("cyclegan")
    results = []
    for fuse in (True, False):
        torch.manual_seed(0)
        F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
                    ar={"f": make(2, 2), "g": make(2, 2)})
        prog = compile_functor(F, critics={"Horse": make(2, 1), "Zebra": make(2, 1)},
                               backend="eager", fuse=fuse, adversarial=adversarial)
        assert all(c.fused for c in prog.plan.calls) == fuse
        assert all(c.how == (kind if fuse else "call") for c in prog.plan.calls)
        zero_grads(prog)
        torch.manual_seed(1)
        g = prog.generator_losses(cyclegan_batch())
        c = prog.critic_losses(cyclegan_batch())
        (g["total"] + c["total"]).backward()
        results.append(({**g, **{"c/" + k: v for k, v in c.items()}}, grads_of(prog)))
    (l1, d1), (l2, d2) = results
    for k in l1:
        assert torch.allclose(l1[k], l2[k], atol=1e-5), k
    assert l1[f"c/{penalty}:Zebra"] > 0
    for a, b in zip(d1, d2, strict=True):
        assert torch.allclose(a, b, atol=1e-5)


def test_default_fuses_only_directly_stacked_networks():
    S = schema("cyclegan")
    F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
                ar={"f": Affine(2, 2), "g": Affine(2, 2)})
    prog = compile_functor(F, critics={"Horse": mlp(2, 1), "Zebra": mlp(2, 1)}, backend="eager")
    assert not any(c.fused for c in prog.plan.calls)   # Affine would need vmap
    assert [b.size for b in prog.plan.critic_groups] == [2]  # the MLP critics are stacked


class ResidualMLP(nn.Module):
    """A user-defined class: traced, and stacked layer by layer like a Sequential."""

    def __init__(self, d: int = 2):
        super().__init__()
        self.net = mlp(d, d)

    def forward(self, x):
        return x + torch.tanh(self.net(x))


def test_user_defined_classes_are_stacked_when_traceable():
    from compiler.stacked import stackable, stacked_forward

    assert stackable(ResidualMLP()) is not None and stackable(Affine(2, 2)) is None
    S = schema("cyclegan")
    results = []
    for fuse in (None, False):
        torch.manual_seed(0)
        F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
                    ar={"f": ResidualMLP(), "g": ResidualMLP()})
        prog = compile_functor(F, critics={"Horse": mlp(2, 1), "Zebra": mlp(2, 1)},
                               backend="eager", fuse=fuse)
        assert all(c.fused for c in prog.plan.calls) == (fuse is None)
        zero_grads(prog)
        out = prog.generator_losses(cyclegan_batch())
        out["total"].backward()
        results.append((out, grads_of(prog)))
    (l1, d1), (l2, d2) = results
    assert all(torch.allclose(l1[k], l2[k], atol=1e-6) for k in l1)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(d1, d2, strict=True))
    m = ResidualMLP()
    P = {n: torch.stack([p, p, p]) for n, p in m.named_parameters()}
    x = torch.randn(3, 4, 2)
    assert torch.allclose(stacked_forward(m, P, x)[2], m(x[2]), atol=1e-6)


def test_gan_draws_its_latent_from_the_prior():
    S = schema("gan")
    torch.manual_seed(0)
    F = Functor(S, ob={"Latent": Euclid(3), "Image": Euclid(2)}, ar={"gen": mlp(3, 2)})
    prog = compile_functor(F, critics={"Image": mlp(2, 1)}, backend="eager",
                           priors={"Latent": "normal"})
    assert [c.name for c in prog.plan.critics] == ["critic:Image"]
    before = [p.detach().clone() for p in prog.parameters()]
    out = prog.step({"Image": torch.randn(16, 2)})
    assert set(out) == {"adv:gen", "total", "critic:Image", "critic_total"}
    assert all(not torch.equal(a, b) for a, b in zip(before, prog.parameters(), strict=True))
    with pytest.raises(FunctorError, match="no real samples") as e:
        compile_functor(F, critics={"Image": mlp(2, 1)}, backend="eager",
                        data_objects=["Latent"], priors={"Latent": "uniform"})
    assert "prior for Latent: unknown prior 'uniform'" in str(e.value)


def test_networks_in_float64_train_on_float64_batches():
    """Loss constants, the built-in prior and the penalty follow the networks' dtype."""
    def as_double(prog, **kw):
        for m in prog.functor.modules.values():
            m.double()
        critics = {label[0]: m.double() for b in prog.critic_banks.banks
                   for label, m in zip(b.labels, b.modules, strict=True)}
        return compile_functor(prog.functor, critics=critics, backend="eager", **kw)

    b = product_batch()
    single, double = product(), as_double(product())
    first = single.step(b)
    second = double.step({k: v.double() for k, v in b.items()})
    for k in first:
        assert second[k].dtype == torch.float64, k
        assert torch.allclose(first[k].double(), second[k], rtol=1e-4, atol=1e-5), k
    with pytest.raises(BatchError, match="expected dtype torch.float64"):
        double.step(b)
    penalised = as_double(product(), adversarial="wgan-gp", priors={"C": "normal"})
    drawn = penalised.step({"A": b["A"].double(), "B": b["B"].double()})  # C from the prior
    assert drawn["gp:C"] > 0
    assert all(v.dtype == torch.float64 and torch.isfinite(v) for v in drawn.values())


def arrow_and_critic_params(prog):
    arrows = prog._trainable(prog.arrow_banks)
    critics = prog._trainable(prog.critic_banks)
    return arrows, critics


def adam_state(opt, params):
    return [{k: v.clone() for k, v in opt.state[p].items()} for p in params if p in opt.state]


@pytest.mark.parametrize("separate", [False, True])
def test_critic_step_updates_the_critics_only(separate):
    kw = {"critic_optimizer": lambda ps: torch.optim.Adam(ps, lr=1e-3)} if separate else {}
    prog = cyclegan(adversarial="wgan-gp", **kw)
    prog.step(cyclegan_batch())  # every parameter has Adam state (step 1)
    arrows, critics = arrow_and_critic_params(prog)
    a0, c0 = [p.clone() for p in arrows], [p.clone() for p in critics]
    opts = prog.optimizers
    arrow_state = adam_state(opts[0], arrows)
    torch.manual_seed(3)
    expected = prog.critic_losses(cyclegan_batch(seed=5))  # same alphas, no update
    torch.manual_seed(3)
    out = prog.critic_step(cyclegan_batch(seed=5))
    assert out.keys() == expected.keys() and "gp:Zebra" in out
    assert all(not v.requires_grad for v in out.values())
    assert all(torch.equal(a, b) for a, b in zip(a0, arrows, strict=True))
    # (the critics' output biases, stacked last, have no wgan-gp gradient: the real and
    # fake terms cancel)
    assert all(not torch.equal(a, b) for a, b in zip(c0[:-1], critics[:-1], strict=True))
    after = adam_state(opts[0], arrows)
    assert len(after) == len(arrows)
    assert all(torch.equal(x[k], y[k]) for x, y in zip(arrow_state, after, strict=True) for k in x)
    critic_opt = opts[-1]
    assert all(critic_opt.state[p]["step"].item() == 2 for p in critics)
    assert expected["total"].item() == pytest.approx(out["total"].item(), rel=1e-6)


def test_critic_step_refuses_non_finite_losses():
    prog = cyclegan(adversarial="wgan-gp")
    prog.critic_step(cyclegan_batch())
    before = [p.clone() for p in prog.parameters()]
    state = [{k: v.clone() for k, v in s.items()} for s in prog.optimizers[0].state.values()]
    bad = cyclegan_batch()
    bad["Zebra"][2, 1] = float("inf")
    with pytest.raises(NonFiniteLossError, match=r"(?s)critic:Zebra.*not applied.*for: Zebra"):
        prog.critic_step(bad)
    assert all(torch.equal(a, b) for a, b in zip(before, prog.parameters(), strict=True))
    after = list(prog.optimizers[0].state.values())
    assert all(torch.equal(a[k], b[k]) for a, b in zip(state, after, strict=True) for k in a)


def sgd(params):
    return torch.optim.SGD(params, lr=1.0)


@pytest.mark.parametrize("entry", ["step", "critic_step"])
def test_gradient_clipping_per_player_equals_clipping_by_hand(entry):
    b = cyclegan_batch()
    clipped, free = cyclegan(optimizer=sgd), cyclegan(optimizer=sgd)
    before = [p.clone() for p in clipped.parameters()]
    getattr(free, entry)(b)
    getattr(clipped, entry)(b, max_grad_norm=1e-3)
    for k, (raw, got) in enumerate(zip(arrow_and_critic_params(free),
                                       arrow_and_critic_params(clipped), strict=True)):
        if entry == "critic_step" and k == 0:  # the arrows: no gradient, no update
            assert all(p.grad is None for p in raw + got)
            continue
        norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in raw]))
        assert norm > 1e-2  # so that 1e-3 clips
        by_hand = [p.grad * (1e-3 / (norm + 1e-6)) for p in raw]
        assert all(torch.allclose(p.grad, h, rtol=1e-5, atol=1e-10)
                   for p, h in zip(got, by_hand, strict=True))
    # the update is the clipped gradient (SGD, lr 1): smaller than without clipping
    moved = [(a - p).norm() for a, p in zip(before, clipped.parameters(), strict=True)]
    free_moved = [(a - p).norm() for a, p in zip(before, free.parameters(), strict=True)]
    assert sum(moved) < 0.1 * sum(free_moved)
    assert all(torch.allclose(p, a - p.grad, atol=1e-7)
               for a, p in zip(before, clipped.parameters(), strict=True) if p.grad is not None)
    with pytest.raises(CompilerError, match="max_grad_norm must be a finite number > 0"):
        clipped.step(b, max_grad_norm=0.0)


def program_weights(prog) -> dict:
    out = {f"arrow:{a}": {k: v.clone() for k, v in m.state_dict().items()}
           for a, m in prog.functor.modules.items()}
    out.update({f"critic:{'/'.join(label)}": {k: v.clone() for k, v in m.state_dict().items()}
                for bk in prog.critic_banks.banks
                for label, m in zip(bk.labels, bk.modules, strict=True)})
    return out


def load_weights(prog, weights: dict) -> None:
    for a, m in prog.functor.modules.items():
        m.load_state_dict(weights[f"arrow:{a}"])
    for bk in prog.critic_banks.banks:
        for label, m in zip(bk.labels, bk.modules, strict=True):
            m.load_state_dict(weights[f"critic:{'/'.join(label)}"])


def train(prog, steps: range) -> None:
    for i in steps:
        b = cyclegan_batch(n=3, seed=100 + i)
        prog.critic_step(b)
        prog.step(b, max_grad_norm=5.0)


def test_a_resumed_run_equals_an_uninterrupted_one_bitwise():
    """Weights, optimizer state, program state (the fake pool) and torch's RNG state
    are all a run needs: 3 + 3 steps in a fresh program equal 6 straight."""
    import copy

    kw = {"adversarial": "wgan-gp", "fake_pool": 4}   # alphas and pool draws are random
    straight = cyclegan(**kw)
    torch.manual_seed(123)
    train(straight, range(6))

    first = cyclegan(**kw)
    torch.manual_seed(123)
    train(first, range(3))
    saved = (program_weights(first), [copy.deepcopy(o.state_dict()) for o in first.optimizers],
             {k: v.clone() for k, v in first.state_dict().items()}, torch.get_rng_state())
    assert saved[2]["fake_pool:count"].item() == 4   # full: swaps happen after the resume

    resumed = cyclegan(seed=7, **kw)  # other initial weights, all overwritten
    weights, opt_states, state, rng = saved
    load_weights(resumed, weights)
    for opt, s in zip(resumed.optimizers, opt_states, strict=True):
        opt.load_state_dict(s)
    resumed.load_state_dict(state)
    torch.set_rng_state(rng)
    train(resumed, range(3, 6))
    assert all(torch.equal(a, b)
               for a, b in zip(straight.parameters(), resumed.parameters(), strict=True))
    assert all(torch.equal(v, resumed.state_dict()[k]) for k, v in straight.state_dict().items())
    assert not all(torch.equal(a, b)
                   for a, b in zip(straight.parameters(), first.parameters(), strict=True))


# ------------------------------------------------------ every entry point agrees
@pytest.mark.parametrize("entry", ["generator_losses", "critic_losses", "step", "critic_step"])
def test_every_entry_point_refuses_a_batch_holding_nan(entry):
    prog = cyclegan(fake_pool=4)
    bad = cyclegan_batch(n=4)
    bad["Horse"][0, 0] = float("nan")
    before = {k: v.clone() for k, v in prog.state_dict().items()}
    with pytest.raises(NonFiniteLossError, match="values for: Horse"):
        getattr(prog, entry)(bad)
    assert all(torch.equal(v, prog.state_dict()[k]) for k, v in before.items())  # pool too
    unchecked = cyclegan(check_finite=False)
    assert not torch.isfinite(unchecked.generator_losses(bad)["total"])


def test_a_network_failing_on_the_batch_is_named():
    S = schema("cyclegan")
    bn = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)}, ar={"f": bn, "g": mlp(2, 2)})
    prog = compile_functor(F, critics={"Horse": mlp(2, 1), "Zebra": mlp(2, 1)},
                           backend="eager")
    for entry in ["generator_losses", "step"]:
        with pytest.raises(CompilerError, match=r"arrow f : Horse -> Zebra fails on a batch of "
                                                r"size 1: .*batch normalisation needs more"):
            getattr(prog, entry)(cyclegan_batch(n=1))
    shared = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    prog = compile_functor(F, critics={"Horse": shared, "Zebra": shared}, backend="eager")
    with pytest.raises(CompilerError, match=r"critic for Zebra/Horse fails on a batch of size 1"):
        prog.critic_losses(cyclegan_batch(n=1))


def test_pickling_a_program_says_what_to_save():
    import copy
    import io
    import pickle

    from compiler import ProgramNotPicklable

    prog = cyclegan()
    for save in [pickle.dumps, lambda p: torch.save(p, io.BytesIO()), copy.deepcopy]:
        with pytest.raises(ProgramNotPicklable, match=r"state_dict\(\).*compile_functor again"):
            save(prog)


def test_an_unobserved_object_gets_no_critic_and_the_equations_constrain_it():
    """An autoencoder: A has data, B none (``unobserved``): no critic and no adversarial
    loss anywhere, only ``f.g = id(A)``; without ``unobserved`` it is refused."""
    S = Schema.parse("schema AE\nobject A, B\nf : A -> B\ng : B -> A\nf.g = id(A)\n")
    torch.manual_seed(0)
    F = Functor(S, ob={"A": Euclid(4), "B": Euclid(2)}, ar={"f": mlp(4, 2), "g": mlp(2, 4)})
    prog = compile_functor(F, critics={}, backend="eager", unobserved=["B"], lr=1e-2)
    assert prog.plan.critics == [] and any("B is unobserved" in n for n in prog.plan.notes)
    x = torch.randn(16, 4)
    first = prog.step({"A": x})
    for _ in range(20):
        last = prog.step({"A": x})
    assert set(first) == {"eq:f.g = id(A)", "total", "critic_total"}
    assert last["eq:f.g = id(A)"] < first["eq:f.g = id(A)"]
    with pytest.raises(FunctorError, match=r"or declare it unobserved=\[B\]"):
        compile_functor(F, critics={}, backend="eager", data_objects=["A"])
    with pytest.raises(FunctorError, match="data_objects: B is unobserved"):
        compile_functor(F, critics={}, backend="eager", data_objects=["A", "B"],
                        unobserved=["B"])


def test_an_unobserved_factor_is_not_scored():
    """``f: A -> BxC`` with C unobserved: f's fakes are scored on B alone."""
    S = schema("product")
    F = Functor(S, ob={"A": Euclid(4), "B": Euclid(3), "C": Euclid(2)},
                ar={"f": Split(), "g": Join()})
    prog = compile_functor(F, critics={"A": mlp(4, 1), "B": mlp(3, 1)}, backend="eager",
                           unobserved=["C"])
    assert [c.name for c in prog.plan.critics] == ["critic:B"]
    assert [loss.name for loss in prog.plan.losses] == ["adv:f", "eq:f.g = id(A)"]
    out = prog.step({"A": torch.randn(8, 4), "B": torch.randn(8, 3)})
    assert torch.isfinite(out["total"]) and "critic:B" in out
