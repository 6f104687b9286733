"""A schema file and data for its objects, as an experiment: ``cdl train S.schema --data …``.

:class:`SchemaRun` holds what the command line says — the schema's text, a source per
object with data (``--data OBJ=SOURCE``, :mod:`.data_specs`), a latent size per object
drawn from a normal prior (``--latent Z=16``), a shape per object without samples
(``--space B=3x32x32``: reached only through arrows, no critic; the equations alone
constrain it), how images are read (``--size``, ``--channels``, ``--background``), the
held-out fraction (``--holdout``) and the networks' width (``--width``) — and checks it
all against the schema's objects on construction. It is recorded in ``run.json`` as
:meth:`SchemaRun.record` (the schema text itself and absolute paths), from which
:meth:`SchemaRun.from_record` builds it again: a run folder is resumed, evaluated and
sampled from anywhere.

:meth:`SchemaRun.build` is the experiment's ``build(options)``: an object with data
takes its space from the data, every arrow gets a network chosen from its two spaces
and every object that fakes land on a critic (:mod:`.networks`), a held-out part of
each source is kept for the evaluation (:mod:`.default_evaluation`) and the sample grids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from category import Ob, Schema, SchemaError
from compiler import Euclid, Functor, Plan, ProductSpace, Space

from ..errors import SourceError, SpecError
from ..sources import GaussianPrior, holdout
from ..sources import args as source_args
from ..sources.stacking import first_samples
from . import data_specs as specs
from .default_evaluation import default_evaluation
from .experiment import Experiment, Options
from .networks import arrow_network, critic_network

__all__ = ["DEFAULTS", "SchemaRun", "is_schema_record", "read_schema"]

EVAL_SAMPLES = 256  # held-out samples per object the evaluation reads (at most)
SHOWN = 8  # samples per object in the grids
PRIOR_SEED = 1234  # the latents of the evaluation and the grids: the same for every run
DEFAULTS = {
    "compile": {"adversarial": "lsgan", "distance": "l1", "equation_weight": 10.0,
                "lr": 2e-4, "betas": (0.5, 0.999)},
    "train": {"steps": 1000, "batch_size": 16, "decay_from": 0.5},
}
NO_SAMPLES = ("give --data {o}=SOURCE (" + specs.USAGE + "), --latent {o}=DIM (a normal "
              "prior) or --space {o}=SHAPE (an object reached only through arrows)")


def read_schema(path: str | Path) -> str:
    """The text of the schema file ``path`` (checked to parse)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise SpecError(f"cannot read schema file {str(path)!r}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise SpecError(f"cannot read schema file {str(path)!r}: not UTF-8 text") from None
    parse(text, str(path))
    return text


def parse(text: str, file: str) -> Schema:
    try:
        return Schema.parse(text)
    except SchemaError as e:
        raise type(e)(f"{file}: {e}") from None


def is_schema_record(ref: object) -> bool:
    """Whether ``ref`` (what ``run.json`` records as the experiment) is a schema file run."""
    return isinstance(ref, Mapping) and "schema" in ref


@dataclass(frozen=True)
class SchemaRun:
    """A schema file run: see the module's docstring. Every value is checked here, the
    objects against the schema's; ``data`` holds absolute paths (or built-in names)."""

    schema: str
    file: str
    data: Mapping[str, str] = field(default_factory=dict)
    latent: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    space: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    size: tuple[int, int] | None = None
    channels: int | None = None
    background: str = "white"
    holdout: float = 0.1
    width: int = 32

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "size", _size(self.size))
        set_(self, "channels", _choice("--channels", self.channels, (None, 1, 3, 4)))
        try:
            source_args.colour("--background", "colour", self.background)
        except SourceError as e:
            raise SpecError(f"--background {self.background}: {e}") from None
        if not (isinstance(self.holdout, (int, float)) and not isinstance(self.holdout, bool)
                and 0 <= self.holdout < 1):
            raise SpecError(f"--holdout takes a fraction in [0, 1) of each source's samples "
                            f"to hold out, got {self.holdout!r}")
        if isinstance(self.width, bool) or not isinstance(self.width, int) or self.width < 2:
            raise SpecError(f"--width takes a whole number ≥ 2 (the networks' base width), "
                            f"got {self.width!r}")
        set_(self, "latent", {k: tuple(v) for k, v in self.latent.items()})
        set_(self, "space", {k: tuple(v) for k, v in self.space.items()})
        check_objects(parse(self.schema, self.file), self.data, self.latent, self.space)

    # ------------------------------------------------------------------ in and out
    @classmethod
    def from_flags(cls, file: str | Path, data: Iterable[str] = (), latent: Iterable[str] = (),
                   space: Iterable[str] = (), root: str | Path = ".", **settings) -> SchemaRun:
        """The run the command line describes: ``data``, ``latent``, ``space`` as the flags'
        ``OBJ=VALUE`` texts (paths relative to ``root``); ``settings``: ``size``,
        ``channels``, ``background``, ``holdout``, ``width`` (None: the default)."""
        text = read_schema(file)
        return cls(
            schema=text, file=str(Path(file).resolve()),
            data={k: specs.absolute(v, root) for k, v in _table("--data", data).items()},
            latent={k: specs.shape("--latent", k, v)
                    for k, v in _table("--latent", latent).items()},
            space={k: specs.shape("--space", k, v) for k, v in _table("--space", space).items()},
            **{k: v for k, v in settings.items() if v is not None})

    def record(self) -> dict:
        """What ``run.json`` records (JSON-safe); :meth:`from_record` reads it back."""
        return {"schema": self.schema, "file": self.file, "data": dict(self.data),
                "latent": {k: list(v) for k, v in self.latent.items()},
                "space": {k: list(v) for k, v in self.space.items()},
                "size": None if self.size is None else list(self.size),
                "channels": self.channels, "background": self.background,
                "holdout": self.holdout, "width": self.width}

    @classmethod
    def from_record(cls, record: Mapping) -> SchemaRun:
        known = cls.__dataclass_fields__
        unknown = sorted(set(record) - set(known))
        if unknown:
            raise SpecError(f"the recorded schema run has unknown entries {unknown}: it was "
                            f"written by another version of cdl")
        return cls(**record)

    @property
    def name(self) -> str:
        """The schema file's name without its suffix (``cyclegan``)."""
        return Path(self.file).stem

    # ------------------------------------------------------------------ the experiment
    def build(self, options: Options) -> Experiment:
        """The experiment (see the module's docstring), on ``options.device``."""
        S = parse(self.schema, self.file)
        images = specs.ImageOptions(self.size, self.channels,
                                    source_args.colour("--background", "colour",
                                                       self.background))
        sources = {name: specs.open_source(name, src, images) for name, src in self.data.items()}
        shapes = {**self.space, **self.latent}
        for name, src in sources.items():
            found = specs.sample_shape(src)
            if name in self.space and self.space[name] != found:
                raise SpecError(
                    f"object {name}: --space {name}={_text(self.space[name])} but its data "
                    f"(--data {name}={self.data[name]}) has shape {_text(found)}: drop "
                    f"--space {name} (the data gives the space) or resample the data "
                    f"(--size, --channels)")
            shapes[name] = found
        networks, names = {}, {}
        for a in S.arrows:
            networks[a], names[a.name] = arrow_network(space_of(shapes, a.dom),
                                                       space_of(shapes, a.cod), self.width)
        F = Functor(S, ob={name: Euclid(*dims) for name, dims in shapes.items()}, ar=networks)
        observed = {S.ob(n) for n in [*sources, *self.latent]}
        data_objects = [o for o in S.objects() if o in observed
                        or (o.is_product and all(x in observed for x in o.factors))]
        unobserved = [S.ob(n) for n in self.space if n not in sources]
        plan = Plan.build(S, data_objects, unobserved=unobserved)
        critics = {}
        for ob in plan.critic_objects:
            critics[ob], names[f"critic:{ob}"] = critic_network(F.spaces[ob], self.width)
        train, held = self._split(sources)
        dev = options.device
        gen = torch.Generator().manual_seed(PRIOR_SEED)
        held_out = {S.ob(n): _take(part, EVAL_SAMPLES).to(dev) for n, part in held.items()}
        held_out.update({S.ob(n): torch.randn(EVAL_SAMPLES, *dims, generator=gen).to(dev)
                         for n, dims in self.latent.items()})
        data = {**train, **{n: GaussianPrior(dims, seed=options.seed)
                            for n, dims in self.latent.items()}}
        return Experiment(
            functor=F, critics=critics, data=data,
            evaluate=default_evaluation(F, critics, held_out),
            compile={**DEFAULTS["compile"], "data_objects": [o.name for o in data_objects],
                     "unobserved": [o.name for o in unobserved]},
            train=dict(DEFAULTS["train"]),
            samples=_shown(plan.roots, held_out),
            description=f"schema file {self.name}: {', '.join(self.data) or 'no'} data",
            networks=names)

    def _split(self, sources: Mapping[str, object]) -> tuple[dict, dict]:
        """Per object: the samples to train on and those held out (without a holdout, the
        training samples stand in for held-out ones)."""
        if not self.holdout:
            return dict(sources), dict(sources)
        train, held = {}, {}
        for name, src in sources.items():
            try:
                train[name], held[name] = holdout(src, self.holdout)
            except SourceError as e:
                raise SpecError(f"--data {name}={self.data[name]}: {e} (lower --holdout, or "
                                f"--holdout 0 to evaluate on the training samples)") from None
        return train, held


