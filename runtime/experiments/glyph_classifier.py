"""The measuring instrument of the glyph experiments: a small CNN that names characters.

A generated or translated glyph is judged by what a classifier trained on *real*
glyphs makes of it: whether it reads as the intended character (``accuracy``), how
sure it is (``confidence``), and where it lies in the classifier's feature space
(``features``, for KID). The classifier is trained on every character of
:data:`~runtime.sources.DEFAULT_CHARS` in the bundled fonts that have all of them
(DejaVu Sans, Sans Mono and Serif in their four faces and STIX General in four, less
:data:`HELD_OUT`; Last Resort draws placeholder boxes for every character and is left
out, as are the Computer Modern fonts, whose code points follow TeX's encoding rather
than Unicode), with small random shifts and scales as augmentation.

Held-out accuracy (trained with the defaults, measured on :data:`HELD_OUT`, STIX General
Bold, a font it never saw, all 209 characters): **0.967** (mean top probability 0.86).
On the fonts of the experiments (DejaVu Sans, Sans Bold, Serif) it reads 0.96–0.98 of
the glyphs; what it misses are pairs that one font draws almost alike but the others
do not (``l``/``I``, ``Φ``/``Ф``, ``0``/``O`` in DejaVu Sans). Training takes about
40 s on one CPU thread and runs once per settings: the weights are cached in the
process and on disk (``~/.cache/cdl/glyph_classifier-<hash of the settings>.pt``).

Look-alike characters. Latin O, Greek Ο and Cyrillic О are one drawing in most fonts,
so no classifier can (or should) tell them apart. Characters are *grouped* into one
class where their glyphs are near-identical in most reference fonts
(:data:`GROUP_FONTS`, DejaVu Sans, Serif and Sans Mono): mean absolute pixel difference
below :data:`GROUP_THRESHOLD` (in units of the [-1, 1] range) in at least two of the
three, closed transitively. This merges the Latin/Greek/Cyrillic homoglyphs (A Α А,
B Β В, o ο о, p ρ р, Γ Г, κ к, …: 26 groups, 170 classes for 209 characters) and, because
glyphs are centred on their ink, the tiny marks ``' , . ``` that differ only by where
they sit on the line. "Most" rather than "all" because some pairs are one drawing in
two faces and differ only in the third (Γ and Г have a serif only in DejaVu Serif).
``classes`` lists the groups; ``label`` maps characters to their group.

Use (e.g. judging a translation ``f`` on held-out glyphs ``x`` whose characters are
``chars``, with paired ground truth ``y``)::

    clf = classifier(device=x.device)
    clf.accuracy(f(x), chars)           # read as the intended character (or a look-alike)
    clf.confidence(f(x))                # how legible, against clf.confidence(y)
    clf.coverage(gen(z), chars)         # the share of chars' classes read at least once
    runtime.measures.ssim(f(x), y)      # per glyph, against the ground truth
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from category.files import write_atomic
from runtime.report.measures import class_coverage
from runtime.sources import DEFAULT_CHARS, font_names, glyphs
from runtime.sources.glyphs import font_path, has_char

HELD_OUT = "STIXGeneralBol.ttf"
EXCLUDED = ("LastResortHE-Regular.ttf",)  # placeholder boxes, not letters
GROUP_FONTS = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf")
GROUP_THRESHOLD = 0.01
VERSION = 1  # bump when training changes, so that cached weights are not reused
CACHE = Path.home() / ".cache" / "cdl"


def training_fonts(held_out: str = HELD_OUT) -> tuple[str, ...]:
    """The bundled fonts that have every character of ``DEFAULT_CHARS``, less ``held_out``."""
    candidates = [f for f in font_names() if f not in EXCLUDED and f != held_out]
    paths = {f: font_path(f) for f in candidates}  # once per font, not per character
    return tuple(f for f in candidates if all(has_char(paths[f], c) for c in DEFAULT_CHARS))


def lookalike_groups(chars: str = DEFAULT_CHARS, size: int = 32,
                     fonts: tuple[str, ...] = GROUP_FONTS,
                     threshold: float = GROUP_THRESHOLD) -> tuple[str, ...]:
    """``chars`` partitioned into groups of near-identical glyphs (see the module doc).

    >>> groups = lookalike_groups()
    >>> [g for g in groups if "O" in g or "x" in g]
    ['OΟО', 'xх']
    >>> any("l" in g and "I" in g for g in groups)  # a serif tells them apart
    False
    """
    parent = list(range(len(chars)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    votes = torch.zeros(len(chars), len(chars), dtype=torch.int32)
    for font in fonts:
        g = glyphs(font, chars=chars, size=size)
        if g.chars != chars:
            raise ValueError(f"lookalike_groups: reference font {font} lacks characters "
                             f"{''.join(sorted(set(chars) - set(g.chars)))!r}")
        x = g.tensor.flatten(1)
        votes += torch.cdist(x, x, p=1) / x.shape[1] < threshold
    close = 2 * votes > len(fonts)
    for i, j in torch.nonzero(torch.triu(close, 1)).tolist():
        parent[root(i)] = root(j)
    groups: dict[int, str] = {}
    for i, c in enumerate(chars):
        groups[root(i)] = groups.get(root(i), "") + c
    return tuple(groups.values())


def network(classes: int, width: int = 32) -> nn.Sequential:
    """Three conv–BN–ReLU–pool stages (32 → 4 px), a 256-wide layer (the features), logits."""
    def stage(a, b):
        return [nn.Conv2d(a, b, 3, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU(),
                nn.MaxPool2d(2)]

    return nn.Sequential(*stage(1, width), *stage(width, 2 * width),
                         *stage(2 * width, 4 * width), nn.Flatten(),
                         nn.Linear(16 * 4 * width, 256), nn.ReLU(), nn.Linear(256, classes))


def augment(x: torch.Tensor, g: torch.Generator, shift: float = 2.0,
            scale: float = 0.12) -> torch.Tensor:
    """Each glyph shifted by up to ``shift`` px and scaled by up to ±``scale``, black fill."""
    n, size = len(x), x.shape[-1]
    s = 1 + (torch.rand(n, generator=g) * 2 - 1) * scale
    t = (torch.rand(n, 2, generator=g) * 2 - 1) * shift * 2 / size
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1 / s
    theta[:, :, 2] = t
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False) - 1  # zero padding = black


@dataclass(frozen=True)
class GlyphClassifier:
    """A trained glyph classifier (eval mode) and its classes (groups of characters).

    Inputs are ``[N, 1, size, size]`` glyphs in [-1, 1] on any device (moved to the
    classifier's). ``label("Aa")`` gives class ids; ``accuracy(x, chars)`` compares
    ``predict(x)`` with ``label(chars)``.
    """

    net: nn.Sequential
    classes: tuple[str, ...]
    size: int

    def _run(self, x: torch.Tensor, upto: int | None = None) -> torch.Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, self.size, self.size):
            raise ValueError(f"GlyphClassifier expects glyphs [N, 1, {self.size}, {self.size}]"
                             f", got shape {list(x.shape)}")
        device = next(self.net.parameters()).device
        layers = self.net if upto is None else self.net[:upto]
        with torch.no_grad():
            return torch.cat([layers(b.to(device).float()) for b in x.split(512)])

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer, ``[N, 256]``, each row scaled to norm √256: what KID compares.

        The scaling makes ``a·b / d`` the cosine of the two feature vectors, so the KID
        kernel ``(a·b / d + 1)³`` stays in [0, 8]: without it, the raw activations of
        glyphs unlike any real one (an untrained generator's grey blobs) are so large
        that the cubic kernel puts them millions away and every other difference is lost.
        """
        f = self._run(x, upto=-1)
        return F.normalize(f, dim=1) * f.shape[1] ** 0.5

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Class ids ``[N]`` (indices into ``classes``)."""
        return self.logits(x).argmax(1)

    def top_probability(self, x: torch.Tensor) -> torch.Tensor:
        """Each glyph's largest softmax probability, ``[N]``: near 1 for a clear glyph."""
        return self.logits(x).softmax(1).max(1).values

    def confidence(self, x: torch.Tensor) -> float:
        """The mean over ``x`` of the largest softmax probability: near 1 for clear glyphs."""
        return self.top_probability(x).mean().item()

    def label(self, chars: str) -> torch.Tensor:
        """The class id of each character of ``chars``; unknown characters raise."""
        index = {c: k for k, group in enumerate(self.classes) for c in group}
        missing = "".join(c for c in chars if c not in index)
        if missing:
            raise ValueError(f"GlyphClassifier: characters {missing!r} are not among its "
                             f"classes (DEFAULT_CHARS)")
        device = next(self.net.parameters()).device
        return torch.tensor([index[c] for c in chars], device=device)

    def accuracy(self, x: torch.Tensor, chars: str) -> float:
        """The fraction of ``x[i]`` read as ``chars[i]`` (or a look-alike of it)."""
        if len(x) != len(chars):
            raise ValueError(f"GlyphClassifier.accuracy: {len(x)} glyphs but {len(chars)} "
                             f"characters")
        return (self.predict(x) == self.label(chars)).float().mean().item()

    def coverage(self, x: torch.Tensor, chars: str) -> float:
        """The fraction of the classes of ``chars`` read in at least one glyph of ``x``
        (:func:`~runtime.report.measures.class_coverage`): a mode-collapse check for a
        generator of ``chars``. Look-alikes are one class, so they count once."""
        return class_coverage(self.predict(x), self.label(chars))


def _train(fonts: tuple[str, ...], size: int, epochs: int, width: int, seed: int,
           classes: tuple[str, ...]) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    index = {c: k for k, group in enumerate(classes) for c in group}
    xs, ys = [], []
    for font in fonts:
        gl = glyphs(font, size=size)
        xs.append(gl.tensor)
        ys.append(torch.tensor([index[c] for c in gl.chars]))
    x, y = torch.cat(xs), torch.cat(ys)
    with torch.random.fork_rng(devices=[]):  # the caller's seeded RNG is left as it was
        torch.manual_seed(seed)
        net = network(len(classes), width)
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
        batch = 128
        total = epochs * -(-len(x) // batch)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=total)
        net.train()
        for _ in range(epochs):
            order = torch.randperm(len(x), generator=g)
            for idx in order.split(batch):
                loss = F.cross_entropy(net(augment(x[idx], g)), y[idx], label_smoothing=0.05)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
    return net.state_dict()


@functools.lru_cache(maxsize=8)
def _weights(fonts: tuple[str, ...], size: int, epochs: int, width: int, seed: int,
             cache: str | None) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """The trained weights and classes for these settings: from disk, or trained (on the CPU,
    whatever the default device) and then written to disk atomically."""
    with torch.device("cpu"):
        classes = lookalike_groups(size=size)
    settings = {"version": VERSION, "fonts": fonts, "size": size, "epochs": epochs,
                "width": width, "seed": seed, "classes": classes}
    key = hashlib.blake2b(json.dumps(settings).encode(), digest_size=8).hexdigest()
    path = Path(cache) / f"glyph_classifier-{key}.pt" if cache else None
    if path is not None and path.is_file():
        try:
            return torch.load(path, map_location="cpu", weights_only=True), classes
        except Exception:  # noqa: BLE001 - a damaged cache file is retrained and replaced
            pass
    with torch.device("cpu"):
        state = _train(fonts, size, epochs, width, seed, classes)
    if path is not None:
        buffer = io.BytesIO()
        torch.save(state, buffer)
        try:
            write_atomic(path, buffer.getvalue())
        except OSError as e:  # a read-only home: train again next time, but do not fail
            warnings.warn(f"glyph classifier: cannot cache its weights in {cache}: {e}",
                          stacklevel=2)
    return state, classes


def classifier(size: int = 32, fonts: tuple[str, ...] | None = None, epochs: int = 10,
               width: int = 24, seed: int = 0, device: str | torch.device = "cpu",
               cache: str | Path | None = CACHE) -> GlyphClassifier:
    """The glyph classifier for ``size``-pixel glyphs, trained once per settings.

    ``fonts`` defaults to :func:`training_fonts` (all complete bundled fonts but
    :data:`HELD_OUT`); ``cache`` is the folder for the weights on disk (``None``: keep
    them in the process only). Training is seeded and leaves torch's global RNG as it was.

    >>> c = classifier(fonts=("DejaVuSans.ttf",), epochs=1, width=8, cache=None)
    >>> len(c.classes) < len(DEFAULT_CHARS), tuple(c.features(glyphs(chars="Ab").tensor).shape)
    (True, (2, 256))
    """
    fonts = training_fonts() if fonts is None else tuple(fonts)
    state, classes = _weights(fonts, size, epochs, width, seed,
                              None if cache is None else str(cache))
    with torch.device("cpu"), torch.random.fork_rng(devices=[]):  # the caller's RNG stays
        net = network(len(classes), width)
    net.load_state_dict(state)
    net.to(device)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return GlyphClassifier(net, classes, size)
