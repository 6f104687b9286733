"""Tiny schemas, networks and programs shared by the compiler tests."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn

from category import Schema
from compiler import Euclid, Functor, compile_functor

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def schema(name: str) -> Schema:
    return Schema.parse((EXAMPLES / f"{name}.schema").read_text())


def mlp(i: int, o: int, hidden: int = 16) -> nn.Module:
    return nn.Sequential(nn.Linear(i, hidden), nn.SiLU(), nn.Linear(hidden, o))


class Counted(nn.Module):
    """A network that counts its forward calls."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.net(x)


class Split(nn.Module):
    """A -> B × C: one linear map, its output split in two."""

    def __init__(self, a: int = 4, b: int = 3, c: int = 2):
        super().__init__()
        self.net, self.b = nn.Linear(a, b + c), b

    def forward(self, x):
        y = self.net(x)
        return y[:, : self.b], y[:, self.b:]


class Join(nn.Module):
    """B × C -> A."""

    def __init__(self, a: int = 4, b: int = 3, c: int = 2):
        super().__init__()
        self.net = nn.Linear(b + c, a)

    def forward(self, b, c):
        return self.net(torch.cat([b, c], dim=1))


class Affine(nn.Module):
    """A network with no stacked lowering: fused through vmap(functional_call)."""

    def __init__(self, i: int, o: int):
        super().__init__()
        self.w = nn.Parameter(torch.randn(o, i) * 0.5)
        self.b = nn.Parameter(torch.randn(o) * 0.1)

    def forward(self, x):
        return torch.tanh(x @ self.w.T + self.b)


def cyclegan_functor(seed: int = 0, dim: int = 2, net=None) -> tuple[Functor, dict]:
    """The CycleGAN functor and its critics, not compiled."""
    torch.manual_seed(seed)
    net = net or mlp
    S = schema("cyclegan")
    F = Functor(S, ob={"Horse": Euclid(dim), "Zebra": Euclid(dim)},
                ar={"f": net(dim, dim), "g": net(dim, dim)})
    return F, {"Horse": net(dim, 1), "Zebra": net(dim, 1)}


def cyclegan(backend="eager", seed: int = 0, dim: int = 2, net=None, **kw):
    F, critics = cyclegan_functor(seed, dim, net)
    return compile_functor(F, critics=critics, backend=backend, **kw)


def momentum_sgd(params) -> torch.optim.Optimizer:
    """An optimizer with state (momentum) whose update is linear in the gradients, so a
    step can be checked to float tolerance against one computed apart."""
    return torch.optim.SGD(params, lr=0.05, momentum=0.5)


class Replay:
    """Each program's step as it must be, computed apart from the programs: an eager,
    unfused program over copies of the modules, and one optimizer per program under
    test (its state continues as that program's does), applied each time to the weights
    the modules hold now — whichever program trained them last."""

    def __init__(self, F: Functor, critics: dict, make_opt, programs: int):
        self.modules = [*F.modules.values(), *critics.values()]
        self.copies = copy.deepcopy(self.modules)
        n = len(F.modules)
        ar = {a.name: c for a, c in zip(F.modules, self.copies[:n], strict=True)}
        self.program = compile_functor(
            Functor(F.schema, ob=dict(F.spaces), ar=ar),
            critics=dict(zip(critics, self.copies[n:], strict=True)), backend="eager",
            fuse=False)
        params = [p for c in self.copies for p in c.parameters()]
        self.optimizers = [make_opt(params) for _ in range(programs)]

    def step(self, k: int, batch) -> tuple[dict, list[torch.Tensor]]:
        """Program ``k``'s step from the modules' current weights: its losses, and every
        module parameter after it (in ``self.modules`` order)."""
        for m, c in zip(self.modules, self.copies, strict=True):
            c.load_state_dict(m.state_dict())
        opt = self.optimizers[k]
        opt.zero_grad(set_to_none=True)
        gen = self.program.generator_losses(batch)
        gen["total"].backward()
        cri = self.program.critic_losses(batch)
        cri["total"].backward()
        opt.step()
        losses = {**gen, **{n: v for n, v in cri.items() if n != "total"},
                  "critic_total": cri["total"]}
        return ({n: v.detach() for n, v in losses.items()},
                [p.detach().clone() for c in self.copies for p in c.parameters()])


