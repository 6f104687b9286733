"""A toy CycleGAN, end to end: two Gaussian clouds in R^2, learned translations both ways.

The schema is ``examples/cyclegan.schema``; each arrow gets a small MLP, each object a
critic. cdl compiles every adversarial loss and both cycle equations into one program
and trains it with ``prog.step``. Run::

    python3 examples/toy_cyclegan.py [--steps 400] [--backend eager|inductor]

It prints the losses and, at the end, how far each learned map lands from its
target cloud's mean and how well the cycle equations hold on fresh data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import nn

from category import Schema
from compiler import Euclid, Functor, compile_functor

HERE = Path(__file__).resolve().parent
HORSE_MEAN, ZEBRA_MEAN = torch.tensor([-2.0, 0.0]), torch.tensor([2.0, 1.0])


def mlp(i: int, o: int, hidden: int = 32) -> nn.Module:
    return nn.Sequential(nn.Linear(i, hidden), nn.SiLU(), nn.Linear(hidden, o))


def batch(g: torch.Generator, n: int = 64) -> dict[str, torch.Tensor]:
    return {"Horse": torch.randn(n, 2, generator=g) * 0.5 + HORSE_MEAN,
            "Zebra": torch.randn(n, 2, generator=g) * 0.5 + ZEBRA_MEAN}


def main(argv=None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--backend", default="eager", choices=["eager", "inductor"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    S = Schema.parse((HERE / "cyclegan.schema").read_text())
    F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
                ar={"f": mlp(2, 2), "g": mlp(2, 2)})
    F.check()  # every arrow maps F(dom) to F(cod), on meta tensors
    prog = compile_functor(F, critics={"Horse": mlp(2, 1), "Zebra": mlp(2, 1)},
                           adversarial="lsgan", distance="l1", equation_weight=10.0,
                           backend=args.backend, lr=2e-3)
    print(prog.plan)
    g = torch.Generator().manual_seed(args.seed + 1)
    for step in range(1, args.steps + 1):
        losses = prog.step(batch(g))
        if step == 1 or step % 100 == 0 or step == args.steps:
            shown = ", ".join(f"{k}={v.item():.3f}" for k, v in losses.items())
            print(f"step {step}: {shown}")

    test = batch(g, 512)
    with torch.no_grad():
        f, g_ = F.modules[S["f"]], F.modules[S["g"]]
        result = {
            "f lands on Zebra (mean distance)":
                (f(test["Horse"]).mean(0) - ZEBRA_MEAN).norm().item(),
            "g lands on Horse (mean distance)":
                (g_(test["Zebra"]).mean(0) - HORSE_MEAN).norm().item(),
        }
    result.update({k: float(v) for k, v in F.residuals(test).items()})
    for k, v in result.items():
        print(f"{k}: {v:.3f}")
    return result


if __name__ == "__main__":
    main()
