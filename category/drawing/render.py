"""Pictures of a schema: Graphviz ``dot`` text, and PNG / SVG / PDF pictures.

The geometry comes from :func:`category.drawing.layout.layout` (layered columns, commuting
squares as rectangles, products joined to their factors by dashed projections, labels
clear of everything); this module renders it with matplotlib, or hands :func:`to_dot`
to Graphviz ``dot`` when it is installed. matplotlib is imported only when a picture
is drawn, so ``import category`` stays light.

>>> from category import Schema
>>> S = Schema.parse(open("examples/cyclegan.schema").read())
>>> fig = S.draw()                      # a matplotlib Figure (shown inline in a notebook)
>>> type(fig).__name__
'Figure'
"""

from __future__ import annotations

import os
import shutil
import subprocess

from ..files import replace_atomically
from .layout import (
    LABEL_FONT,
    NODE_FONT,
    NOTE_FONT,
    TITLE_FONT,
    Layout,
    equation_layout,
    layout,
    text_width,
)

FORMATS = ("png", "svg", "pdf")
ENGINES = ("auto", "matplotlib", "dot")
EQUATIONS = ("list", "diagrams")

NODE_FACE, NODE_EDGE = "#e6eef9", "#2b4c7e"
ARROW, PROJECTION, TEXT, MUTED = "#333a45", "#7d8797", "#1d2025", "#5b6472"


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(schema) -> str:
    """Graphviz text: objects as boxes, arrows as edges, projections dashed.

    Objects in one column of :func:`~category.drawing.layout.layout` share a rank, so ``dot``
    draws a commuting square as a square too; products and equations are the note.

    >>> from category import Schema
    >>> print(Schema.parse("object A, B\\nf : A -> B\\ng : A -> B\\nf = g").to_dot())
    digraph "Schema" {
      rankdir=LR;
      graph [pad=0.25, nodesep=0.45, ranksep=0.75];
      node [shape=box, style="rounded,filled", fillcolor="#e6eef9", color="#2b4c7e"];
      node [fontname="DejaVu Sans"];
      edge [fontname="DejaVu Sans", fontsize=10, color="#333a45"];
      "A";
      "B";
      "A" -> "B" [label="f"];
      "A" -> "B" [label="g"];
      label="f = g";
      labelloc=b;
      fontname="DejaVu Sans Mono";
      fontsize=10;
    }
    """
    L = layout(schema)
    lines = [f"digraph {_quote(schema.name)} {{", "  rankdir=LR;",
             "  graph [pad=0.25, nodesep=0.45, ranksep=0.75];",
             f'  node [shape=box, style="rounded,filled", fillcolor="{NODE_FACE}", '
             f'color="{NODE_EDGE}"];', '  node [fontname="DejaVu Sans"];',
             f'  edge [fontname="DejaVu Sans", fontsize=10, color="{ARROW}"];']
    for ob in schema.objects():
        lines.append(f"  {_quote(ob.name)};")
    for a in schema.arrows:
        lines.append(f"  {_quote(a.dom.name)} -> {_quote(a.cod.name)} [label={_quote(a.name)}];")
    for e in L.edges:
        if e.kind == "projection":
            lines.append(f"  {_quote(e.dom)} -> {_quote(e.cod)} [label={_quote(e.name)}, "
                         f'style=dashed, arrowhead=vee, color="{PROJECTION}"];')
    by_column: dict[int, list[str]] = {}
    for ob in schema.objects():
        by_column.setdefault(L.columns[ob.name], []).append(ob.name)
    for names in by_column.values():
        if len(names) > 1:
            names = sorted(names, key=lambda n: L.rows[n])
            lines.append("  { rank=same; " + " ".join(f"{_quote(n)};" for n in names) + " }")
    if L.notes:
        # Graphviz's line break is the two characters backslash-n: join after quoting.
        text = "\\n".join(_quote(n)[1:-1] for n in L.notes)
        lines += [f'  label="{text}";', "  labelloc=b;", '  fontname="DejaVu Sans Mono";',
                  "  fontsize=10;"]
    lines.append("}")
    return "\n".join(lines)