def train_in_turn(programs: list, replay: Replay, turns: int, atol: float = 1e-5) -> None:
    """Step ``programs`` in turn over the same modules; every step must compute its losses
    from the modules' current weights and leave in the modules what it trained (checked
    against ``replay``); an eager program's ``generator_losses`` is checked first too."""
    for i in range(turns):
        k = i % len(programs)
        prog, batch = programs[k], cyclegan_batch(seed=10 + i)
        before = [p.detach().clone() for m in replay.modules for p in m.parameters()]
        want, weights = replay.step(k, batch)
        if prog.backend == "eager":
            gen = prog.generator_losses(batch)
            for n, v in gen.items():
                assert torch.allclose(v, want[n], atol=atol), (i, n, v, want[n])
        got = prog.step(batch)
        assert got.keys() == want.keys()
        for n, v in got.items():
            assert torch.allclose(v, want[n], atol=atol), (i, n, v, want[n])
        after = [p.detach() for m in replay.modules for p in m.parameters()]
        for j, (b, a, w) in enumerate(zip(before, after, weights, strict=True)):
            assert not torch.equal(a, b), (i, j)  # the step trained the modules themselves
            assert torch.allclose(a, w, atol=atol), (i, j, (a - w).abs().max())


def product(backend="eager", seed: int = 0, **kw):
    torch.manual_seed(seed)
    S = schema("product")
    F = Functor(S, ob={"A": Euclid(4), "B": Euclid(3), "C": Euclid(2)},
                ar={"f": Split(), "g": Join()})
    critics = {"A": mlp(4, 1), "B": mlp(3, 1), "C": mlp(2, 1)}
    return compile_functor(F, critics=critics, backend=backend, **kw)


def cyclegan_batch(n: int = 8, dim: int = 2, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return {"Horse": torch.randn(n, dim, generator=g) - 2,
            "Zebra": torch.randn(n, dim, generator=g) + 2}


def product_batch(n: int = 8, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return {"A": torch.randn(n, 4, generator=g), "B": torch.randn(n, 3, generator=g),
            "C": torch.randn(n, 2, generator=g)}


def grads_of(prog) -> list[torch.Tensor]:
    """Every arrow's and critic's parameter gradient, in a fixed order (zeros if none)."""
    mods = [*prog.functor.modules.values(),
            *[m for b in prog.critic_banks.banks for m in b.modules]]
    return [p.grad.clone() if p.grad is not None else torch.zeros_like(p)
            for m in mods for p in m.parameters()]


def zero_grads(prog) -> None:
    for m in [*prog.functor.modules.values(),
              *[m for b in prog.critic_banks.banks for m in b.modules]]:
        m.zero_grad(set_to_none=True)


def grid_schema(k: int) -> Schema:
    """A k×k grid of objects: right arrows r_i_j, down arrows d_i_j, every square commutes."""
    S = Schema(f"Grid{k}")
    X = {(i, j): S.object(f"X{i}_{j}") for i in range(k) for j in range(k)}
    r = {(i, j): S.arrow(f"r{i}_{j}", X[i, j], X[i, j + 1]) for i in range(k) for j in range(k - 1)}
    d = {(i, j): S.arrow(f"d{i}_{j}", X[i, j], X[i + 1, j]) for i in range(k - 1) for j in range(k)}
    for i in range(k - 1):
        for j in range(k - 1):
            S.equate(r[i, j] >> d[i, j + 1], d[i, j] >> r[i + 1, j])
    return S


def grid(k: int = 3, dim: int = 4, backend="eager", seed: int = 0, **kw):
    torch.manual_seed(seed)
    S = grid_schema(k)
    F = Functor(S, ob={o: Euclid(dim) for o in S.objects()},
                ar={a: mlp(dim, dim, 8) for a in S.arrows})
    critics = {o: mlp(dim, 1, 8) for o in S.objects()}
    return compile_functor(F, critics=critics, backend=backend, **kw)


def grid_batch(k: int = 3, dim: int = 4, n: int = 6, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return {f"X{i}_{j}": torch.randn(n, dim, generator=g) for i in range(k) for j in range(k)}


class BatchNormNet(nn.Module):
    """A network with buffers (BatchNorm's running statistics, updated in place)."""

    def __init__(self, i: int, o: int):
        super().__init__()
        self.lin, self.norm, self.out = nn.Linear(i, 8), nn.BatchNorm1d(8), nn.Linear(8, o)

    def forward(self, x):
        return self.out(torch.relu(self.norm(self.lin(x))))
