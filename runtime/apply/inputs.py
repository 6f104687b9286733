"""What ``cdl apply`` reads: the points of a path's domain, read a batch at a time.

An INPUT is one of

- a folder: every image under it (``.png``, ``.jpg``, ``.jpeg``, ``.bmp``, ``.webp``,
  recursively, sorted by path), each named by its path relative to the folder;
- one image file;
- a tensor file — ``.npy``, ``.pt`` (a tensor saved with ``torch.save``) or
  ``.safetensors`` (one tensor) — of ``N`` points along its first dimension, read from a
  memory map where the format allows, so its size is not limited by memory;

and a latent domain (a :class:`~runtime.sources.GaussianPrior` source, or a
``"normal"`` prior of the experiment) is drawn instead: ``n`` codes, code ``i`` a function
of (``seed``, ``i``) only, whatever the batch size. A product domain takes one INPUT per
factor, all with the same number of points.

Images are converted to the object's channels and mapped to [-1, 1] as
:class:`~runtime.sources.ImageFolder` does; one of another size is resized (bicubic), or
refused with ``strict_size``. An image-shaped tensor file of another height and width is
resized alike (bicubic, antialiased); a ``uint8`` one is taken as 8-bit pixels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors import safe_open

from ..errors import ApplyError
from ..sources import GaussianPrior
from ..sources.images import EXTENSIONS, to_uint8, to_unit
from .network import data_kind, describe_space

__all__ = ["TENSOR_SUFFIXES", "Codes", "ImageFiles", "Inputs", "TensorFile", "latent_prior",
           "open_input", "read_inputs"]

TENSOR_SUFFIXES = (".npy", ".pt", ".safetensors")


class ImageFiles:
    """Image files under ``root`` (or one file), decoded a batch at a time to ``shape``."""

    def __init__(self, files: Sequence[Path], names: Sequence[str], shape: tuple[int, ...],
                 strict_size: bool, what: str, source: str = "folder"):
        self.files, self.names, self.shape, self.what = list(files), list(names), shape, what
        self.source = source  # "folder" or "file": where the names come from
        self.size = tuple(shape[1:])
        self.skipped: list[tuple[str, str]] = []
        self.resized = 0
        if strict_size:  # every header before any work: refuse at once, not mid-way
            for p, name in zip(self.files, self.names, strict=True):
                try:
                    with Image.open(p) as im:
                        hw = (im.height, im.width)
                except Exception:  # noqa: BLE001 - unreadable files are skipped when read
                    continue
                if hw != self.size:
                    raise ApplyError(f"--strict-size: {name} is {hw[0]}×{hw[1]}, but the path "
                                     f"takes {self.size[0]}×{self.size[1]} images (leave out "
                                     f"--strict-size to resize them)")

    def __len__(self) -> int:
        return len(self.files)

    def _decode(self, p: Path) -> torch.Tensor:
        with Image.open(p) as im:
            if (im.height, im.width) != self.size:
                self.resized += 1
            return to_uint8(im, self.shape[0], self.size)

    def read(self, start: int, stop: int) -> tuple[list[int], torch.Tensor | None]:
        """The images ``start:stop`` that decode (their indices) as one batch."""
        kept, xs = [], []
        for i in range(start, stop):
            try:
                xs.append(self._decode(self.files[i]))
            except Exception as e:  # noqa: BLE001 - any failure: unreadable, skipped
                self.skipped.append((self.names[i], type(e).__name__))
                continue
            kept.append(i)
        return kept, (to_unit(torch.stack(xs)) if xs else None)


def _tensor_opener(path: Path) -> tuple[Callable[[int, int], torch.Tensor], tuple, str]:
    """``(read(start, stop), shape, dtype name)`` of a tensor file, without loading it."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            a = np.load(path, mmap_mode="r", allow_pickle=False)
            return (lambda s, e: torch.from_numpy(np.array(a[s:e]))), a.shape, \
                str(a.dtype)
        if suffix == ".pt":
            t = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
            if not isinstance(t, torch.Tensor):
                raise ApplyError(f"{path} holds a {type(t).__name__}, not a tensor: save one "
                                 f"tensor of N points with torch.save(tensor, path)")
            return (lambda s, e: t[s:e]), tuple(t.shape), str(t.dtype).removeprefix("torch.")
        f = safe_open(str(path), framework="pt")
        keys = list(f.keys())
        if len(keys) != 1:
            raise ApplyError(f"{path} holds {len(keys)} tensors ({', '.join(keys) or 'none'}); "
                             f"cdl apply reads a file of one tensor of N points")
        sl = f.get_slice(keys[0])
        return (lambda s, e: sl[s:e]), tuple(sl.get_shape()), sl.get_dtype()
    except ApplyError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to open is the file's
        raise ApplyError(f"cannot read tensor file {path}: {type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else ''}") from None


