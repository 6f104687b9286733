"""A picture of a schema map: source and target side by side, each image in its colour.

Each object of the source gets a colour; the object it goes to in the target is filled
with the same colour (an object that several go to takes the first one's, and the list
under the pictures says the rest). Each arrow of the source gets a colour too, and the
arrows of the target on its image path are drawn in it; arrows and objects of the
target that nothing reaches stay grey. Under the two pictures: every image, one a line
(``X ↦ Horse``, ``s ↦ f.g``) in its colour, then the equations' images, then — when the
map is not a functor — every failure, in red.

>>> from category import SchemaMap
>>> from category.drawing.maps import map_figure
>>> G = SchemaMap.read("examples/involution_cyclegan.map")
>>> type(map_figure(G)).__name__
'Figure'
"""

from __future__ import annotations

import os

from ..errors import SchemaError, Undecided
from ..files import replace_atomically
from .layout import NOTE_FONT, TITLE_FONT, layout, text_width
from .render import FORMATS, MUTED, TEXT, _format, _render

# strong colours for arrows and text, light ones for object fills (same hue each)
STRONG = ("#1f77b4", "#00796b", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
          "#17becf", "#bcbd22", "#7f7f7f")
LIGHT = ("#cfe2f3", "#cce8e4", "#d4efcf", "#e4d9ef", "#ffe0c2", "#e8d7d2", "#f8dcef",
         "#cdeff3", "#f0f0c4", "#e3e3e3")
FAILURE = "#b00020"
UNUSED = "#b8bec8"

__all__ = ["FORMATS", "draw_map", "map_figure"]


def _colours(G):
    """Fills and edge colours for both sides: one hue per object and per arrow of the
    source (objects first), its image drawn in the same hue."""
    src_nodes, src_edges, tgt_nodes, tgt_edges = {}, {}, {}, {}
    n = len(G.source.objects())
    for i, o in enumerate(G.source.objects()):
        src_nodes[o.name] = LIGHT[i % len(LIGHT)]
        if o in G.ob:
            tgt_nodes.setdefault(G.ob[o].name, LIGHT[i % len(LIGHT)])
    for i, a in enumerate(G.source.arrows, start=n):
        src_edges[a.name] = STRONG[i % len(STRONG)]
        for b in G.ar[a].arrows if a in G.ar else ():
            tgt_edges.setdefault(b.name, STRONG[i % len(STRONG)])
    for b in G.target.arrows:
        tgt_edges.setdefault(b.name, UNUSED)
    for o in G.target.objects():
        tgt_nodes.setdefault(o.name, "#f4f5f7")
    return src_nodes, src_edges, tgt_nodes, tgt_edges


def _lines(G, failures) -> list[tuple[str, str]]:
    """``(text, colour)`` of each line under the pictures."""
    out: list[tuple[str, str]] = []
    for i, o in enumerate(G.source.objects()):
        image = G.ob[o].name if o in G.ob else "(no image)"
        out.append((f"{o.name} ↦ {image}", STRONG[i % len(STRONG)]))
    for i, a in enumerate(G.source.arrows, start=len(G.source.objects())):
        image = str(G.ar[a]) if a in G.ar else "(no image)"
        out.append((f"{a.name} ↦ {image}", STRONG[i % len(STRONG)]))
    for e in G.source.equations:
        try:
            lhs, rhs = G(e.lhs), G(e.rhs)
        except SchemaError:  # an unmapped part, or images that do not compose: a failure
            continue
        try:
            verdict = "holds" if G.target.equal(lhs, rhs) else "does not hold"
        except Undecided:
            verdict = "undecided"
        out.append((f"{e}  ↦  {lhs} = {rhs}: {verdict}", TEXT))
    if failures:
        out.append((f"not a functor ({len(failures)} failure"
                    f"{'s' if len(failures) > 1 else ''}):", FAILURE))
        out += [(f"  {f}", FAILURE) for f in failures]
    else:
        out.append(("a functor: every equation goes to one that holds", MUTED))
    return out


