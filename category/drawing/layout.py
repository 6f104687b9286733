"""Where each part of a schema's picture goes: a layout that reads like a commutative diagram.

Pure geometry, no drawing library: :func:`layout` returns boxes and curves in points
(1/72 inch, y upwards), which :mod:`category.drawing.render` renders with matplotlib and
which tests check directly.

- Objects are rounded boxes, sized from their names. Acyclic parts are layered: each
  arrow goes one column right (sources left, sinks right); an arrow that would close a
  cycle (``g`` of an inverse pair ``f``, ``g``) is drawn as the way back.
- An equation ``a.b = c.d`` between two paths through four distinct objects is a
  commuting square: ``a`` and ``d`` run horizontally, ``b`` and ``c`` vertically, so a
  square is a rectangle and a k×k grid of squares is a k×k grid.
- A product object has a dashed projection ``π₁, π₂, …`` to each of its factors.
- Arrows between the same two objects (either way) are spread as separate arcs; an
  arrow that would cross an object bends around it; loops sit on a free side of their
  object, one side per loop.
- Every label is placed beside its arrow, clear of every object, arrow and other label
  when the picture has room for it (see :func:`overlaps`).
- The result depends only on the schema (declaration order breaks ties): the same
  schema gives the same layout.

>>> from category import Schema
>>> L = layout(Schema.parse(open("examples/square.schema").read()))
>>> sorted((n.name, n.x, n.y) for n in L.nodes)            # a rectangle
[('A', 0.0, 0.0), ('B', 100.0, 0.0), ('C', 0.0, -83.6), ('D', 100.0, -83.6)]
>>> overlaps(L)
[]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from types import SimpleNamespace

NODE_FONT = 12.0    # points
LABEL_FONT = 10.0
NOTE_FONT = 10.0
TITLE_FONT = 13.0

_WIDE = {"W": 1.0, "M": 0.87, "m": 0.98, "w": 0.83, "×": 0.84, "=": 0.84, "O": 0.79,
         "Q": 0.79, "G": 0.78, "D": 0.78, "H": 0.76, "N": 0.76, "U": 0.74, "A": 0.72,
         "_": 0.52, "π": 0.62}
_NARROW = set("ijlI.,:;'|!()[]{} ")


def text_width(text: str, size: float, mono: bool = False) -> float:
    """A generous width estimate, in points, of ``text`` in DejaVu Sans (or Sans Mono).

    >>> text_width("f", 10) < text_width("Zebra", 10) < text_width("Zebra", 20)
    True
    """
    if mono:
        return 0.61 * size * len(text)
    total = 0.0
    for ch in text:
        if ch in _WIDE:
            total += _WIDE[ch]
        elif ch in _NARROW:
            total += 0.4
        elif ch.isupper():
            total += 0.72
        elif ch.isdigit():
            total += 0.65
        else:
            total += 0.64
    return total * size


Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle: centre ``(x, y)``, ``width`` and ``height``."""

    x: float
    y: float
    width: float
    height: float

    @property
    def x0(self) -> float:
        return self.x - self.width / 2

    @property
    def x1(self) -> float:
        return self.x + self.width / 2

    @property
    def y0(self) -> float:
        return self.y - self.height / 2

    @property
    def y1(self) -> float:
        return self.y + self.height / 2

    def grown(self, by: float) -> Box:
        return Box(self.x, self.y, self.width + 2 * by, self.height + 2 * by)

    def intersects(self, other: Box) -> bool:
        """True when the two rectangles share interior points."""
        return (self.x0 < other.x1 and other.x0 < self.x1 and
                self.y0 < other.y1 and other.y0 < self.y1)

    def contains(self, p: Point) -> bool:
        return self.x0 <= p[0] <= self.x1 and self.y0 <= p[1] <= self.y1

    def meets_segment(self, p: Point, q: Point) -> bool:
        """True when the segment ``p``–``q`` touches the rectangle (Liang–Barsky)."""
        t0, t1 = 0.0, 1.0
        dx, dy = q[0] - p[0], q[1] - p[1]
        for d, lo, hi, at in ((dx, self.x0, self.x1, p[0]), (dy, self.y0, self.y1, p[1])):
            if abs(d) < 1e-12:
                if at < lo or at > hi:
                    return False
                continue
            a, b = (lo - at) / d, (hi - at) / d
            if a > b:
                a, b = b, a
            t0, t1 = max(t0, a), min(t1, b)
            if t0 > t1:
                return False
        return True


@dataclass(frozen=True)
class Node(Box):
    """An object's box; ``factors`` names a product object's factors."""

    name: str = ""
    factors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Edge:
    """A cubic Bézier ``points`` (four control points) from ``dom`` to ``cod``.

    ``kind`` is ``"arrow"`` (a generator; ``dom == cod`` for a loop) or
    ``"projection"`` (a product to one of its factors, drawn dashed).
    """

    name: str
    dom: str
    cod: str
    points: tuple[Point, Point, Point, Point]
    kind: str = "arrow"

    def at(self, t: float) -> Point:
        return _bezier(self.points, t)

    def polyline(self, n: int = 48) -> list[Point]:
        return [self.at(i / n) for i in range(n + 1)]