class TensorFile:
    """The ``N`` points of a tensor file, read a batch at a time."""

    source = "numbered"
    names = None

    def __init__(self, path: Path, shape: tuple[int, ...], strict_size: bool, what: str):
        self.path, self.shape, self.what = path, shape, what
        self._read, got, dtype = _tensor_opener(path)
        self.dtype, self.skipped, self.resized = dtype, [], 0
        expect = f"N × {'×'.join(map(str, shape))}"
        if len(got) != len(shape) + 1:
            raise ApplyError(f"{path} holds a tensor of shape {tuple(got)}, but {what}: "
                             f"expected {expect}")
        self.resize = tuple(got[1:]) != shape
        image = data_kind(shape) == "images"
        if self.resize and not (image and got[1] == shape[0]):
            raise ApplyError(f"{path} holds a tensor of shape {tuple(got)}, but {what}: "
                             f"expected {expect}")
        if self.resize and strict_size:
            raise ApplyError(f"--strict-size: {path} holds {got[2]}×{got[3]} images, but the "
                             f"path takes {shape[1]}×{shape[2]} (leave out --strict-size to "
                             f"resize them)")
        self.uint8 = dtype in ("uint8", "U8")
        if not (self.uint8 and image) and not _floating(dtype):
            raise ApplyError(f"{path} holds {dtype} values; cdl apply reads floating-point "
                             f"points (or uint8 pixels, for images)")
        self.n = got[0]
        self.resized = got[0] if self.resize else 0

    def __len__(self) -> int:
        return self.n

    def read(self, start: int, stop: int) -> tuple[list[int], torch.Tensor]:
        x = self._read(start, stop)
        x = to_unit(x) if self.uint8 else x.to(torch.float32)
        if self.resize:
            x = torch.nn.functional.interpolate(x, size=self.shape[1:], mode="bicubic",
                                                antialias=True, align_corners=False)
        return list(range(start, stop)), x


def _floating(dtype: str) -> bool:
    return dtype.lower().startswith(("f", "bf"))


class Codes:
    """``n`` codes of a latent object: standard normal (code ``i`` drawn from (``seed``,
    ``i``) as :class:`~runtime.sources.GaussianPrior` does), or from the experiment's own
    sampler (``sample(count)``), one code a call, seeded by (``seed``, ``i``) too — so
    that code ``i`` does not depend on ``--batch`` either."""

    source = "numbered"
    names = None

    def __init__(self, n: int, shape: tuple[int, ...], seed: int,
                 sample: Callable[[int], torch.Tensor] | None = None):
        self.n, self.shape, self.seed, self.sample = n, shape, seed, sample
        self.prior = GaussianPrior(shape, seed=seed)
        self.skipped, self.resized = [], 0

    def __len__(self) -> int:
        return self.n

    def read(self, start: int, stop: int) -> tuple[list[int], torch.Tensor]:
        if self.sample is None:
            x = torch.stack([self.prior[i] for i in range(start, stop)])
        else:
            with torch.random.fork_rng(devices=[]):
                x = torch.cat([self._one(i) for i in range(start, stop)])
        return list(range(start, stop)), x

    def _one(self, i: int) -> torch.Tensor:
        torch.manual_seed(self.seed * 1_000_003 + i)
        return self.sample(1).to("cpu", torch.float32)


Input = ImageFiles | TensorFile | Codes


def open_input(text: str, shape: tuple[int, ...], strict_size: bool, what: str) -> Input:
    """The INPUT named ``text`` for points of ``shape`` (``what``: the path and its domain,
    for the messages); an :class:`ApplyError` where it is missing or of another kind."""
    p = Path(text)
    kind = data_kind(shape)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in EXTENSIONS)
        _need_images(kind, f"INPUT {text} is a folder of images", what)
        if not files:
            raise ApplyError(f"INPUT {text} holds no image ({', '.join(EXTENSIONS)}, looked "
                             f"for recursively)")
        return ImageFiles(files, [f.relative_to(p).as_posix() for f in files], shape,
                          strict_size, what)
    if not p.exists():
        raise ApplyError(f"INPUT {text} does not exist")
    suffix = p.suffix.lower()
    if suffix in EXTENSIONS:
        _need_images(kind, f"INPUT {text} is an image", what)
        return ImageFiles([p], [p.name], shape, strict_size, what, source="file")
    if suffix in TENSOR_SUFFIXES:
        return TensorFile(p, shape, strict_size, what)
    raise ApplyError(f"INPUT {text}: the extension {suffix or '(none)'} names neither an image "
                     f"({', '.join(EXTENSIONS)}) nor a tensor file ({', '.join(TENSOR_SUFFIXES)})")


