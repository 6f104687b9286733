"""Lazy enumeration of the free category's paths (words of composable arrows)."""

from __future__ import annotations

from collections.abc import Iterator

from . import messages
from .core import Ob, Path
from .errors import BoundError, CountTooLarge


def _check_length(max_length: object) -> None:
    if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 0:
        raise BoundError(messages.bad_path_length(max_length))


def free_paths(schema, max_length: int, dom: Ob | None = None,
               cod: Ob | None = None) -> Iterator[Path]:
    """Every path of length ``0..max_length``, by length then arrow names, lazily.

    Iterative deepening keeps memory at O(max_length) whatever the number of
    paths; each path is built by extending a valid prefix with an arrow out of
    its codomain, so it needs no re-validation (``Path._unchecked``).
    """
    _check_length(max_length)  # here, not in the generator: at the call, not at next()
    return _free_paths(schema, max_length, dom, cod)


def _free_paths(schema, max_length: int, dom: Ob | None, cod: Ob | None) -> Iterator[Path]:
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


def count_free_paths(schema, max_length: int, dom: Ob | None, cod: Ob | None,
                     max_bits: int, method: str | None = None) -> int:
    """The number of paths ``free_paths`` yields, as an exact integer (see
    ``Schema.count_paths``); ``method``: ``"steps"`` or ``"squaring"`` (default: the
    cheaper for this schema and length)."""
    _check_length(max_length)
    objects = schema.objects()
    index = {o: i for i, o in enumerate(objects)}
    n = len(objects)
    M = [[0] * n for _ in range(n)]
    for a in schema.arrows:
        M[index[a.dom]][index[a.cod]] += 1
    u = [int(dom is None or o == dom) for o in objects]
    v = [int(cod is None or o == cod) for o in objects]

    def too_large(at_least: int, reached: int):
        return CountTooLarge(f"the number of paths up to length {max_length} has more than "
                             f"{max_bits} bits (at least {_short(at_least)} paths of length "
                             f"≤ {reached}); lower max_length", at_least, reached)

    arrows = len(schema.arrows)
    if method is None:
        cheap = max_length * (arrows + n) <= (2 * n) ** 3 * 2 * max(1, max_length.bit_length())
        method = "steps" if cheap else "squaring"
    if method == "steps":
        row, total = u, sum(x * y for x, y in zip(u, v))  # length 0: the identities
        for k in range(1, max_length + 1):
            nxt = [0] * n
            for i, x in enumerate(row):
                if x:
                    for j, m in enumerate(M[i]):
                        if m:
                            nxt[j] += x * m
            row = nxt
            total += sum(x * y for x, y in zip(row, v))
            if total.bit_length() > max_bits:
                raise too_large(total, k)
            if not any(row):
                break
        return total
    # B = [[M, I], [0, I]]: B^m = [[M^m, M^0 + … + M^(m-1)], [0, I]]; we need m = N + 1
    size = 2 * n
    B = [[0] * size for _ in range(size)]
    for i in range(n):
        B[i][:n] = M[i]
        B[i][n + i] = 1
        B[n + i][n + i] = 1

    def mul(X, Y):
        Yt = list(zip(*Y))
        return [[sum(a * b for a, b in zip(r, c) if a and b) for c in Yt] for r in X]

    def bound(P):  # u^T (top-right block of P) v
        return sum(u[i] * P[i][n + j] * v[j] for i in range(n) for j in range(n))

    m, result, power, step, done = max_length + 1, None, B, 1, 0  # power = B^step
    while m:
        if m & 1:
            result = power if result is None else mul(result, power)
            done += step  # result = B^done: the paths of length < done
        m >>= 1
        if m:
            power, step = mul(power, power), 2 * step
            if max(x.bit_length() for r in power for x in r) > max_bits:
                raise too_large(bound(result) if result is not None else 0, max(done - 1, 0))
    total = bound(result)
    if total.bit_length() > max_bits:
        raise too_large(total, max_length)
    return total


def _short(x: int) -> str:
    text = str(x) if x.bit_length() < 200 else None
    if text is not None:
        return text
    digits = len(str(x)) if x.bit_length() < 100_000 else int(x.bit_length() * 0.30103)
    return f"10^{digits - 1}"