def map_figure(G):
    """The picture of the map ``G`` as a matplotlib ``Figure``."""
    from matplotlib.figure import Figure

    failures = G.check()
    LS, LT = layout(G.source), layout(G.target)
    src_nodes, src_edges, tgt_nodes, tgt_edges = _colours(G)
    margin, gap = 18.0, 110.0
    heads = [f"schema {G.source.name}", f"schema {G.target.name}"]
    boxes = [LS.bounds(), LT.bounds()]
    # each picture centred in its column (as wide as the picture or its heading), both
    # centred on y = 0, the target's column to the right of the source's
    widths = [max(x1 - x0, text_width(h, NOTE_FONT + 1)) for (x0, _, x1, _), h
              in zip(boxes, heads)]
    columns = [(0.0, widths[0]), (widths[0] + gap, widths[0] + gap + widths[1])]
    shifts = [((c0 + c1) / 2 - (x0 + x1) / 2, -(y0 + y1) / 2)
              for (c0, c1), (x0, y0, x1, y1) in zip(columns, boxes)]
    (s_dx, s_dy), (t_dx, t_dy) = shifts
    left, right = 0.0, columns[1][1]
    line_h = NOTE_FONT * 1.5
    pictures_top = max(y1 + dy for (_, _, _, y1), (_, dy) in zip(boxes, shifts))
    head_y = pictures_top + 10
    top = head_y + NOTE_FONT * 1.6 + TITLE_FONT * 2.0
    low = min(y0 + dy for (_, y0, _, _), (_, dy) in zip(boxes, shifts))
    notes_s = list(LS.notes)
    notes_t = list(LT.notes)
    notes_h = max(len(notes_s), len(notes_t)) * line_h + (8 if notes_s or notes_t else 0)
    lines = _lines(G, failures)
    below = low - notes_h - 14
    bottom = below - len(lines) * line_h
    wide = max([right - left] + [text_width(t, NOTE_FONT, mono=True) for t, _ in lines])
    centre = (left + right) / 2
    width = wide + 2 * margin
    height = top - bottom + 2 * margin
    fig = Figure(figsize=(width / 72, height / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(centre - width / 2, centre + width / 2)
    ax.set_ylim(bottom - margin, top + margin)
    ax.set_axis_off()
    title = f"map {G.name} : {G.source.name} → {G.target.name}"
    ax.text(centre, top, title, ha="center", va="top", fontsize=TITLE_FONT,
            color=TEXT, family="DejaVu Sans", weight="bold")
    for L, (dx, dy), nodes, edges, head, (c0, c1) in (
            (LS, shifts[0], src_nodes, src_edges, heads[0], columns[0]),
            (LT, shifts[1], tgt_nodes, tgt_edges, heads[1], columns[1])):
        ax.text((c0 + c1) / 2, head_y, head, ha="center", va="bottom",
                fontsize=NOTE_FONT + 1, color=MUTED, family="DejaVu Sans")
        _render(ax, L, dx, dy, node_faces=nodes, edge_colours=edges)
    # the map itself, between the two pictures
    mid = widths[0] + gap / 2
    ax.annotate("", xy=(mid + gap * 0.3, 0), xytext=(mid - gap * 0.3, 0),
                arrowprops={"arrowstyle": "-|>,head_length=0.8,head_width=0.4",
                            "color": TEXT, "linewidth": 2.2})
    ax.text(mid, NOTE_FONT, G.name, ha="center", va="bottom", fontsize=TITLE_FONT,
            color=TEXT, family="DejaVu Sans", style="italic")
    for (c0, c1), notes in ((columns[0], notes_s), (columns[1], notes_t)):
        for i, note in enumerate(notes):
            ax.text((c0 + c1) / 2, low - 6 - i * line_h, note, ha="center", va="top",
                    fontsize=NOTE_FONT, color=TEXT, family="DejaVu Sans Mono")
    for i, (text, colour) in enumerate(lines):
        ax.text(centre - wide / 2, below - i * line_h, text, ha="left", va="top",
                fontsize=NOTE_FONT, color=colour, family="DejaVu Sans Mono")
    return fig


def draw_map(G, path: str | os.PathLike[str] | None = None, *, dpi: int = 120):
    """Draw the map ``G``: a matplotlib Figure, or a PNG / SVG / PDF written atomically to
    ``path`` (the format from its extension). Returns the Figure, or the path."""
    fig = map_figure(G)
    if path is None:
        return fig
    path = os.fspath(path)
    fmt = _format(path)
    replace_atomically(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt), "." + fmt)
    return path