def space_of(shapes: Mapping[str, tuple[int, ...]], ob: Ob) -> Space:
    """The space of ``ob`` given each plain object's shape (a product's: its factors')."""
    if ob.is_product:
        return ProductSpace(*(Euclid(*shapes[x.name]) for x in ob.factors))
    return Euclid(*shapes[ob.name])


def check_objects(S: Schema, data: Mapping[str, str], latent: Mapping, space: Mapping) -> None:
    """Every flag names a plain object of ``S``, none has both data and a latent (nor a
    latent and a space), and every plain object has one of them; else a
    :class:`SpecError` naming the object and the flag that fixes it."""
    for flag, table in (("--data", data), ("--latent", latent), ("--space", space)):
        for name in table:
            try:
                ob = S.ob(name)
            except SchemaError as e:
                raise SpecError(f"{flag} {name}=…: {e}") from None
            if ob.is_product:
                factors = " * ".join(x.name for x in ob.factors)
                raise SpecError(f"{flag} {name}=…: {name} is a product object ({factors}); its "
                                f"data is its factors': give --data, --latent or --space for "
                                f"{', '.join(x.name for x in ob.factors)} instead")
    for name in data:
        if name in latent:
            raise SpecError(f"object {name} has both --data and --latent: its samples come "
                            f"from one of them; drop --latent {name} (or --data {name})")
    for name in latent:
        if name in space:
            raise SpecError(f"object {name} has both --latent and --space: --latent "
                            f"{name}={_text(latent[name])} gives its space already; drop "
                            f"--space {name}")
    missing = [o.name for o in S.objects()
               if not o.is_product and not any(o.name in t for t in (data, latent, space))]
    if missing:
        who = (f"object {missing[0]} has" if len(missing) == 1 else
               f"objects {', '.join(missing)} have")
        raise SpecError(f"{who} no data: " + NO_SAMPLES.format(o=missing[0]))


