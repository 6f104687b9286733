"""The training commands' flags, declared once.

``cdl train``'s flags are a table: the parser is built from it, and so is the command line
that ``cdl train --nproc N`` hands to each torchrun worker (:func:`worker_argv`) — a flag
added to the table reaches the workers with nothing else to edit. Each row also says

- its *role*: how ``cdl train`` runs (``run``), a schema file's data (``schema``: the
  fields of :class:`~runtime.experiments.SchemaRun`), an option of ``compile_functor``
  (``compile``) or a setting of the trainer (``trainer``: :class:`~runtime.TrainOptions`),
  with the keyword it sets (``api``: the flag's name with ``_`` for ``-``, but for
  ``--batch``: ``batch_size``) — compile and trainer flags override any experiment's own;
- what ``--resume`` does with it: honour it (``resume=None``) or refuse it, and why;
- whether only the launcher reads it (``--nproc``, ``--max-restarts``, ``--list``).

The flags check a value's form (a number, a list); what values an option takes is checked
where the option is used, by ``compile_functor``, the trainer or the schema run — one
place for each.

A run file (``cdl train run.toml``, :mod:`.run_file`) writes the same flags as keys.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from ..errors import RunError

__all__ = ["ROLES", "TRAIN_FLAGS", "Flag", "add_flags", "betas", "equation_weights", "given",
           "non_negative_int", "positive_int", "positive_seconds", "worker_argv"]


def _whole(text: str, least: int, what: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < least:
        raise argparse.ArgumentTypeError(f"expected a {what} number, got {v}")
    return v


def positive_int(text: str) -> int:
    return _whole(text, 1, "positive")


def non_negative_int(text: str) -> int:
    return _whole(text, 0, "non-negative")


def positive_seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {v}")
    return v


def betas(text: str) -> tuple[float, float]:
    """``0.5,0.999`` as Adam's ``(beta1, beta2)``."""
    try:
        b1, b2 = (float(p) for p in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two numbers B1,B2 (e.g. 0.5,0.999), got "
                                         f"{text!r}") from None
    return b1, b2


def equation_weights(texts: list[str] | None) -> float | dict | None:
    """``--equation-weight`` as ``compile_functor`` (through the runner) takes it: ``W``
    weighs every equation; ``EQUATION=W`` one (``W1,W2``: one weight per factor of a
    product); both together: a mapping with ``"*"`` for the others.

    >>> equation_weights(["10"]), equation_weights(["f.g = id(A)=5", "3"])
    (10.0, {'f.g = id(A)': 5.0, '*': 3.0})
    >>> equation_weights(["g.f = id(BxC)=3,0.3"])
    {'g.f = id(BxC)': (3.0, 0.3)}
    """
    if not texts:
        return None
    table: dict[str, object] = {}
    for text in texts:
        key, eq, value = str(text).rpartition("=")
        key = key.strip() if eq else "*"
        try:
            weights = tuple(float(v) for v in value.split(","))
        except ValueError:
            raise RunError(f"--equation-weight takes W (every equation) or EQUATION=W (one, "
                           f"e.g. \"f.g = id(A)=5\"), got {text!r}") from None
        table[key] = weights[0] if len(weights) == 1 else weights
    return table["*"] if list(table) == ["*"] else table


BOOL = argparse.BooleanOptionalAction
ROLES = ("run", "schema", "compile", "trainer")
LOSSES = ("it changes the losses being trained; start a new run, or load the weights into "
          "one in Python")
TRAINING = "it changes how the run is trained; start a new run (another --out)"
RECORDED = ("the run's schema, data and networks are recorded in its run.json; start a new "
            "run for others")
COMPILED = "the program is compiled as the run recorded it (only --backend may change)"