def _need_images(kind: str, given: str, what: str) -> None:
    if kind != "images":
        raise ApplyError(f"{given}, but {what}: give a tensor file "
                         f"({', '.join(TENSOR_SUFFIXES)}) of N points")


class Inputs:
    """The INPUTs of a path's domain together: one per factor, read in step."""

    def __init__(self, factors: Sequence[Input]):
        self.factors = list(factors)
        counts = {len(f) for f in self.factors}
        if len(counts) > 1:
            listed = ", ".join(f"{_name(f)}: {len(f)}" for f in self.factors)
            raise ApplyError(f"the INPUTs of a product domain must hold as many points each; "
                             f"they hold {listed}")
        self.n = counts.pop()
        named = [f for f in self.factors if f.names is not None]
        self.names = named[0].names if named else None
        self.source = named[0].source if named else "numbered"

    def __len__(self) -> int:
        return self.n

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return [s for f in self.factors for s in f.skipped]

    @property
    def resized(self) -> int:
        return max(f.resized for f in self.factors)

    def read(self, start: int, stop: int) -> tuple[list[int], list[torch.Tensor]]:
        """The points ``start:stop`` every factor could read: their indices and one batch
        per factor."""
        reads = [f.read(start, stop) for f in self.factors]
        kept = sorted(set.intersection(*(set(k) for k, _ in reads)))
        batches = []
        for k, x in reads:
            if x is not None and len(kept) != len(k):
                x = x[[k.index(i) for i in kept]]
            batches.append(x)
        return kept, batches


def _name(f: Input) -> str:
    return str(getattr(f, "path", None) or f.what)


def read_inputs(texts: Sequence[str], space, dom_name: str, path_name: str,
                strict_size: bool, latent: Callable[[int], torch.Tensor] | str | None,
                n: int | None, seed: int) -> Inputs:
    """The :class:`Inputs` of path ``path_name`` (domain ``dom_name``, a point of ``space``)
    from INPUT texts, or ``n`` codes of a latent domain (``latent``: ``"normal"`` or the
    experiment's sampler)."""
    what = f"path {path_name} starts at {dom_name} ({describe_space(space)})"
    if n is not None:
        if texts:
            raise ApplyError(f"give INPUT or -n, not both: -n draws {n} codes of a latent "
                             f"domain instead of reading them")
        if latent is None:
            raise ApplyError(f"-n draws codes of a latent domain (a prior), but {what}, which "
                             f"has data: give INPUT (a folder, an image or a tensor file)")
        (shape,) = space.shapes
        return Inputs([Codes(n, shape, seed, None if latent == "normal" else latent)])
    if not texts:
        hint = (", or -n N to draw N codes of its prior" if latent is not None else "")
        raise ApplyError(f"no INPUT: {what}; give INPUT (a folder, an image or a tensor "
                         f"file){hint}")
    shapes = space.shapes
    if len(texts) != len(shapes):
        raise ApplyError(f"{len(texts)} INPUTs for {len(shapes)} factor(s): {what}; give one "
                         f"INPUT per factor, in order")
    return Inputs([open_input(t, s, strict_size, what) for t, s in zip(texts, shapes,
                                                                        strict=True)])


def latent_prior(data: Mapping[object, object], priors: Mapping[object, object],
                 resolve: Callable[[object], object], ob: object
                 ) -> Callable[[int], torch.Tensor] | str | None:
    """How object ``ob``'s points are drawn, if it is latent: ``"normal"`` (its source is a
    :class:`~runtime.sources.GaussianPrior`, or its prior is ``"normal"``), the
    experiment's sampler, or None (it has data). ``data``, ``priors``: the experiment's
    sources and compile-time priors, keyed by objects or names that ``resolve`` reads."""
    for key, src in data.items():
        if resolve(key) == ob and isinstance(src, GaussianPrior):
            return "normal"
    for key, prior in priors.items():
        if resolve(key) == ob:
            return prior
    return None
