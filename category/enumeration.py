"""Lazy enumeration of the free category's paths (words of composable arrows)."""

from __future__ import annotations

from collections.abc import Iterator

from .core import Ob, Path


def free_paths(schema, max_length: int, dom: Ob | None = None,
               cod: Ob | None = None) -> Iterator[Path]:
    """Yield every path of length ``0..max_length``, by length then arrow names.

    Iterative deepening keeps memory at O(max_length) whatever the number of
    paths; each path is built by extending a valid prefix with an arrow out of
    its codomain, so it needs no re-validation (``Path._unchecked``).
    """
    if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 0:
        raise ValueError(f"max_length must be an int >= 0, got {max_length!r}")
    objects = sorted(schema.objects(), key=lambda o: o.name)
    # Out-arrows of each object in name order; the lexicographic order of the
    # words then follows from a depth-first walk.
    out = {o: sorted(schema.out_arrows(o), key=lambda a: a.name) for o in objects}
    starts = [dom] if dom is not None else objects
    for ob in starts:
        if cod is None or ob == cod:
            yield ob.id
    first = sorted((a for o in starts for a in out[o]), key=lambda a: a.name)
    make = Path._unchecked
    for length in range(1, max_length + 1):
        # alive[j]: objects from which `cod` is reachable in exactly j steps.
        alive = _reach_exactly(objects, out, cod, length) if cod is not None else None
        yield from _words_of_length(first, out, length, alive, make)


def _reach_exactly(objects, out, cod, length):
    alive = [{cod}]
    for _ in range(length):
        prev = alive[-1]
        alive.append({o for o in objects if any(a.cod in prev for a in out[o])})
    return alive


def _words_of_length(first, out, length, alive, make):
    if length == 1:
        for a in first:
            if alive is None or a.cod in alive[0]:
                yield make(a.dom, a.cod, (a,))
        return
    # Explicit stack of iterators: no recursion, memory O(length).
    for a in first:
        if alive is not None and a.cod not in alive[length - 1]:
            continue
        dom = a.dom
        prefixes = [(a,)]
        stack = [iter(out[a.cod])]
        while stack:
            depth = len(stack)  # arrows still to add after this level: length - depth
            for nxt in stack[-1]:
                if alive is not None and nxt.cod not in alive[length - depth - 1]:
                    continue
                word = prefixes[-1] + (nxt,)
                if depth + 1 == length:
                    yield make(dom, nxt.cod, word)
                else:
                    prefixes.append(word)
                    stack.append(iter(out[nxt.cod]))
                    break
            else:
                stack.pop()
                prefixes.pop()