@dataclass(frozen=True)
class Flag:
    """One flag: its names, ``argparse`` keywords, its role and the keyword it sets
    (``api``, for schema, compile and trainer flags), whether a resume honours it
    (``resume``: None) or refuses it (the reason), and whether a worker gets it."""

    names: tuple[str, ...]
    options: dict = field(default_factory=dict)
    to_worker: bool = True
    role: str = "run"
    api: str | None = None
    resume: str | None = None

    @property
    def dest(self) -> str:
        return self.options.get("dest") or self.names[-1].lstrip("-").replace("-", "_")

    def is_set(self, value: object) -> bool:
        """Whether ``value``, this flag's parsed value, was given: not None, not an empty
        list, and for a plain switch not False (``--no-X`` gives False)."""
        if value is None or value == []:
            return False
        return value is not False or self.options.get("action") is BOOL

    @property
    def key(self) -> str:
        """The keyword it sets (``api``), else its destination."""
        return self.api or self.dest


def _api(names: tuple[str, ...], role: str, options: dict, resume: str | None = None,
         api: str | None = None) -> Flag:
    """A flag setting the keyword of its own name (``--n-critic``: ``n_critic``)."""
    return Flag(names, options, role=role, resume=resume,
                api=api or names[0].lstrip("-").replace("-", "_"))