def _table(flag: str, texts: Iterable[str]) -> dict[str, str]:
    """``OBJ=VALUE`` texts as a dict; an object named twice is refused."""
    out: dict[str, str] = {}
    for text in texts or ():
        name, value = specs.assignment(flag, text)
        if name in out:
            raise SpecError(f"{flag} names {name} twice ({name}={out[name]}, {name}={value}): "
                            f"keep one")
        out[name] = value
    return out


def _size(size: object) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, str):
        dims = specs.shape("--size", "", size)
        size = dims[0] if len(dims) == 1 else dims
    try:
        return source_args.image_size("--size", tuple(size) if isinstance(size, list) else size)
    except SourceError:
        raise SpecError(f"--size takes a side (32) or HxW (24x32) in pixels, got "
                        f"{size!r}") from None


def _choice(flag: str, value: object, options: tuple) -> object:
    if value in options and not isinstance(value, bool):
        return value
    raise SpecError(f"{flag} takes {', '.join(str(o) for o in options if o is not None)}, "
                    f"got {value!r}")


def _text(dims: tuple[int, ...]) -> str:
    return "x".join(map(str, dims))


def _take(source: object, n: int) -> torch.Tensor:
    """The first ``n`` samples of ``source`` as one batch."""
    gather = getattr(source, "gather", None)
    n = min(n, len(source))
    if callable(gather):
        return gather(torch.arange(n))
    return first_samples(source, n)


def _shown(roots: Iterable[Ob], held_out: Mapping[Ob, torch.Tensor]) -> dict:
    """The grids' inputs: the first held-out samples of every object a path starts from."""
    out = {}
    for ob in roots:
        if ob.is_product:
            parts = [held_out[x][:SHOWN] for x in ob.factors]
            n = min(len(p) for p in parts)
            out[ob] = tuple(p[:n] for p in parts)
        else:
            out[ob] = held_out[ob][:SHOWN]
    return out