def figure(schema, L: Layout | None = None, *, equations: str = "list"):
    """The schema's picture as a matplotlib ``Figure`` (not registered with pyplot).

    One unit of the layout is one point of the figure, so the text sizes the layout
    planned for are the sizes drawn. ``equations="list"`` lists the equations under the
    diagram; ``"diagrams"`` draws each as its own small diagram, captioned with its text.
    """
    from matplotlib.figure import Figure

    if equations not in EQUATIONS:
        raise ValueError(f"unknown equations style {equations!r}; use one of "
                         f"{', '.join(EQUATIONS)}")
    L = layout(schema) if L is None else L
    x0, y0, x1, y1 = L.bounds()
    margin = 16.0
    title_h = TITLE_FONT * 1.9
    line_h = NOTE_FONT * 1.45
    notes = list(L.notes)
    small: list[tuple[Layout, float, float]] = []  # (layout, dx, dy) of equation diagrams
    below = y0 - margin  # the next free height under the diagram
    if equations == "diagrams" and schema.equations:
        notes = notes[:len(notes) - len(schema.equations)]
        small, below = _equation_cells(schema.equations, x0, x1, below, line_h)
    notes_h = len(notes) * line_h + (10.0 if notes else 0.0)
    wide = [x1 - x0, text_width(L.title, TITLE_FONT)]
    wide += [text_width(n, NOTE_FONT, mono=True) for n in notes]
    right = max([x1] + [c.bounds()[2] + dx for c, dx, _ in small])
    wide.append(right - x0)
    width = max(wide) + 2 * margin
    centre = x0 + max(wide) / 2
    left = centre - width / 2
    top = y1 + margin + title_h
    bottom = below - notes_h
    height = top - bottom
    fig = Figure(figsize=(width / 72, height / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(left, left + width)
    ax.set_ylim(bottom, top)
    ax.set_axis_off()
    ax.text(centre, top - margin * 0.6, L.title, ha="center", va="top",
            fontsize=TITLE_FONT, color=TEXT, family="DejaVu Sans")
    _render(ax, L, 0.0, 0.0)
    for cell, dx, dy in small:
        _render(ax, cell, dx, dy)
        cx0, cy0, cx1, _ = cell.bounds()
        ax.text((cx0 + cx1) / 2 + dx, cy0 + dy - 9, cell.title, ha="center", va="top",
                fontsize=NOTE_FONT, color=TEXT, family="DejaVu Sans Mono")
    for i, note in enumerate(notes):
        ax.text(centre, below - 4 - i * line_h, note, ha="center", va="top",
                fontsize=NOTE_FONT, color=TEXT, family="DejaVu Sans Mono")
    return fig


def _equation_cells(equations, x0: float, x1: float, below: float,
                    line_h: float) -> tuple[list[tuple[Layout, float, float]], float]:
    """Each equation's own small diagram with where it goes, ``(layout, dx, dy)``, in
    rows left to right under height ``below`` (rows at least 420 points wide), and the
    next free height under them."""
    small: list[tuple[Layout, float, float]] = []
    row_width = max(x1 - x0, 420.0)
    cells = [equation_layout(e) for e in equations]
    x, row_top, row_low = x0, below - 10, below - 10
    for cell in cells:
        cx0, cy0, cx1, cy1 = cell.bounds()
        w = max(cx1 - cx0, text_width(cell.title, NOTE_FONT, mono=True))
        if x > x0 and x + w > x0 + row_width:
            x, row_top = x0, row_low - 18
        dx = x + w / 2 - (cx0 + cx1) / 2
        dy = row_top - cy1
        small.append((cell, dx, dy))
        row_low = min(row_low, row_top - (cy1 - cy0) - line_h - 9)
        x += w + 30
    return small, row_low - 4


def _render(ax, L: Layout, dx: float, dy: float, *, node_faces: dict | None = None,
            edge_colours: dict | None = None) -> None:
    """Draw the nodes, edges and labels of ``L`` moved by ``(dx, dy)``; ``node_faces``
    and ``edge_colours`` (by name) override the default colours (a schema map's picture
    colours each image)."""
    node_faces, edge_colours = node_faces or {}, edge_colours or {}
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path as MPath

    curve = [MPath.MOVETO, MPath.CURVE4, MPath.CURVE4, MPath.CURVE4]
    for e in L.edges:
        dashed = e.kind == "projection"
        muted = e.kind != "arrow"
        ax.add_patch(FancyArrowPatch(
            path=MPath([(x + dx, y + dy) for x, y in e.points], curve),
            arrowstyle="->,head_length=0.45,head_width=0.25" if dashed else
            "-|>,head_length=0.55,head_width=0.22",
            mutation_scale=14, linewidth=1.0 if dashed else 1.3,
            linestyle=(0, (4, 3)) if dashed else "-",
            color=edge_colours.get(e.name, PROJECTION if muted else ARROW), zorder=2))
    for n in L.nodes:
        ax.add_patch(FancyBboxPatch((n.x0 + dx, n.y0 + dy), n.width, n.height,
                                    boxstyle="round,pad=0,rounding_size=7",
                                    facecolor=node_faces.get(n.name, NODE_FACE),
                                    edgecolor=NODE_EDGE,
                                    linewidth=1.3, zorder=3))
        ax.text(n.x + dx, n.y + dy, n.name, ha="center", va="center", fontsize=NODE_FONT,
                color=TEXT, family="DejaVu Sans", zorder=4)
    kinds = {e.name: e.kind for e in L.edges}
    for lab in L.labels:
        muted = kinds.get(lab.edge) != "arrow"
        ax.text(lab.x + dx, lab.y + dy, lab.text, ha="center", va="center",
                fontsize=LABEL_FONT,
                color=edge_colours.get(lab.edge, MUTED if muted else TEXT), family="DejaVu Sans",
                style="normal" if muted else "italic", zorder=4)


def draw(schema, path: str | os.PathLike[str] | None = None, *, dpi: int = 120,
         engine: str = "auto", equations: str = "list"):
    """Draw ``schema``: a matplotlib Figure, or a picture written to ``path``.

    The format comes from the extension (``.png``, ``.svg``, ``.pdf``; none means
    PNG). ``engine="auto"`` uses Graphviz ``dot`` when it is installed and matplotlib
    otherwise; ``"matplotlib"`` or ``"dot"`` choose one. Without ``path`` the result is
    always a matplotlib ``Figure``. ``equations="diagrams"`` draws each equation as its
    own small diagram under the schema's (matplotlib only; ``"list"`` lists them as
    text). The file is written atomically (a failed draw never
    leaves half a picture) with the mode an ordinary write gives it. Returns the
    Figure, or the path written.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown drawing engine {engine!r}; use one of {', '.join(ENGINES)}")
    if equations not in EQUATIONS:
        raise ValueError(f"unknown equations style {equations!r}; use one of "
                         f"{', '.join(EQUATIONS)}")
    if engine == "dot" and equations != "list":
        raise ValueError("Graphviz draws equations as a list only: use engine='matplotlib' "
                         f"for equations={equations!r}")
    if path is None:
        return figure(schema, equations=equations)
    path = os.fspath(path)
    fmt = _format(path)
    dot = shutil.which("dot") if engine != "matplotlib" and equations == "list" else None
    if engine == "dot" and dot is None:
        raise OSError(f"cannot draw {path!r} with Graphviz: 'dot' is not installed "
                      "(use engine='matplotlib')")
    if dot is not None:
        try:
            replace_atomically(path, lambda tmp: _run_dot(dot, schema, fmt, tmp, dpi), "." + fmt)
            return path
        except OSError:
            if engine == "dot":
                raise
    fig = figure(schema, equations=equations)
    replace_atomically(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt), "." + fmt)
    return path


def _run_dot(dot: str, schema, fmt: str, tmp: str, dpi: int) -> None:
    scale = [f"-Gdpi={dpi}"] if fmt == "png" else []
    done = subprocess.run([dot, f"-T{fmt}", *scale, "-o", tmp],
                          input=to_dot(schema).encode("utf-8"), capture_output=True, timeout=60)
    if done.returncode != 0:
        raise OSError(f"Graphviz dot failed: {done.stderr.decode(errors='replace').strip()}")


def _format(path: str) -> str:
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path!r}: it is a folder; name a picture "
                                f"file, e.g. {os.path.join(path, 'schema.png')!r}")
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if not ext:
        return "png"
    if ext not in FORMATS:
        raise ValueError(f"cannot write {path!r}: unknown picture format '.{ext}'; use "
                         f"{', '.join('.' + f for f in FORMATS)}")
    return ext