TRAIN_FLAGS: tuple[Flag, ...] = (
    # ------------------------------------------------------------------ how it runs
    Flag(("--out",), dict(metavar="DIR", help=(
        "run folder (default runs/EXPERIMENT, never an existing non-empty one)"))),
    Flag(("--device",), dict(metavar="D", help="cpu, cuda, cuda:1 … (default: cuda when "
                                               "present)")),
    Flag(("--seed",), dict(type=int, metavar="S", help="the run's seed (default 0)"),
         resume="the resumed run continues the recorded random state exactly; start a new "
                "run (another --out) for another seed"),
    Flag(("--resume",), dict(action="store_true", help="continue the run in --out")),
    Flag(("--checkpoint",), dict(metavar="NAME", help=(
        "with --resume: this checkpoint (e.g. step-00000500), not the latest"))),
    Flag(("--init",), dict(action="append", metavar="RUN", help=(
        "start from run folder RUN's trained networks along the --along map that goes "
        "with it (repeatable in pairs: --init R1 --along M1 --init R2 --along M2; a later "
        "pair wins)")), resume=("the run continues from its own checkpoint; --init RUN "
                                "--along MAP starts a new run from another's networks")),
    Flag(("--along",), dict(action="append", metavar="MAP", help=(
        "with --init RUN: a .map file from this experiment's schema to RUN's (every "
        "arrow it sends to a path of RUN's schema starts from that path's networks, "
        "copied)")), resume="it goes with --init, which only a new run takes"),
    Flag(("--list",), dict(action="store_true", help="list the built-in experiments"),
         to_worker=False),
    Flag(("--nproc",), dict(type=positive_int, metavar="N", help=(
        "data-parallel on N processes of this machine (launches torchrun; --batch stays "
        "the global batch, N must divide it)")), to_worker=False),
    Flag(("--max-restarts",), dict(type=non_negative_int, default=0, metavar="K", help=(
        "with --nproc: torchrun restarts failed workers up to K times; they resume from "
        "the last checkpoint")), to_worker=False),
    Flag(("--dist-timeout",), dict(type=positive_seconds, default=300.0, metavar="S", help=(
        "data-parallel: seconds a collective may wait for the other ranks before the run "
        "stops with an error (default 300)"))),
    # ------------------------------------------------------------------ a schema file's data
    _api(("--data",), "schema", dict(action="append", metavar="OBJ=SOURCE", help=(
        "the samples of object OBJ: an image folder, a .npy/.pt/.safetensors file (N × …), "
        "or a built-in source (glyphs:FONT, circles[:N], emoji:toned|bases); repeat per "
        "object")), RECORDED),
    _api(("--latent",), "schema", dict(action="append", metavar="OBJ=DIM", help=(
        "object OBJ drawn from a normal prior of that size (16, or a shape 4x4)")), RECORDED),
    _api(("--space",), "schema", dict(action="append", metavar="OBJ=SHAPE", help=(
        "object OBJ without samples, of that shape (3x32x32): reached only through arrows, "
        "no critic; the equations alone constrain it")), RECORDED),
    _api(("--size",), "schema", dict(metavar="S|HxW", help=(
        "resample every image to S×S (or H×W) pixels")), RECORDED),
    _api(("--channels",), "schema", dict(type=int, metavar="C", help=(
        "resample every image to C channels: 1 (grey), 3 (RGB) or 4 (RGBA); default: as "
        "the images are")), RECORDED),
    _api(("--background",), "schema", dict(metavar="COLOUR", help=(
        "transparent pixels are composited on this colour: a name or #rrggbb (default "
        "white)")), RECORDED),
    _api(("--holdout",), "schema", dict(type=float, metavar="F", help=(
        "the fraction of each source held out for the evaluation and the grids (seeded, "
        "default 0.1; 0: evaluate on the training samples)")), RECORDED),
    _api(("--width",), "schema", dict(type=int, metavar="W", help=(
        "the networks' base width (channels; default 32)")), RECORDED),
    # ------------------------------------------------------------------ compile_functor
    _api(("--backend",), "compile", dict(metavar="NAME", help=(
        "compile backend (inductor, eager, …) instead of the experiment's"))),
    _api(("--adversarial",), "compile", dict(metavar="LOSS", help=(
        "lsgan, nsgan, hinge, wgan-gp or nsgan-r1")), LOSSES),
    _api(("--distance",), "compile", dict(metavar="D", help="the equations' distance: l1 or "
                                                            "l2"), LOSSES),
    _api(("--equation-weight",), "compile", dict(action="append", metavar="W|EQ=W", help=(
        "the weight of every equation loss (0: the ablation without equations; residuals "
        "are still logged), or of one: \"f.g = id(A)=5\" (W1,W2: per factor of a "
        "product); repeat for several")), LOSSES),
    _api(("--lr",), "compile", dict(type=float, metavar="LR", help="Adam's learning rate"),
         LOSSES),
    _api(("--betas",), "compile", dict(type=betas, metavar="B1,B2", help="Adam's betas"),
         LOSSES),
    _api(("--gp-weight",), "compile", dict(type=float, metavar="W", help=(
        "wgan-gp: the gradient penalty's weight")), LOSSES),
    _api(("--r1-gamma",), "compile", dict(type=float, metavar="G", help=(
        "nsgan-r1: R1's gamma (weight gamma/2)")), LOSSES),
    _api(("--fake-pool",), "compile", dict(type=int, metavar="N", help=(
        "the critics see a pool of the last N fakes (CycleGAN's image pool; 0: none)")),
         LOSSES),
    _api(("--fuse",), "compile", dict(action=BOOL, help=(
        "stack networks of identical architecture into one call (default: those with a "
        "stacked lowering)")), COMPILED),
    _api(("--regional",), "compile", dict(action=BOOL, help=(
        "compile each network architecture once, called wherever the plan applies it "
        "(nested compile regions: a shorter cold compile, longer warm ones; default off)")),
         COMPILED),
    _api(("--check-finite",), "compile", dict(action=BOOL, help=(
        "refuse updates whose losses are NaN or inf (default on)")), COMPILED),
    # ------------------------------------------------------------------ the trainer
    Flag(("--steps",), dict(type=positive_int, metavar="N", help=(
        "the run's total number of steps (with --resume: continue up to N)")),
         role="trainer", api="steps"),
    Flag(("--batch", "--batch-size"), dict(type=positive_int, metavar="B", dest="batch",
                                            help="the (global) batch size"),
         role="trainer", api="batch_size"),
    _api(("--n-critic",), "trainer", dict(type=int, metavar="K", help=(
        "critic updates per step (K-1 critic-only, then the joint one)")), TRAINING),
    _api(("--decay-from",), "trainer", dict(type=float, metavar="F", help=(
        "the learning rate decays linearly to 0 from this fraction of the steps (1: "
        "constant)")), TRAINING),
    _api(("--max-grad-norm",), "trainer", dict(type=float, metavar="N", help=(
        "clip the arrows' and the critics' gradients to this norm")), TRAINING),
    _api(("--ema",), "trainer", dict(type=float, metavar="BETA", help=(
        "keep a moving average of the arrows' weights, decaying by BETA a step (e.g. "
        "0.99; StyleGAN's G_ema): the evaluation, grids and the trained functor (eval, "
        "apply, export) are the average's; 0: none")), TRAINING),
    _api(("--precision",), "trainer", dict(metavar="P", help="fp32, or bf16 (CUDA)"),
         TRAINING),
    _api(("--log-every",), "trainer", dict(type=int, metavar="N", help=(
        "log the mean losses every N steps"))),
    _api(("--sample-every",), "trainer", dict(type=int, metavar="N", help=(
        "sample grids and evaluation every N steps (0: no grids; the evaluation still "
        "runs at the end)"))),
    _api(("--checkpoint-every",), "trainer", dict(type=int, metavar="N", help=(
        "a checkpoint every N steps (0: only the final one, and one on Ctrl-C)"))),
    _api(("--keep-last",), "trainer", dict(type=int, metavar="K", help=(
        "keep the newest K checkpoints"))),
    _api(("--samples",), "trainer", dict(type=int, metavar="N", help=(
        "samples per object in the grids"))),
    _api(("--progress",), "trainer", dict(action=BOOL, help="the progress bar (default on)")),
    _api(("--tensorboard",), "trainer", dict(action=BOOL, help=(
        "TensorBoard event files, when tensorboard is installed (default on)"))),
)
GROUPS = {"run": "how it runs", "schema": "a schema file's data (cdl train FILE.schema …)",
          "compile": "compile_functor's options (override the experiment's)",
          "trainer": "the trainer's settings (override the experiment's)"}


