"""How far could an unpaired font arrow go? Its own network trained with the answers.

The font experiments train unpaired (each font's glyphs sampled on their own) and are
judged on held-out characters against the same character in the target font. This
script trains each arrow's network once more *paired*: the experiment's own network
(built by the experiment, so the same architecture, start and seed), its own Adam
settings, steps, batch and learning-rate schedule, but the loss is the mean absolute
error to the true target glyph of every training input — what an arrow could learn
from these training characters if it were shown the answers. Its held-out error against
the identity's bounds what the unpaired run can be expected to reach: an unpaired arrow
near it is limited by the characters it is trained on, not by the adversarial loss or
the equations; a target under it needs other data or another network, not another loss.

Each row: the held-out ratio over seeds (mean ± spread), its worst decile, and the same
ratio on the training characters (how much of the fit is memorising). The serif pair's
*variants* (seed 0; :data:`VARIANTS`) change one thing each, to see what moves the bound:
a wider editor, a U-Net, twice the data (the Bold faces' pairs), four times the
characters (extended letters whose base letter is not held out), shifted pairs.

    python3 benchmarks/bench_paired_bounds.py [--write] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's own packages, not an installed cdl

from benchmarks.readme_block import publish  # noqa: E402
from runtime.experiments import registry  # noqa: E402
from runtime.experiments.experiment import Options  # noqa: E402
from runtime.experiments.font_pairs import SIZE, font_glyphs  # noqa: E402
from runtime.experiments.nets import IdentityStartGenerator, ResidualBlock  # noqa: E402
from runtime.report.measures import per_input_mae, worst_decile_ratio  # noqa: E402
from runtime.sources import glyphs  # noqa: E402
from runtime.sources.augment import Augment  # noqa: E402
from runtime.sources.glyphs import DEFAULT_CHARS, fit_em, font_path, has_char  # noqa: E402
from runtime.train.state import linear_decay  # noqa: E402

# (row, experiment, arrow, source font, target font)
ARROWS = (
    ("cyclegan_fonts f (Sans → Bold)", "cyclegan_fonts", "f",
     "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("cyclegan_fonts g (Bold → Sans)", "cyclegan_fonts", "g",
     "DejaVuSans-Bold.ttf", "DejaVuSans.ttf"),
    ("cyclegan_fonts_serif f (Sans → Serif)", "cyclegan_fonts_serif", "f",
     "DejaVuSans.ttf", "DejaVuSerif.ttf"),
    ("cyclegan_fonts_serif g (Serif → Sans)", "cyclegan_fonts_serif", "g",
     "DejaVuSerif.ttf", "DejaVuSans.ttf"),
)
SERIF_ARROWS = ARROWS[2:]
BOLD_FACE = {"DejaVuSans.ttf": "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf": "DejaVuSerif-Bold.ttf"}
# Latin-1 and Latin Extended-A/B, Greek with tonos, Cyrillic and its supplement
EXTENDED_BLOCKS = ((0x00C0, 0x024F), (0x0386, 0x03CE), (0x0400, 0x052F))
MARGIN = inspect.signature(glyphs).parameters["margin"].default  # the experiments' margin


class UNetEditor(nn.Module):
    """``x ↦ clamp(x + head(...))`` through two stride-2 stages to 8×8 and back, each
    stage's features concatenated on the way up (a U-Net); the head zero at start, so
    the identity at start like the experiments' editors."""

    def __init__(self, width: int = 16, blocks: int = 2):
        super().__init__()

        def stage(cin, cout, conv):
            return nn.Sequential(conv(cin, cout), nn.InstanceNorm2d(cout, affine=True),
                                 nn.LeakyReLU(0.2))

        w = width
        self.stem = stage(1, w, lambda i, o: nn.Conv2d(i, o, 7, padding=3))
        self.down1 = stage(w, 2 * w, lambda i, o: nn.Conv2d(i, o, 4, 2, 1))
        self.down2 = stage(2 * w, 4 * w, lambda i, o: nn.Conv2d(i, o, 4, 2, 1))
        self.middle = nn.Sequential(*[ResidualBlock(4 * w) for _ in range(blocks)])
        self.up2 = stage(4 * w, 2 * w, lambda i, o: nn.ConvTranspose2d(i, o, 4, 2, 1))
        self.merge2 = stage(4 * w, 2 * w, lambda i, o: nn.Conv2d(i, o, 3, padding=1))
        self.up1 = stage(2 * w, w, lambda i, o: nn.ConvTranspose2d(i, o, 4, 2, 1))
        self.merge1 = stage(2 * w, w, lambda i, o: nn.Conv2d(i, o, 3, padding=1))
        self.head = nn.Conv2d(w, 1, 7, padding=3)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x):
        a = self.stem(x)
        b = self.down1(a)
        c = self.middle(self.down2(b))
        b = self.merge2(torch.cat([self.up2(c), b], 1))
        a = self.merge1(torch.cat([self.up1(b), a], 1))
        return (x + self.head(a)).clamp(-1, 1)


def extended_letters(fonts: tuple[str, str], held_out: str) -> str:
    """Letters beyond :data:`DEFAULT_CHARS` that both ``fonts`` draw at their default
    characters' scale (a letter that would shrink it, :func:`fit_em`, is left out), none
    whose base letter (Unicode decomposition: É → E) is held out — more characters to
    train on, none of them a held-out character with an accent."""
    held = set(held_out)
    paths = [font_path(f) for f in fonts]
    scales = [default_em(f) for f in fonts]
    found = []
    for lo, hi in EXTENDED_BLOCKS:
        for c in map(chr, range(lo, hi + 1)):
            if (c in DEFAULT_CHARS or not unicodedata.category(c).startswith("L")
                    or unicodedata.normalize("NFD", c)[0] in held
                    or not all(has_char(p, c) for p in paths)):
                continue
            if all(fit_em(p, c, SIZE, MARGIN) >= em for p, em in zip(paths, scales)):
                found.append(c)
    return "".join(found)


