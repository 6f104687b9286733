"""What ``cdl apply`` writes: one output per input point, for each factor of the codomain.

OUT is

- a folder, for a folder INPUT: each image's output under the image's relative name, in
  its format (png→png, jpg→jpg); and for numbered points (a tensor file, drawn codes)
  when OUT names no file: ``0000.png``, ``0001.png``…;
- a file, for one image INPUT: an image, in the format its extension names;
- a tensor file (``.npy``, ``.pt``, ``.safetensors``: ``N × …``, float32) for numbered
  points or one image.

Images are written as 8-bit files, [-1, 1] mapped to [0, 255] (clipped; the inverse of
reading them). A point that is not an image has no picture: in a folder it is a ``.npy``
file of its own (``name.npy``), beside one image OUT a ``.npy`` file of one point.
A product codomain writes one output per factor: a subfolder each (``OUT/B/…``,
``OUT/C/…``), or a file each (``out-B.npy``, ``out-C.npy``).

Nothing is left half-written: a folder is filled under a hidden name beside OUT and moved
into place once complete (with ``overwrite``, the old one is removed only then), a file is
written beside its target and moved over it. An existing OUT (a file, or a folder that is
not empty) is refused unless ``overwrite``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

from category.files import current_umask

from ..errors import ApplyError
from ..report.grid import to_uint8
from ..sources.images import EXTENSIONS, MODES
from .inputs import TENSOR_SUFFIXES, Inputs
from .network import data_kind

__all__ = ["Outputs", "plan_outputs"]

JPEG_QUALITY = 95


def image_format(suffix: str) -> str:
    """Pillow's format for a file extension (``.jpg`` -> ``JPEG``)."""
    return Image.registered_extensions()[suffix.lower()]


class Staged:
    """A file or folder written under a hidden name beside ``target``, then moved over it."""

    def __init__(self, target: Path, folder: bool):
        self.target, self.folder = target, folder
        target.parent.mkdir(parents=True, exist_ok=True)
        prefix = f".{target.name}.tmp-"
        if folder:
            self.tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=prefix))
        else:
            # the target's suffix kept: readers such as torch.export.load go by it
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=target.suffix)
            os.close(fd)
            self.tmp = Path(tmp)

    def commit(self) -> None:
        base = 0o777 if self.folder else 0o666
        os.chmod(self.tmp, base & ~current_umask())
        t = self.target
        if self.folder and t.is_dir() and any(t.iterdir()):  # --overwrite: swap, then remove
            old = Path(tempfile.mkdtemp(dir=t.parent, prefix=f".{t.name}.old-"))
            os.replace(t, old / t.name)
            os.replace(self.tmp, t)
            shutil.rmtree(old, ignore_errors=True)
        else:  # a missing target, an empty folder or (with --overwrite) a file
            os.replace(self.tmp, t)

    def abort(self) -> None:
        if self.folder:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            self.tmp.unlink(missing_ok=True)


def save_image(a: np.ndarray, path: Path | str, fmt: str) -> None:
    """One ``[C, H, W]`` uint8 image written in Pillow format ``fmt``."""
    im = Image.fromarray(a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0), MODES[a.shape[0]])
    im.save(path, fmt, **({"quality": JPEG_QUALITY} if fmt == "JPEG" else {}))


class ItemFiles:
    """A factor's outputs as one file per point under ``root``: images in the format of
    their name's extension, anything else as ``.npy``."""

    def __init__(self, root: Path, names: Sequence[str], shape: tuple[int, ...]):
        self.root, self.shape = root, shape
        self.image = data_kind(shape) == "images"
        self.names = [n if self.image else str(Path(n).with_suffix(".npy")) for n in names]
        self.formats: dict[str, str] = {}
        self.folders: set[Path] = set()  # made already

    def write(self, kept: Sequence[int], batch: torch.Tensor) -> None:
        values = (to_uint8(batch) if self.image else batch.detach().float().cpu()).numpy()
        for i, x in zip(kept, values, strict=True):
            path = self.root / self.names[i]
            if path.parent not in self.folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.folders.add(path.parent)
            if self.image:
                suffix = path.suffix.lower()
                fmt = self.formats.get(suffix) or self.formats.setdefault(
                    suffix, image_format(suffix))
                save_image(x, path, fmt)
            else:
                np.save(path, x)

    def finish(self) -> None:
        pass


class TensorOut:
    """A factor's outputs as one ``N × …`` float32 tensor file (the format its extension
    names), staged beside it; a ``.npy`` one is filled in place (a memory map)."""

    def __init__(self, target: Path, n: int, shape: tuple[int, ...], key: str):
        self.staged, self.key = Staged(target, folder=False), key
        self.suffix = target.suffix.lower()
        if self.suffix == ".npy":
            self.buf = np.lib.format.open_memmap(self.staged.tmp, mode="w+", dtype=np.float32,
                                                 shape=(n, *shape))
        else:
            self.buf = np.empty((n, *shape), dtype=np.float32)

    def write(self, kept: Sequence[int], batch: torch.Tensor) -> None:
        self.buf[kept[0]:kept[-1] + 1] = batch.detach().float().cpu().numpy()

    def finish(self) -> None:
        if self.suffix == ".npy":
            self.buf.flush()
        elif self.suffix == ".pt":
            torch.save(torch.from_numpy(self.buf), self.staged.tmp)
        else:
            save_file({self.key: torch.from_numpy(self.buf)}, str(self.staged.tmp))
        del self.buf
        self.staged.commit()


