"""The program's view of the user's modules, and the check that it still holds.

A compiled program was built for the modules as they were at ``compile_functor``: their
module trees (the graphs call those submodules, or trace their layers), their parameter
objects (the program's optimizers hold them, or stacks whose rows they are views of),
and their shapes, dtypes and devices (the graphs' constants and the batches follow them).
:class:`ModuleViews` records that view and :meth:`ModuleViews.check` compares it with the
modules at every entry point of the program, in a few attribute reads per parameter:

- *honoured*: in-place changes of values (``load_state_dict`` without ``assign``, a
  user's optimizer), ``requires_grad`` (freezing or unfreezing a parameter: the
  program's steps then leave it unchanged, see :attr:`ModuleViews.frozen`), and a
  stacked parameter whose storage left the program's stack with its shape, dtype and
  device (another program compiled over the same modules stacked them otherwise, or
  ``.data`` was assigned): its current values are copied into its row of the stack and
  it becomes a view of that row again, so the program trains the module as it is;
- *refused* with a :class:`CompilerError` naming the module and the change, before
  anything runs: a submodule added, removed or replaced, a parameter replaced
  (``load_state_dict(..., assign=True)``, a new ``nn.Parameter``), added or removed, or a
  parameter whose shape, dtype or device changed (``module.to(...)``, ``.half()``).

>>> import torch
>>> from torch import nn
>>> net = nn.Sequential(nn.Linear(2, 2))
>>> views = ModuleViews([("arrow f", net, None)])
>>> views.check()
>>> _ = net[0].weight.requires_grad_(False)
>>> views.check(); views.frozen_parameters()
['0.weight']
>>> net[0] = nn.Linear(2, 2)
>>> views.check()
Traceback (most recent call last):
...
compiler.errors.CompilerError: arrow f: submodule '0' was replaced after compile_functor ...
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .errors import CompilerError

AGAIN = ("the program was built for the module as it was: compile the functor again "
         "(compile_functor) after changing a module's structure or parameters")


@dataclass
class _Param:
    owner: nn.Module   # the module whose _parameters holds it
    local: str         # its name there
    name: str          # its name in the whole module ("0.weight")
    param: torch.Tensor
    shape: torch.Size
    dtype: torch.dtype
    device: torch.device
    requires_grad: bool
    ptr: int | None    # the data pointer it must keep (a view into a stack), or None


@dataclass
class _View:
    label: str
    module: nn.Module
    tree: list[tuple[str, nn.Module, tuple, tuple]]  # (path, module, children, param names)
    params: list[_Param]
    stacked: tuple | None = None   # ({name: stack}, member index) for a stacked member


@dataclass
class ModuleViews:
    """The recorded view of each ``(label, module, stacked)``; ``stacked`` is ``({parameter
    name: stack}, member index)`` for a member of a stacked bank (its parameter ``name`` is
    row ``index`` of ``stack``), else None."""

    modules: list[tuple[str, nn.Module, tuple | None]]
    views: list[_View] = field(init=False)
    frozen: list[tuple[torch.Tensor, int]] = field(init=False)  # (stack, row) not to update

    def __post_init__(self) -> None:
        self.views = [self._record(label, m, s) for label, m, s in self.modules]
        self.frozen = self._frozen_rows()

    @staticmethod
    def _record(label: str, m: nn.Module, stacked: tuple | None) -> _View:
        tree, params = [], []
        for path, sub in m.named_modules(remove_duplicate=False):
            tree.append((path, sub, tuple(sub._modules.values()), tuple(sub._parameters)))
            for local, p in sub._parameters.items():
                if p is None:
                    continue
                params.append(_Param(sub, local, f"{path}.{local}" if path else local, p,
                                     p.shape, p.dtype, p.device, p.requires_grad,
                                     p.data_ptr() if stacked is not None else None))
        return _View(label, m, tree, params, stacked)

    def check(self) -> None:
        """Raise :class:`CompilerError` if a module changed in a way the program cannot
        follow; take note of ``requires_grad`` changes (:attr:`frozen`)."""
        grad_changed = False
        for v in self.views:  # the fast path: identity and attribute reads only
            for _, sub, children, names in v.tree:
                mods = sub._modules
                if len(mods) != len(children) or len(sub._parameters) != len(names):
                    self._refuse(v)
                for a, b in zip(mods.values(), children):
                    if a is not b:
                        self._refuse(v)
            for p in v.params:
                q = p.owner._parameters.get(p.local)
                if q is not p.param:
                    self._refuse(v)
                if p.ptr is not None:
                    if q.data_ptr() != p.ptr and not self._rejoin(v, p):
                        self._refuse(v)
                elif q.dtype != p.dtype or q.device != p.device or q.shape != p.shape:
                    self._refuse(v)
                if q.requires_grad != p.requires_grad:
                    p.requires_grad = q.requires_grad
                    grad_changed = True
        if grad_changed:
            self.frozen = self._frozen_rows()

    @staticmethod
    def _rejoin(v: _View, p: _Param) -> bool:
        """Make stacked parameter ``p``, whose storage left its row of the stack, a view
        of that row again, holding its current values; False (nothing done) if its
        shape, dtype or device changed too, which the program cannot follow.

        Another program over the same modules that grouped them differently made them
        views of its own stack and trained them there: their values are the modules'
        weights now, and copying them in is what lets both programs train in turn."""
        q = p.param
        stack = v.stacked[0].get(p.name)
        if stack is None or (q.shape, q.dtype, q.device) != (p.shape, p.dtype, p.device):
            return False
        i = v.stacked[1]
        with torch.no_grad():
            stack[i].copy_(q)
        q.data = stack.data[i]
        return True

    def _refuse(self, v: _View) -> None:
        """Raise the :class:`CompilerError` that says what changed in ``v``'s module."""
        for path, sub, children, names in v.tree:
            if (len(sub._modules) != len(children) or tuple(sub._parameters) != names
                    or any(a is not b for a, b in zip(sub._modules.values(), children))):
                raise CompilerError(self._tree_change(v, path, sub, children, names))
        for p in v.params:
            q = p.owner._parameters.get(p.local)
            if q is not p.param:
                raise CompilerError(
                    f"{v.label}: parameter {p.name!r} was replaced after compile_functor "
                    f"(load_state_dict(..., assign=True) or a new nn.Parameter); the "
                    f"program and its optimizer hold the old one, which would go on "
                    f"being trained instead. Load without assign=True (it copies into "
                    f"the existing parameters), or {AGAIN}")
            if p.ptr is not None and q.data_ptr() != p.ptr:
                raise CompilerError(
                    f"{v.label}: the parameters of {v.label} were moved or replaced after "
                    f"compile_functor, and parameter {p.name!r} is now {tuple(q.shape)} "
                    f"{q.dtype} on {q.device}, but was {tuple(p.shape)} {p.dtype} on "
                    f"{p.device} (module.to(...), .half(), or .data assigned a tensor of "
                    f"another shape, dtype or device): the program trains stacked copies "
                    f"of them; {AGAIN}")
            if q.shape != p.shape or q.dtype != p.dtype or q.device != p.device:
                raise CompilerError(
                    f"{v.label}: parameter {p.name!r} is now {tuple(q.shape)} {q.dtype} "
                    f"on {q.device}, but was {tuple(p.shape)} {p.dtype} on {p.device} at "
                    f"compile_functor (module.to(...), .double(), .half()?); {AGAIN}")
        raise AssertionError("_refuse called on an unchanged module")  # pragma: no cover

    def _tree_change(self, v: _View, path: str, sub: nn.Module, children: tuple,
                     names: tuple) -> str:
        where = f"submodule {path!r}" if path else "the module"
        old = dict(zip(sub._modules.keys(), children, strict=False)) \
            if len(sub._modules) == len(children) else None
        if old is not None and tuple(sub._parameters) == names:
            for k, m in sub._modules.items():
                if old.get(k) is not m:
                    child = f"{path}.{k}" if path else k
                    return (f"{v.label}: submodule {child!r} was replaced after compile_functor "
                            f"(now {type(m).__name__}); the program's graphs and optimizer "
                            f"would go on using the old one, and the new one would never be "
                            f"trained; {AGAIN}")
        if tuple(sub._parameters) != names:
            return (f"{v.label}: the parameters of {where} changed after compile_functor "
                    f"(were {', '.join(names) or 'none'}, now "
                    f"{', '.join(sub._parameters) or 'none'}); {AGAIN}")
        return (f"{v.label}: the submodules of {where} changed after compile_functor (were "
                f"{len(children)}, now {len(sub._modules)}); {AGAIN}")

    def _frozen_rows(self) -> list[tuple[torch.Tensor, int]]:
        out = []
        for v in self.views:
            if v.stacked is None:
                continue
            stacks, i = v.stacked
            out += [(stacks[p.name], i) for p in v.params
                    if not p.requires_grad and p.name in stacks]
        return out

    def frozen_parameters(self) -> list[str]:
        """The names of the parameters frozen now (``requires_grad`` false), as
        ``label: name`` when more than one module is viewed."""
        many = len(self.views) > 1
        return [f"{v.label}: {p.name}" if many else p.name
                for v in self.views for p in v.params if not p.requires_grad]

    def hold_frozen(self):
        """A context for an optimizer update: frozen rows of stacks get no gradient and
        keep their values (an optimizer with momentum would otherwise move them)."""
        return _Hold(self.frozen)


class _Hold:
    def __init__(self, rows: list[tuple[torch.Tensor, int]]):
        self.rows, self.saved = rows, []

    def zero_grads(self) -> None:
        for s, i in self.rows:
            if s.grad is not None:
                s.grad[i].zero_()

    def __enter__(self):
        with torch.no_grad():
            self.saved = [s[i].clone() for s, i in self.rows]
        return self

    def __exit__(self, *exc):
        with torch.no_grad():
            for (s, i), x in zip(self.rows, self.saved, strict=True):
                s[i].copy_(x)
        return False
