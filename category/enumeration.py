"""Lazy enumeration of the free category's paths (words of composable arrows)."""

from __future__ import annotations

from collections.abc import Iterator

from .core import Ob, Path
from .errors import BoundError


def free_paths(schema, max_length: int, dom: Ob | None = None,
               cod: Ob | None = None) -> Iterator[Path]:
    """Yield every path of length ``0..max_length``, by length then arrow names.

    Iterative deepening keeps memory at O(max_length) whatever the number of
    paths; each path is built by extending a valid prefix with an arrow out of
    its codomain, so it needs no re-validation (``Path._unchecked``).
    """
    if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 0:
        raise BoundError(f"max_length must be an int >= 0, got {max_length!r}")
    objects = sorted(schema.objects(), key=lambda o: o.name)
    # Out-arrows of each object in name order; the lexicographic order of the
    # words then follows from a depth-first walk.
    out = {o: sorted(schema.out_arrows(o), key=lambda a: a.name) for o in objects}
    starts = [dom] if dom is not None else objects
    for ob in starts:
        if cod is None or ob == cod:
            yield ob.id
    first = sorted((a for o in starts for a in out[o]), key=lambda a: a.name)
    for length in range(1, max_length + 1):
        # alive[j]: objects from which `cod` is reachable in exactly j steps.
        alive = _reach_exactly(objects, out, cod, length) if cod is not None else None
        yield from _words_of_length(first, out, length, alive)


def _reach_exactly(objects, out, cod, length):
    alive = [{cod}]
    for _ in range(length):
        prev = alive[-1]
        alive.append({o for o in objects if any(a.cod in prev for a in out[o])})
    return alive


def _words_of_length(first, out, length, alive):
    """Depth-first over prefixes of ``length - 1`` arrows; the last arrow is added in
    a tight loop, since that level holds most of the paths."""
    new, set_dom, set_cod, set_arrows = object.__new__, *_PATH_SETTERS
    for a in first:
        if alive is not None and a.cod not in alive[length - 1]:
            continue
        dom = a.dom
        prefixes = [(a,)]
        cods = [a.cod]
        stack = [iter(out[a.cod])] if length > 1 else []
        if length == 1:
            p = new(Path)
            set_dom(p, dom)
            set_cod(p, a.cod)
            set_arrows(p, (a,))
            yield p
        while stack:
            depth = len(stack)  # arrows in the current prefix
            if depth == length - 1:
                prefix = prefixes[-1]
                ok = alive[0] if alive is not None else None
                for nxt in out[cods[-1]]:
                    if ok is not None and nxt.cod not in ok:
                        continue
                    p = new(Path)
                    set_dom(p, dom)
                    set_cod(p, nxt.cod)
                    set_arrows(p, prefix + (nxt,))
                    yield p
                stack.pop()
                prefixes.pop()
                cods.pop()
                continue
            for nxt in stack[-1]:
                if alive is not None and nxt.cod not in alive[length - depth - 1]:
                    continue
                prefixes.append(prefixes[-1] + (nxt,))
                cods.append(nxt.cod)
                stack.append(iter(out[nxt.cod]))
                break
            else:
                stack.pop()
                prefixes.pop()
                cods.pop()


_PATH_SETTERS = tuple(Path.__dict__[s].__set__ for s in ("dom", "cod", "arrows"))