def add_flags(parser: argparse.ArgumentParser, flags: tuple[Flag, ...] = TRAIN_FLAGS) -> None:
    groups = {role: parser.add_argument_group(title) for role, title in GROUPS.items()}
    for flag in flags:
        groups.get(flag.role, parser).add_argument(*flag.names, **flag.options)


def given(args: argparse.Namespace, role: str, flags: tuple[Flag, ...] = TRAIN_FLAGS
          ) -> dict[str, object]:
    """The flags of ``role`` that are set, by the keyword each sets."""
    return {f.key: getattr(args, f.dest) for f in flags
            if f.role == role and f.is_set(getattr(args, f.dest, None))}


def worker_argv(args: argparse.Namespace, flags: tuple[Flag, ...] = TRAIN_FLAGS) -> list[str]:
    """The ``train`` command line a torchrun worker runs: the experiment, then every flag
    of the table that a worker takes and that is set.

    >>> ns = argparse.Namespace(experiment="gaussians", steps=5, batch=None, out="runs/g",
    ...     device=None, seed=None, backend=None, equation_weight=None, resume=True,
    ...     checkpoint=None, list=False, nproc=2, max_restarts=0, dist_timeout=300.0,
    ...     betas=(0.5, 0.9), data=["A=x", "B=y"], progress=False)
    >>> worker_argv(ns)  # doctest: +NORMALIZE_WHITESPACE
    ['train', 'gaussians', '--out', 'runs/g', '--resume', '--dist-timeout', '300.0',
     '--data', 'A=x', '--data', 'B=y', '--betas', '0.5,0.9', '--steps', '5', '--no-progress']
    """
    argv = ["train"] + ([args.experiment] if args.experiment else [])
    for flag in flags:
        value = getattr(args, flag.dest, None)
        name = flag.names[0]
        if not flag.to_worker or value is None or value == []:
            continue
        if flag.options.get("action") is BOOL:
            argv.append(name if value else f"--no-{name[2:]}")
        elif value is True:
            argv.append(name)
        elif value is False:
            continue
        elif isinstance(value, list):
            for v in value:
                argv += [name, str(v)]
        elif isinstance(value, tuple):
            argv += [name, ",".join(map(str, value))]
        else:
            argv += [name, str(value)]
    return argv