def default_em(font: str) -> float:
    """The scale (pixels per em) of ``font``'s glyphs in the experiments."""
    return glyphs(font, size=SIZE).em


def more_pairs(source: str, target: str, held_out: str) -> dict[str, Callable]:
    """Per data variant: the extra (input, truth) training pairs, rendered at the default
    characters' scale so that every glyph keeps the size it has in the experiment."""

    def rendered(font: str, chars: str, split: str | None = None) -> torch.Tensor:
        return glyphs(font, chars=chars, size=SIZE, split=split, em=default_em(font)).tensor

    def bold():
        return (rendered(BOLD_FACE[source], DEFAULT_CHARS, "train"),
                rendered(BOLD_FACE[target], DEFAULT_CHARS, "train"))

    def extended():
        chars = extended_letters((source, target), held_out)
        return rendered(source, chars), rendered(target, chars)

    return {"bold": bold, "extended": extended}


# name → (what the row says, network factory or None, extra data or None, shift in px)
VARIANTS = {
    "wider": ("wider editor (width 32, 4 blocks)",
              lambda: IdentityStartGenerator(width=32, blocks=4), None, 0),
    "unet": ("U-Net editor (to 8×8, skips)", UNetEditor, None, 0),
    "bold": ("+ the Bold faces' pairs (2× the glyphs)", None, "bold", 0),
    "extended": ("+ extended letters (4× the characters)", None, "extended", 0),
    "shift": ("pairs shifted ±2 px", None, None, 2),
}


def paired_ratios(experiment: str, arrow: str, source: str, target: str, seed: int,
                  variant: str | None = None, steps: int | None = None) -> dict[str, float]:
    """Train ``experiment``'s network for ``arrow`` (or ``variant``'s) on the paired training
    glyphs ``source → target`` with the experiment's optimizer settings and schedule; its
    held-out ratio, worst decile, training ratio and the number of training pairs."""
    _, make_net, extra, shift = VARIANTS[variant] if variant else (None, None, None, 0)
    torch.manual_seed(seed)
    module, _ = registry.load(experiment)
    built = module.build(Options(device=torch.device("cpu"), seed=seed))
    net = make_net() if make_net else built.functor.modules[built.schema[arrow]]
    settings, train = dict(built.compile), dict(built.train)
    steps = steps or int(train["steps"])
    batch = int(train.get("batch_size", 16))
    data = font_glyphs({"in": source, "out": target}, torch.device("cpu"))
    x, y = data.train["in"].tensor, data.train["out"].tensor
    if extra:
        ex, ey = more_pairs(source, target, data.test_chars)[extra]()
        x, y = torch.cat([x, ex]), torch.cat([y, ey])
    opt = torch.optim.Adam(net.parameters(), lr=float(settings.get("lr", 2e-4)),
                           betas=tuple(settings.get("betas", (0.5, 0.999))))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, linear_decay(steps, float(train.get("decay_from", 0.5))))
    generator = torch.Generator().manual_seed(seed)
    augment = Augment(shift=shift)
    for _ in range(steps):
        rows = torch.randint(0, x.shape[0], (batch,), generator=generator)
        pairs = augment(torch.cat([x[rows], y[rows]], 1), generator)  # one shift for both
        loss = (net(pairs[:, :1]) - pairs[:, 1:]).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
    with torch.no_grad():
        tx, ty = data.test["in"], data.test["out"]
        errors, identity = per_input_mae(net(tx), ty), per_input_mae(tx, ty)
        train_ratio = ((net(x) - y).abs().mean() / (x - y).abs().mean()).item()
    return {"ratio": (errors.mean() / identity.mean()).item(),
            "worst": worst_decile_ratio(errors, identity), "train": train_ratio,
            "pairs": x.shape[0]}


def spread(values: list[float]) -> str:
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.2f}×"
    return f"{mean:.2f}× ± {statistics.stdev(values):.2f}"


def table(seeds: list[int]) -> str:
    rows = [(name, spec, None, seeds) for name, *spec in ARROWS]
    rows += [(f"{name}, {VARIANTS[v][0]}", spec, v, seeds[:1])
             for v in VARIANTS for name, *spec in SERIF_ARROWS]
    lines = ["| arrow (held-out glyphs) | seeds | training pairs | paired, held out | "
             "worst decile | paired, training glyphs | s / run |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for name, spec, variant, used in rows:
        start = time.perf_counter()
        runs = [paired_ratios(*spec, seed=s, variant=variant) for s in used]
        wall = (time.perf_counter() - start) / len(used)
        lines.append(f"| {name} | {','.join(map(str, used))} | {runs[0]['pairs']} | "
                     f"{spread([r['ratio'] for r in runs])} | "
                     f"{spread([r['worst'] for r in runs])} | "
                     f"{spread([r['train'] for r in runs])} | {wall:.0f} |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="put the table in benchmarks/README.md")
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    start = time.perf_counter()
    text = table(seeds)
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    block = (f"Command: `python3 benchmarks/bench_paired_bounds.py` — measured {stamp}, "
             f"{time.perf_counter() - start:.0f} s, eager, this machine. Each ratio: the "
             f"held-out (or training) error of the arrow's network trained *paired* (L1 to "
             f"the true glyph), against the identity's (lower is better).\n\n{text}")
    publish(block, "bench_paired_bounds",
            "Paired bounds: the font arrows trained with the answers (`bench_paired_bounds.py`)",
            args.write)


if __name__ == "__main__":
    main()