class ImageOut:
    """A factor's one output as an image file (the format its extension names), staged."""

    def __init__(self, target: Path):
        self.staged, self.fmt = Staged(target, folder=False), image_format(target.suffix)

    def write(self, kept: Sequence[int], batch: torch.Tensor) -> None:
        save_image(to_uint8(batch)[0].numpy(), self.staged.tmp, self.fmt)

    def finish(self) -> None:
        self.staged.commit()


class Outputs:
    """Where a path's outputs go: one writer per factor of the codomain, committed together
    by :meth:`finish` (or all removed when the ``with`` block fails)."""

    def __init__(self, writers: list, folder: Staged | None, written: list[Path]):
        self.writers, self.folder, self.written = writers, folder, written
        self.done = False

    def write(self, kept: Sequence[int], point: object) -> None:
        batches = point if isinstance(point, (tuple, list)) else (point,)
        for w, b in zip(self.writers, batches, strict=True):
            w.write(kept, b)

    def finish(self) -> None:
        for w in self.writers:
            w.finish()
        if self.folder is not None:
            self.folder.commit()
        self.done = True

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, *exc) -> bool:
        if not self.done:
            for w in self.writers:
                if hasattr(w, "staged"):
                    w.staged.abort()
            if self.folder is not None:
                self.folder.abort()
        return False


def _factor_labels(names: Sequence[str]) -> list[str]:
    """The factors' labels in file names: their objects' names, numbered where repeated."""
    return [n if names.count(n) == 1 else f"{n}-{k}" for k, n in enumerate(names)]


def plan_outputs(out: str | Path, inputs: Inputs, shapes: Sequence[tuple[int, ...]],
                 factors: Sequence[str], overwrite: bool) -> Outputs:
    """The writers of ``len(inputs)`` outputs of shapes ``shapes`` (one per codomain
    factor, named ``factors``) at OUT, after checking that OUT may be written."""
    out = Path(out)
    suffix = out.suffix.lower()
    labels = _factor_labels(list(factors)) if len(shapes) > 1 else [None]
    n = len(inputs)
    if inputs.source == "folder" and suffix in TENSOR_SUFFIXES:
        raise ApplyError(f"a folder INPUT is written to a folder (one file per image, names "
                         f"kept), but OUT {out} names a tensor file")
    if inputs.source == "file" or suffix in TENSOR_SUFFIXES:  # one file per factor
        if suffix not in TENSOR_SUFFIXES and suffix not in EXTENSIONS:
            raise ApplyError(f"OUT {out}: a single image INPUT is written to an image file "
                             f"({', '.join(EXTENSIONS)}) or a tensor file "
                             f"({', '.join(TENSOR_SUFFIXES)}); the extension "
                             f"{suffix or '(none)'} names neither")
        targets = []
        for label, shape in zip(labels, shapes, strict=True):
            t = out if label is None else out.with_name(f"{out.stem}-{label}{out.suffix}")
            if suffix in EXTENSIONS and data_kind(shape) != "images":
                t = t.with_suffix(".npy")  # not an image: its one point as a tensor file
            targets.append(t)
        for t in targets:
            if t.is_dir():
                raise ApplyError(f"OUT {t} is a folder; this INPUT writes a file there")
            if t.exists() and not overwrite:
                raise ApplyError(f"OUT {t} exists: pass --overwrite to replace it")
        writers, done = [], False
        try:
            for t, shape, f in zip(targets, shapes, factors, strict=True):
                writers.append(TensorOut(t, n, shape, f) if t.suffix.lower() in TENSOR_SUFFIXES
                               else ImageOut(t))
            done = True
        finally:
            if not done:
                for w in writers:
                    w.staged.abort()
        return Outputs(writers, None, targets)
    if suffix in EXTENSIONS and inputs.source == "numbered":
        raise ApplyError(f"OUT {out} names one image, but INPUT holds {n} points: give a "
                         f"folder (one image per point) or a tensor file "
                         f"({', '.join(TENSOR_SUFFIXES)})")
    if out.exists() and not out.is_dir():
        raise ApplyError(f"OUT {out} is a file; this INPUT writes a folder there")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ApplyError(f"OUT {out} exists and is not empty: pass --overwrite to replace it "
                         f"(its files are removed once the new ones are all written)")
    if inputs.names is not None:
        names = inputs.names
    else:
        width = max(4, len(str(n - 1)))
        names = [f"{i:0{width}d}.png" for i in range(n)]
    folder = Staged(out, folder=True)
    writers = [ItemFiles(folder.tmp if label is None else folder.tmp / label, names, shape)
               for label, shape in zip(labels, shapes, strict=True)]
    return Outputs(writers, folder, [out])
