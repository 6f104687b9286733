"""The adversarial-loss table and its regularisers (R1, the gradient penalty), eager."""

import dataclasses

import pytest
import torch
from compiler_fixtures import cyclegan, cyclegan_batch

from compiler import CompileOptions, FunctorError
from compiler.losses import (
    ADVERSARIAL,
    POINTS,
    Adversarial,
    Regulariser,
    nsgan_fake,
    nsgan_generator,
    nsgan_real,
    squared_norm,
)


def critic_of(prog, ob: str):
    return next(bk.modules[0] for bk in prog.critic_banks.banks if bk.labels == [[ob]])


def input_grads(critic, x: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return g


def test_r1_is_gamma_over_two_times_the_squared_input_gradient_norm_on_reals():
    """StyleGAN2's R1: ``r1:X = E[‖∇D(x_real)‖²]``, in the critics' total as ``γ/2 · r1:X``,
    checked against torch.autograd.grad on the tiny critics, values and gradients."""
    b = cyclegan_batch()
    prog = cyclegan(adversarial="nsgan-r1", r1_gamma=3.0, fuse=False)
    c = prog.critic_losses(b)
    assert set(c) == {"critic:Zebra", "critic:Horse", "r1:Zebra", "r1:Horse", "total"}
    for ob in ("Horse", "Zebra"):
        D = critic_of(prog, ob)
        g = input_grads(D, b[ob])
        r1 = g.square().sum(dim=1).mean()
        assert c[f"r1:{ob}"].item() == pytest.approx(r1.item(), rel=1e-5)
        weights = list(D.parameters())[:3]  # the last bias does not move input gradients
        got = torch.autograd.grad(c[f"r1:{ob}"], weights, retain_graph=True)
        want = torch.autograd.grad(r1, weights)
        assert all(torch.allclose(a, w, atol=1e-6) for a, w in zip(got, want, strict=True))
    plain = c["critic:Zebra"] + c["critic:Horse"]
    assert c["total"].item() == pytest.approx(
        (plain + 1.5 * (c["r1:Zebra"] + c["r1:Horse"])).item(), rel=1e-5)
    assert "r1:Zebra: zero-centred gradient penalty on reals" in str(prog.plan)


def test_r1_draws_no_random_numbers_and_needs_no_fakes_gradient():
    """R1 is taken at the reals: no interpolation weights are drawn (the RNG is left as
    it was), and it is the same whatever the fakes are."""
    b = cyclegan_batch()
    prog = cyclegan(adversarial="nsgan-r1", fuse=False)
    assert prog.plan.interpolated == []
    torch.manual_seed(0)
    prog.critic_losses(b)
    after = torch.rand(1)
    torch.manual_seed(0)
    assert torch.equal(torch.rand(1), after)


def test_r1_fused_critics_match_unfused():
    b = cyclegan_batch()
    out = []
    for fuse in (None, False):
        prog = cyclegan(adversarial="nsgan-r1", fuse=fuse)
        assert len(prog.plan.critic_groups) == (1 if fuse is None else 0)
        out.append(prog.step(b))
    for k in out[0]:
        assert torch.allclose(out[0][k], out[1][k], atol=1e-5), k
    assert out[0]["r1:Horse"] > 0


def test_r1_gamma_is_checked_and_zero_turns_it_off_in_the_total():
    with pytest.raises(FunctorError, match=r"r1_gamma must be a finite number ≥ 0, got -1"):
        cyclegan(adversarial="nsgan-r1", r1_gamma=-1)
    c = cyclegan(adversarial="nsgan-r1", r1_gamma=0.0).critic_losses(cyclegan_batch())
    assert c["total"].item() == pytest.approx((c["critic:Zebra"] + c["critic:Horse"]).item())


def test_a_new_regulariser_is_one_row(monkeypatch):
    """R2 (the zero-centred penalty on fakes) as one new row of the table, with the
    function it needs: nothing else changes."""
    r2 = Regulariser("r2", squared_norm, "fakes", "r1_gamma", scale=0.5)
    monkeypatch.setitem(ADVERSARIAL, "nsgan-r2",
                        Adversarial("nsgan-r2", nsgan_generator, nsgan_real, nsgan_fake, r2))
    b = cyclegan_batch()
    prog = cyclegan(adversarial="nsgan-r2", r1_gamma=2.0, fuse=False)
    gen = prog.generator_losses(b)
    c = prog.critic_losses(b)
    f = prog.functor.modules[prog.functor.schema["f"]]
    with torch.no_grad():
        fake = f(b["Horse"])  # what the Zebra critic scores as fake
    r2_zebra = input_grads(critic_of(prog, "Zebra"), fake).square().sum(dim=1).mean()
    assert c["r2:Zebra"].item() == pytest.approx(r2_zebra.item(), rel=1e-5)
    assert "adv:f" in gen and "r2:Horse" in c


def test_every_row_is_well_formed():
    names = {f.name for f in dataclasses.fields(CompileOptions)}
    for a in ADVERSARIAL.values():
        if a.regulariser is not None:
            assert a.regulariser.weight in names, a.name   # an option gives its weight
            assert a.regulariser.at in POINTS
    with pytest.raises(ValueError, match="at must be one of reals, fakes, interpolates"):
        Regulariser("bad", squared_norm, "everywhere", "gp_weight")


def test_squared_norm_is_per_sample_then_mean():
    g = torch.tensor([[3.0, 4.0], [0.0, 1.0]])
    assert squared_norm(g).item() == pytest.approx((25 + 1) / 2)
    assert squared_norm(g.reshape(2, 1, 2)).item() == pytest.approx(13.0)