@dataclass(frozen=True)
class Label(Box):
    """The text of an edge's label, centred in its box."""

    text: str = ""
    edge: str = ""
    size: float = LABEL_FONT


@dataclass(frozen=True)
class Layout:
    """Everything a renderer needs, in points with y upwards.

    ``notes`` are the lines printed under the diagram (products, then equations);
    ``columns`` maps each object to its layer (used for Graphviz ranks).
    """

    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    labels: tuple[Label, ...]
    notes: tuple[str, ...]
    columns: dict[str, int]
    rows: dict[str, int]

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def bounds(self) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` around every node, edge and label."""
        xs: list[float] = []
        ys: list[float] = []
        for b in (*self.nodes, *self.labels):
            xs += [b.x0, b.x1]
            ys += [b.y0, b.y1]
        for e in self.edges:
            for p in e.polyline(24):
                xs.append(p[0])
                ys.append(p[1])
        if not xs:
            return (0.0, 0.0, 0.0, 0.0)
        return (min(xs), min(ys), max(xs), max(ys))


# ---------------------------------------------------------------------------- geometry

def _bezier(pts, t: float) -> Point:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = pts
    s = 1 - t
    a, b, c, d = s * s * s, 3 * s * s * t, 3 * s * t * t, t * t * t
    return (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)


def _tangent(pts, t: float) -> Point:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = pts
    s = 1 - t
    dx = 3 * s * s * (x1 - x0) + 6 * s * t * (x2 - x1) + 3 * t * t * (x3 - x2)
    dy = 3 * s * s * (y1 - y0) + 6 * s * t * (y2 - y1) + 3 * t * t * (y3 - y2)
    n = math.hypot(dx, dy) or 1.0
    return (dx / n, dy / n)


def _split(pts, t0: float, t1: float):
    """The part of a cubic Bézier between parameters ``t0 < t1``, as a cubic."""
    def sub(p, t):  # de Casteljau: the part [t, 1]
        (a, b, c, d) = p
        ab, bc, cd = _lerp(a, b, t), _lerp(b, c, t), _lerp(c, d, t)
        abc, bcd = _lerp(ab, bc, t), _lerp(bc, cd, t)
        return (_lerp(abc, bcd, t), bcd, cd, d)

    right = sub(pts, t0)
    u = (t1 - t0) / (1 - t0) if t0 < 1 else 1.0
    rev = sub(tuple(reversed(right)), 1 - u)
    return tuple(reversed(rev))


def _lerp(p: Point, q: Point, t: float) -> Point:
    return (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)


def _exit(pts, box: Box, from_start: bool) -> float:
    """Parameter where the curve leaves ``box`` (its start) or enters it (its end)."""
    lo, hi = (0.0, 0.5) if from_start else (1.0, 0.5)
    if box.contains(_bezier(pts, hi)):
        return hi
    for _ in range(40):
        mid = (lo + hi) / 2
        if box.contains(_bezier(pts, mid)):
            lo = mid
        else:
            hi = mid
    return hi


# ---------------------------------------------------------------------------- structure

class _Find:
    """Union–find with parity (``same`` / ``opposite``), for arrow orientations."""

    def __init__(self):
        self.parent: dict = {}
        self.parity: dict = {}

    def find(self, x):
        if x not in self.parent:
            self.parent[x], self.parity[x] = x, 0
            return x, 0
        p, par = x, 0
        while self.parent[p] != p:
            par ^= self.parity[p]
            p = self.parent[p]
        return p, par

    def union(self, a, b, parity: int) -> bool:
        """Say ``a`` and ``b`` differ by ``parity``; False if that contradicts."""
        (ra, pa), (rb, pb) = self.find(a), self.find(b)
        if ra == rb:
            return (pa ^ pb) == parity
        self.parent[rb], self.parity[rb] = ra, pa ^ pb ^ parity
        return True


def _squares(schema) -> list[tuple]:
    """``(a, b, c, d)`` for each equation ``a.b = c.d`` through four distinct objects."""
    found = []
    for e in schema.equations:
        lhs, rhs = tuple(e.lhs), tuple(e.rhs)
        if len(lhs) != 2 or len(rhs) != 2:
            continue
        a, b = lhs
        c, d = rhs
        if len({a.dom, a.cod, c.cod, b.cod}) == 4:
            found.append((a, b, c, d))
    return found


def _orientations(schema) -> dict[str, str]:
    """``"h"`` or ``"v"`` for each arrow of a commuting square; others are free."""
    uf = _Find()
    first: dict = {}  # component root -> the arrow that decides it is horizontal
    for a, b, c, d in _squares(schema):
        trial = _Find()
        trial.parent, trial.parity = dict(uf.parent), dict(uf.parity)
        if (trial.union(a.name, d.name, 0) and trial.union(b.name, c.name, 0)
                and trial.union(a.name, c.name, 1)):
            uf = trial
            root = uf.find(a.name)[0]
            first.setdefault(root, a.name)
    # Merging may re-root components: find each component's deciding arrow again.
    decide: dict = {}
    for name in sorted(first.values(), key=lambda n: list(uf.parent).index(n)):
        decide.setdefault(uf.find(name)[0], name)
    out = {}
    for name in uf.parent:
        root, par = uf.find(name)
        ref = uf.find(decide[root])[1]
        out[name] = "h" if par == ref else "v"
    return out


def _reaches(adj: dict, src, dst) -> bool:
    seen, stack = {src}, [src]
    while stack:
        x = stack.pop()
        if x == dst:
            return True
        for y in adj.get(x, ()):
            if y not in seen:
                seen.add(y)
                stack.append(y)
    return False


def _isotonic(desired: list[float], weights: list[float], gaps: list[float]) -> list[float]:
    """Positions closest to ``desired`` (weighted) with ``p[i+1] - p[i] >= gaps[i]``."""
    shift = [0.0]
    for g in gaps:
        shift.append(shift[-1] + g)
    blocks: list[list[float]] = []  # [mean, weight, count]
    for d, w, s in zip(desired, weights, shift):
        blocks.append([d - s, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    out = []
    for m, _, n in blocks:
        out += [m] * n
    return [q + s for q, s in zip(out, shift)]


# ---------------------------------------------------------------------------- layout

H_GAP_MIN = 62.0   # points between two columns' boxes
V_GAP = 54.0       # points between two boxes in one column
COMPONENT_GAP = 40.0
ARC_SPREAD = 34.0  # distance between neighbouring parallel arcs at their middle
LOOP_REACH = 40.0


def _node_box(ob, x=0.0, y=0.0) -> Node:
    w = max(38.0, text_width(ob.name, NODE_FONT) + 20)
    return Node(x, y, w, NODE_FONT * 1.3 + 14, name=ob.name,
                factors=tuple(f.name for f in ob.factors))


def _label_size(text: str) -> tuple[float, float]:
    return text_width(text, LABEL_FONT) + 6, LABEL_FONT * 1.3 + 4


def _components(obs, links) -> list[list]:
    comp = _Find()
    for ob in obs:
        comp.find(ob)
    for u, v in links:
        comp.union(u, v, 0)
    groups: dict = {}
    for ob in obs:
        groups.setdefault(comp.find(ob)[0], []).append(ob)
    return list(groups.values())  # in order of each component's first object


def _place(schema):
    """Columns, rows and centres of every object (y upwards).

    Each connected component in turn: its columns (:func:`_columns`), the rows its
    commuting squares pin (:func:`_pinned_rows`), heights in each column
    (:func:`_column_heights`) and the columns' x (:func:`_column_xs`); components are
    stacked top to bottom, then everything is normalised (:func:`_nodes`).
    """
    obs = list(schema.objects())
    orient = _orientations(schema)
    arrows = [a for a in schema.arrows if a.dom != a.cod]
    proj = [(p, f) for p in obs for f in p.factors]
    links = [(a.dom, a.cod) for a in arrows] + proj
    order = {ob: i for i, ob in enumerate(obs)}
    boxes = {ob: _node_box(ob) for ob in obs}
    widest = max([_label_size(a.name)[0] for a in schema.arrows] + [0.0])
    h_gap = max(H_GAP_MIN, widest + 40)

    columns: dict = {}
    centres: dict = {}
    top = 0.0  # y (downwards) where the next component starts
    for group in _components(obs, links):
        inside = set(group)
        columns.update(_columns(group, inside, arrows, proj, orient))
        pinned = _pinned_rows(inside, arrows, orient)
        pitch = max(b.height for ob, b in boxes.items() if ob in inside) + V_GAP
        ncols = 1 + max(columns[ob] for ob in group)
        per_col = [[ob for ob in group if columns[ob] == c] for c in range(ncols)]
        y = _column_heights(group, inside, per_col, pinned, pitch, links, boxes, order)
        low = min(y[ob] - boxes[ob].height / 2 for ob in group)
        high = max(y[ob] + boxes[ob].height / 2 for ob in group)
        xs = _column_xs(per_col, boxes, h_gap)
        for ob in group:
            yy = top + (y[ob] - low)
            centres[ob] = (round(xs[columns[ob]], 3), round(-yy + boxes[ob].height / 2, 3))
        top += (high - low) + COMPONENT_GAP + pitch * 0.5
    return _nodes(obs, centres, boxes, columns, order)


def _columns(group, inside, arrows, proj, orient) -> dict:
    """The column of each object of one component.

    Vertical square arrows keep a column; others go right, unless they would close a
    cycle (then they are the way back). A column is the longest path from a source.
    """
    col = _Find()
    for a in arrows:
        if a.dom in inside and orient.get(a.name) == "v":
            col.union(a.dom, a.cod, 0)
    cls = {ob: col.find(ob)[0] for ob in group}
    adj: dict = {}
    ranked = sorted((a for a in arrows if a.dom in inside),
                    key=lambda a: orient.get(a.name) != "h")
    steps = [(a.dom, a.cod) for a in ranked if orient.get(a.name) != "v"]
    steps += [(p, f) for p, f in proj if p in inside]
    for u, v in steps:
        cu, cv = cls[u], cls[v]
        if cu != cv and not _reaches(adj, cv, cu):
            adj.setdefault(cu, [])
            if cv not in adj[cu]:
                adj[cu].append(cv)
    depth = {cls[ob]: 0 for ob in group}
    for _ in range(len(depth)):  # longest path from a source; adj is acyclic
        for cu, outs in adj.items():
            for cv in outs:
                depth[cv] = max(depth[cv], depth[cu] + 1)
    return {ob: depth[cls[ob]] for ob in group}


def _pinned_rows(inside, arrows, orient) -> dict:
    """The row of each object of a commuting square in one component, from 0.

    Horizontal square arrows keep a row, vertical ones go down one.
    """
    row = [ob for a in arrows if a.dom in inside and a.name in orient
           for ob in (a.dom, a.cod)]
    pinned: dict = {}
    for start in row:
        if start in pinned:
            continue
        pinned[start] = 0
        stack = [start]
        while stack:
            x = stack.pop()
            for a in arrows:
                if a.name not in orient or x not in (a.dom, a.cod):
                    continue
                step = 1 if orient[a.name] == "v" else 0
                y = pinned[x] + (step if a.dom == x else -step)
                other = a.cod if a.dom == x else a.dom
                if other not in pinned:
                    pinned[other] = y
                    stack.append(other)
    if pinned:
        low = min(pinned.values())
        pinned = {ob: r - low for ob, r in pinned.items()}
    return pinned


def _column_heights(group, inside, per_col, pinned, pitch, links, boxes, order) -> dict:
    """The height (y downwards) of each object of one component.

    Pinned objects sit on their row; the others move towards the mean height of their
    neighbours, sweeping the columns left to right and back (eight sweeps), each
    column kept in order with its gaps by isotonic regression. Sorts ``per_col``'s
    columns into their final top-to-bottom order.
    """
    y = {ob: (pinned[ob] * pitch if ob in pinned else i * pitch)
         for c in per_col for i, ob in enumerate(c)}
    neighbours: dict = {ob: [] for ob in group}
    for u, v in links:
        if u in inside:
            neighbours[u].append(v)
            neighbours[v].append(u)
    for sweep in range(8):
        cols = per_col if sweep % 2 == 0 else list(reversed(per_col))
        for members in cols:
            want = {}
            for ob in members:
                if ob in pinned:
                    want[ob] = pinned[ob] * pitch
                elif neighbours[ob]:
                    want[ob] = sum(y[n] for n in neighbours[ob]) / len(neighbours[ob])
                else:
                    want[ob] = y[ob]
            members.sort(key=lambda ob: (want[ob], y[ob], order[ob]))
            gaps = [(boxes[p].height + boxes[q].height) / 2 + V_GAP
                    for p, q in zip(members, members[1:])]
            weights = [100.0 if ob in pinned else 1.0 for ob in members]
            placed = _isotonic([want[ob] for ob in members], weights, gaps)
            for ob, p in zip(members, placed):
                y[ob] = p
    return y


def _column_xs(per_col, boxes, h_gap: float) -> list[float]:
    """The x of each column's centre: neighbouring columns ``h_gap`` apart, box to box."""
    widths = [max(boxes[ob].width for ob in c) for c in per_col]
    xs = [0.0]
    for c in range(1, len(per_col)):
        xs.append(xs[-1] + widths[c - 1] / 2 + h_gap + widths[c] / 2)
    return xs


def _nodes(obs, centres, boxes, columns, order):
    """The nodes (the first object's top-left region at the origin), each object's
    column, and each object's row rank (top to bottom, then declaration order)."""
    if centres:
        x_min = min(x for x, _ in centres.values())
        y_max = max(y for _, y in centres.values())
        centres = {ob: (x - x_min, y - y_max) for ob, (x, y) in centres.items()}
    nodes = {ob: Node(centres[ob][0], centres[ob][1], boxes[ob].width, boxes[ob].height,
                      name=ob.name, factors=boxes[ob].factors) for ob in obs}
    row_rank = {ob.name: r for r, ob in enumerate(sorted(obs, key=lambda o: (-nodes[o].y,
                                                                            order[o])))}
    return nodes, {ob.name: columns[ob] for ob in obs}, row_rank


def _straight_or_arc(p: Point, q: Point, offset: float):
    """A cubic from ``p`` to ``q`` whose middle is ``offset`` to the left of the chord."""
    dx, dy = q[0] - p[0], q[1] - p[1]
    n = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / n, dx / n
    h = offset / 0.75
    c1 = (p[0] + dx / 3 + nx * h, p[1] + dy / 3 + ny * h)
    c2 = (p[0] + 2 * dx / 3 + nx * h, p[1] + 2 * dy / 3 + ny * h)
    return (p, c1, c2, q)


def _hits(pts, others: list[Box]) -> bool:
    line = [_bezier(pts, i / 48) for i in range(49)]
    return any(b.meets_segment(s, t) for b in others for s, t in zip(line, line[1:]))


def _route(name, dom: Node, cod: Node, offset: float, kind: str) -> Edge:
    """The arc from ``dom`` to ``cod`` (``offset`` left of the chord), cut at both boxes."""
    # Parallel arcs also leave and enter their boxes apart: move the ends a little
    # towards the arc's side (staying well inside the boxes) before cutting.
    dx, dy = cod.x - dom.x, cod.y - dom.y
    n = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / n, dx / n

    def end(b: Node) -> Point:
        room = 0.3 * min(b.width, b.height)
        slide = max(-room, min(room, 0.3 * offset))
        return (b.x + nx * slide, b.y + ny * slide)

    pts = _straight_or_arc(end(dom), end(cod), offset)
    t0 = _exit(pts, dom.grown(3), True)
    t1 = _exit(pts, cod.grown(3), False)
    return Edge(name, dom.name, cod.name, _split(pts, t0, t1), kind)


def _shift(p: Node, q: Node, offsets: list[float], others: list[Node]) -> float:
    """How far to move a bundle of parallel arcs sideways so none crosses another node
    (0 when none does; the bundle keeps its spacing)."""
    grown = [b.grown(6) for b in others]
    tries = [0.0]
    for k in range(1, 8):
        tries += [k * ARC_SPREAD, -k * ARC_SPREAD]
    for shift in tries:
        if not any(_hits(_straight_or_arc((p.x, p.y), (q.x, q.y), o + shift), grown)
                   for o in offsets):
            return shift
    return 0.0


_SIDES = {"up": (0.0, 1.0), "down": (0.0, -1.0), "right": (1.0, 0.0), "left": (-1.0, 0.0)}


def _loop(name, node: Node, side: str, nested: int, kind: str = "arrow") -> Edge:
    ux, uy = _SIDES[side]
    vx, vy = uy, -ux  # clockwise: from the -v side to the +v side
    ext = node.height / 2 if ux == 0 else node.width / 2
    across = node.width / 2 if ux == 0 else node.height / 2
    a = min(across * 0.55, 11.0)
    reach = LOOP_REACH + 40 * nested
    wide = 16.0 + 20 * nested
    cx, cy = node.x, node.y
    start = (cx + ux * ext - vx * a, cy + uy * ext - vy * a)
    end = (cx + ux * ext + vx * a, cy + uy * ext + vy * a)
    c1 = (cx + ux * (ext + reach) - vx * (a + wide), cy + uy * (ext + reach) - vy * (a + wide))
    c2 = (cx + ux * (ext + reach) + vx * (a + wide), cy + uy * (ext + reach) + vy * (a + wide))
    return Edge(name, node.name, node.name, (start, c1, c2, end), kind)


def _support(nx: float, ny: float, w: float, h: float) -> float:
    return abs(nx) * w / 2 + abs(ny) * h / 2


def _place_label(text, edge: Edge, prefer: float, nodes, placed, curves, loop_dir=None):
    w, h = _label_size(text)
    candidates = []
    if loop_dir is not None:
        ux, uy = loop_dir
        vx, vy = uy, -ux
        apex = edge.at(0.5)
        for extra in (0.0, 8.0, 18.0, 30.0, 46.0):
            d = 4 + extra + _support(ux, uy, w, h)
            for slide in (0.0, -1.0, 1.0):
                s = slide * (_support(vx, vy, w, h) + 10)
                candidates.append((apex[0] + ux * d + vx * s, apex[1] + uy * d + vy * s))
        for extra in (0.0, 10.0):
            for t in (0.25, 0.75, 0.15, 0.85):
                px, py = edge.at(t)
                tx, ty = _tangent(edge.points, t)
                nx, ny = ty, -tx  # outside of a clockwise loop
                d = 4 + extra + _support(nx, ny, w, h)
                candidates.append((px + nx * d, py + ny * d))
    else:
        for extra in (0.0, 10.0, 22.0):
            for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78):
                for side in (prefer, -prefer):
                    px, py = edge.at(t)
                    tx, ty = _tangent(edge.points, t)
                    nx, ny = -ty * side, tx * side
                    d = 4 + extra + _support(nx, ny, w, h)
                    candidates.append((px + nx * d, py + ny * d))
    best, best_bad = None, None
    for cx, cy in candidates:
        box = Box(cx, cy, w, h)
        room = box.grown(2)
        bad = (sum(room.intersects(n) for n in nodes) * 4
               + sum(room.intersects(b) for b in placed) * 4
               + sum(any(room.meets_segment(s, t) for s, t in zip(c, c[1:]))
                     for hull, c in curves if room.intersects(hull)))
        if bad == 0:
            best = (cx, cy)
            break
        if best_bad is None or bad < best_bad:
            best, best_bad = (cx, cy), bad
    assert best is not None
    return Label(round(best[0], 3), round(best[1], 3), w, h, text=text, edge=edge.name)


def _hulls(edges) -> list[tuple[Box, list[Point]]]:
    """Each edge's polyline with its bounding box (a quick first test for collisions)."""
    out = []
    for e in edges:
        line = e.polyline()
        xs, ys = [p[0] for p in line], [p[1] for p in line]
        out.append((Box((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2,
                        max(xs) - min(xs) + 1, max(ys) - min(ys) + 1), line))
    return out


def layout(schema) -> Layout:
    """The picture of ``schema`` as geometry: node boxes, edge curves, label boxes.

    Unconnected parts of the schema are laid out one by one and stacked top to bottom
    (in the order of their first objects), each with all its loops and labels.
    """
    obs = list(schema.objects())
    links = [(a.dom, a.cod) for a in schema.arrows] + [(p, f) for p in obs for f in p.factors]
    parts = _components(obs, links)
    notes = [f"{ob.name} = {' × '.join(f.name for f in ob.factors)}"
             for ob in obs if ob.is_product]
    notes += [str(e) for e in schema.equations]
    if len(parts) <= 1:
        L = _layout_part(schema)
        return Layout(f"schema {schema.name}", L.nodes, L.edges, L.labels, tuple(notes),
                      L.columns, L.rows)
    nodes, edges, labels, columns = [], [], [], {}
    top = 0.0
    for group in parts:
        inside = set(group)
        part = SimpleNamespace(
            name=schema.name, objects=lambda group=group: tuple(group),
            arrows=tuple(a for a in schema.arrows if a.dom in inside),
            equations=tuple(e for e in schema.equations if e.dom in inside))
        L = _layout_part(part)
        x0, _, _, y1 = L.bounds()
        dx, dy = -x0, top - y1
        nodes += [replace(n, x=round(n.x + dx, 3), y=round(n.y + dy, 3)) for n in L.nodes]
        labels += [replace(b, x=round(b.x + dx, 3), y=round(b.y + dy, 3)) for b in L.labels]
        edges += [replace(e, points=tuple((round(x + dx, 3), round(y + dy, 3))
                                          for x, y in e.points)) for e in L.edges]
        columns.update(L.columns)
        top = L.bounds()[1] + dy - COMPONENT_GAP
    order = {ob.name: i for i, ob in enumerate(obs)}
    rows = {n.name: r for r, n in enumerate(sorted(nodes, key=lambda n: (-n.y, order[n.name])))}
    return Layout(f"schema {schema.name}", tuple(nodes), tuple(edges), tuple(labels),
                  tuple(notes), columns, rows)


def _layout_part(schema) -> Layout:
    """:func:`layout` of one connected schema (or part of one): objects placed
    (:func:`_place`), edges between distinct objects spread (:func:`_offsets`) and
    routed (:func:`_edges`), loops put on free sides (:func:`_add_loops`), then labels
    (:func:`_labels`)."""
    nodes, columns, rows = _place(schema)
    by_name = {ob.name: nodes[ob] for ob in nodes}
    node_list = list(nodes.values())
    # Every edge between two distinct objects: arrows, then projections of products.
    specs = [(a.name, a.dom.name, a.cod.name, "arrow") for a in schema.arrows
             if a.dom != a.cod]
    specs += [(f"π{_sub(i + 1)}", ob.name, f.name, "projection")
              for ob in schema.objects() for i, f in enumerate(ob.factors)]
    offsets = _offsets(specs, by_name, node_list)
    edges, loops = _edges(schema, specs, by_name, offsets)
    loop_sides = _add_loops(loops, by_name, edges, node_list)
    labels = _labels(edges, node_list, loop_sides)
    return Layout(f"schema {schema.name}", tuple(node_list), tuple(edges), tuple(labels),
                  (), columns, rows)


def _offsets(specs, by_name, node_list) -> dict:
    """How far each edge's middle sits from its chord: the edges between the same two
    objects (either way) spread ``ARC_SPREAD`` apart, shifted clear of other nodes."""
    groups: dict = {}
    for spec in specs:
        if spec[1] != spec[2]:
            groups.setdefault(frozenset(spec[1:3]), []).append(spec)
    offsets: dict = {}
    for members in groups.values():
        # Offsets are measured in one orientation per pair (left/top node first), so an
        # arrow drawn the other way keeps its own side.
        p, q = by_name[members[0][1]], by_name[members[0][2]]
        first, second = (p, q) if (p.x, -p.y) <= (q.x, -q.y) else (q, p)
        n = len(members)
        own = [((n - 1) / 2 - i) * ARC_SPREAD for i in range(n)]
        others = [b for b in node_list if b.name not in (p.name, q.name)]
        shift = _shift(first, second, own, others)
        for spec, o in zip(members, own):
            offsets[spec] = o + shift
    return offsets


def _edges(schema, specs, by_name, offsets) -> tuple[list[Edge], dict]:
    """The routed edges between distinct objects, and the loops still to place:
    ``{object name: [(edge name, kind), …]}`` (loop arrows, then the projections of a
    product of an object with itself)."""
    edges: list[Edge] = []
    loops: dict = {}
    for a in schema.arrows:
        if a.dom == a.cod:
            loops.setdefault(a.dom.name, []).append((a.name, "arrow"))
    for spec in specs:
        name, dom, cod, kind = spec
        if dom == cod:  # a product of an object with itself: its projections are loops
            loops.setdefault(dom, []).append((name, kind))
            continue
        p, q = by_name[dom], by_name[cod]
        forward = (p.x, -p.y) <= (q.x, -q.y)
        first, second = (p, q) if forward else (q, p)
        e = _route(name, first, second, offsets[spec], kind)
        if not forward:
            e = Edge(name, dom, cod, tuple(reversed(e.points)), kind)
        edges.append(e)
    return edges, loops


def _add_loops(loops, by_name, edges: list[Edge], node_list) -> dict:
    """Append each loop to ``edges`` on a free side of its object (nested when sides
    repeat); ``{(object name, edge name): side}``."""
    loop_sides: dict = {}
    for name, keys in loops.items():
        node = by_name[name]
        used: list[str] = []
        for key, kind in keys:
            side = _free_side(node, edges, used, node_list)
            nested = used.count(side)
            used.append(side)
            loop_sides[name, key] = side
            edges.append(_loop(key, node, side, nested, kind))
    return loop_sides


def _labels(edges: list[Edge], node_list, loop_sides) -> list[Label]:
    """Labels, in drawing order, each clear of all nodes, all curves and earlier labels.

    A loop's label goes out along its side; a curved arrow's on the outside of its bend;
    a straight arrow's on the outside of its part of the picture.
    """
    curves = _hulls(edges)
    part = _Find()
    for e in edges:
        part.union(e.dom, e.cod, 0)
    centre: dict = {}
    for n in node_list:
        centre.setdefault(part.find(n.name)[0], []).append((n.x, n.y))
    centre = {k: (sum(p[0] for p in v) / len(v), sum(p[1] for p in v) / len(v))
              for k, v in centre.items()}
    labels: list[Label] = []
    for e in edges:
        if e.dom == e.cod:
            lab = _place_label(e.name, e, 1.0, node_list, labels, curves,
                               loop_dir=_SIDES[loop_sides.get((e.dom, e.name), "down")])
        else:
            mx, my = e.at(0.5)
            chord = ((e.points[0][0] + e.points[3][0]) / 2, (e.points[0][1] + e.points[3][1]) / 2)
            tx, ty = _tangent(e.points, 0.5)
            nx, ny = -ty, tx
            bulge = (mx - chord[0]) * nx + (my - chord[1]) * ny
            if abs(bulge) > 1:
                prefer = 1.0 if bulge > 0 else -1.0
            else:
                cx, cy = centre[part.find(e.dom)[0]]
                out = (mx - cx) * nx + (my - cy) * ny
                prefer = -1.0 if out < -1 else 1.0
            lab = _place_label(e.name, e, prefer, node_list, labels, curves)
        labels.append(lab)
    return labels


def _sub(i: int) -> str:
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(d)] for d in str(i))


def _free_side(node: Node, edges: list[Edge], used: list[str], nodes=()) -> str:
    """The side of ``node`` (up, down, right, left) where a loop meets least: the fewest
    other nodes and curves in its way, then the fewest edges leaving that side."""
    def crowd(side):
        ux, uy = _SIDES[side]
        n = 0
        for e in edges:
            if node.name not in (e.dom, e.cod) or e.dom == e.cod:
                continue
            far = e.points[3] if e.dom == node.name else e.points[0]
            near = e.points[1] if e.dom == node.name else e.points[2]
            for px, py in (far, near):
                dx, dy = px - node.x, py - node.y
                d = math.hypot(dx, dy) or 1.0
                if (dx * ux + dy * uy) / d > 0.5:
                    n += 1
        return n + 3 * used.count(side)

    def blocked(side):
        loop = _loop("", node, side, used.count(side)).polyline(24)
        xs, ys = [p[0] for p in loop], [p[1] for p in loop]
        room = Box((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2,
                   max(xs) - min(xs) + 2 * LABEL_FONT, max(ys) - min(ys) + 2 * LABEL_FONT)
        hits = sum(room.intersects(n) for n in nodes if n.name != node.name) * 3
        for e in edges:
            line = e.polyline(24)
            hits += any(room.meets_segment(p, q) for p, q in zip(line, line[1:])
                        if not (node.contains(p) or node.contains(q)))
        return hits

    return min(_SIDES, key=lambda s: (blocked(s), crowd(s), list(_SIDES).index(s)))


def overlaps(L: Layout) -> list[str]:
    """Every collision in a layout, as text; ``[]`` for a clean picture.

    Checks: no two nodes overlap; every label box is clear of every node, every other
    label and every edge curve.
    """
    found = []
    nodes, labels = list(L.nodes), list(L.labels)
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            if a.grown(2).intersects(b):
                found.append(f"node {a.name} overlaps node {b.name}")
    for i, lab in enumerate(labels):
        for n in nodes:
            if lab.intersects(n):
                found.append(f"label {lab.text} overlaps node {n.name}")
        for other in labels[i + 1:]:
            if lab.intersects(other):
                found.append(f"label {lab.text} overlaps label {other.text}")
        for e in L.edges:
            line = e.polyline()
            if any(lab.meets_segment(s, t) for s, t in zip(line, line[1:])):
                found.append(f"label {lab.text} lies on edge {e.name}")
    return found


def equation_layout(equation) -> Layout:
    """One equation ``lhs = rhs`` as its own small diagram: both paths from one copy of
    ``dom`` to one copy of ``cod``, ``lhs`` along the top and ``rhs`` along the bottom
    (an identity side is a straight arrow ``id(A)``). Objects a path passes twice
    appear twice. The title is the equation's text.

    >>> from category import Schema
    >>> S = Schema.parse(open("examples/square.schema").read())
    >>> L = equation_layout(S.equations[0])
    >>> [n.name for n in L.nodes], overlaps(L)
    (['A', 'D', 'B', 'C'], [])
    """
    lhs, rhs = tuple(equation.lhs), tuple(equation.rhs)
    span = max(len(lhs), len(rhs), 1)
    widest = max([_label_size(a.name)[0] for a in lhs + rhs]
                 + [_label_size(f"id({equation.dom})")[0]])
    pitch = max(_node_box(equation.dom).width, _node_box(equation.cod).width,
                *(_node_box(a.cod).width for a in lhs + rhs)) + max(H_GAP_MIN, widest + 30)
    rise = (NODE_FONT * 1.3 + 14 + V_GAP) / 2
    start = replace(_node_box(equation.dom), x=0.0, y=0.0)
    end = replace(_node_box(equation.cod), x=span * pitch, y=0.0)
    nodes = [start, end]
    edges: list[Edge] = []
    both_direct = len(lhs) == 1 and len(rhs) == 1
    for side, path in ((1.0, lhs), (-1.0, rhs)):
        if not path:
            p, q = (start.x, start.y), (end.x, end.y)
            pts = _straight_or_arc(p, q, 0.0)
            t0, t1 = _exit(pts, start.grown(3), True), _exit(pts, end.grown(3), False)
            edges.append(Edge(f"id({equation.dom})", start.name, end.name,
                              _split(pts, t0, t1), "identity"))
            continue
        n = len(path)
        stops = [start]
        for i, a in enumerate(path[:-1]):
            x = (i + 1) * span * pitch / n
            stops.append(replace(_node_box(a.cod), x=round(x, 3), y=side * rise))
        stops.append(end)
        nodes += stops[1:-1]
        for a, p, q in zip(path, stops, stops[1:]):
            offset = side * ARC_SPREAD / 2 if both_direct else 0.0
            edges.append(_route(a.name, p, q, offset, "arrow"))
    cx = sum(n.x for n in nodes) / len(nodes)
    cy = sum(n.y for n in nodes) / len(nodes)
    labels: list[Label] = []
    curves = _hulls(edges)
    for e in edges:
        mx, my = e.at(0.5)
        tx, ty = _tangent(e.points, 0.5)
        out = (mx - cx) * -ty + (my - cy) * tx
        prefer = -1.0 if out < -1 else 1.0
        if e.kind == "identity":
            prefer = -1.0  # below the bottom line
        labels.append(_place_label(e.name, e, prefer, nodes, labels, curves))
    return Layout(str(equation), tuple(nodes), tuple(edges), tuple(labels), (), {}, {})
