"""Pictures of a schema: Graphviz ``dot`` text, and PNG / SVG / PDF pictures.

The geometry comes from :func:`category.layout.layout` (layered columns, commuting
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
import tempfile

from .layout import LABEL_FONT, NODE_FONT, NOTE_FONT, TITLE_FONT, Layout, layout, text_width

FORMATS = ("png", "svg", "pdf")
ENGINES = ("auto", "matplotlib", "dot")

NODE_FACE, NODE_EDGE = "#e6eef9", "#2b4c7e"
ARROW, PROJECTION, TEXT, MUTED = "#333a45", "#7d8797", "#1d2025", "#5b6472"


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(schema) -> str:
    """Graphviz text: objects as boxes, arrows as edges, projections dashed.

    Objects in one column of :func:`~category.layout.layout` share a rank, so ``dot``
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


def figure(schema, L: Layout | None = None):
    """The schema's picture as a matplotlib ``Figure`` (not registered with pyplot).

    One unit of the layout is one point of the figure, so the text sizes the layout
    planned for are the sizes drawn.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path as MPath

    L = layout(schema) if L is None else L
    x0, y0, x1, y1 = L.bounds()
    margin = 16.0
    title_h = TITLE_FONT * 1.9
    line_h = NOTE_FONT * 1.45
    notes_h = len(L.notes) * line_h + (10.0 if L.notes else 0.0)
    wide = max([x1 - x0, text_width(L.title, TITLE_FONT)]
               + [text_width(n, NOTE_FONT, mono=True) for n in L.notes])
    width = wide + 2 * margin
    left = (x0 + x1) / 2 - width / 2
    top = y1 + margin + title_h
    bottom = y0 - margin - notes_h
    height = top - bottom
    fig = Figure(figsize=(width / 72, height / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(left, left + width)
    ax.set_ylim(bottom, top)
    ax.set_axis_off()
    ax.text((x0 + x1) / 2, top - margin * 0.6, L.title, ha="center", va="top",
            fontsize=TITLE_FONT, color=TEXT, family="DejaVu Sans")
    curve = [MPath.MOVETO, MPath.CURVE4, MPath.CURVE4, MPath.CURVE4]
    for e in L.edges:
        dashed = e.kind == "projection"
        ax.add_patch(FancyArrowPatch(
            path=MPath(list(e.points), curve),
            arrowstyle="->,head_length=0.45,head_width=0.25" if dashed else
            "-|>,head_length=0.55,head_width=0.22",
            mutation_scale=14, linewidth=1.0 if dashed else 1.3,
            linestyle=(0, (4, 3)) if dashed else "-",
            color=PROJECTION if dashed else ARROW, zorder=2))
    for n in L.nodes:
        ax.add_patch(FancyBboxPatch((n.x0, n.y0), n.width, n.height,
                                    boxstyle="round,pad=0,rounding_size=7",
                                    facecolor=NODE_FACE, edgecolor=NODE_EDGE,
                                    linewidth=1.3, zorder=3))
        ax.text(n.x, n.y, n.name, ha="center", va="center", fontsize=NODE_FONT,
                color=TEXT, family="DejaVu Sans", zorder=4)
    kinds = {e.name: e.kind for e in L.edges}
    for lab in L.labels:
        projection = kinds.get(lab.edge) == "projection"
        ax.text(lab.x, lab.y, lab.text, ha="center", va="center", fontsize=LABEL_FONT,
                color=MUTED if projection else TEXT, family="DejaVu Sans",
                style="normal" if projection else "italic", zorder=4)
    for i, note in enumerate(L.notes):
        ax.text((x0 + x1) / 2, y0 - margin - 4 - i * line_h, note, ha="center", va="top",
                fontsize=NOTE_FONT, color=TEXT, family="DejaVu Sans Mono")
    return fig


def draw(schema, path: str | os.PathLike[str] | None = None, *, dpi: int = 120,
         engine: str = "auto"):
    """Draw ``schema``: a matplotlib Figure, or a picture written to ``path``.

    The format comes from the extension (``.png``, ``.svg``, ``.pdf``; none means
    PNG). ``engine="auto"`` uses Graphviz ``dot`` when it is installed and matplotlib
    otherwise; ``"matplotlib"`` or ``"dot"`` choose one. Without ``path`` the result is
    always a matplotlib ``Figure``. The file is written atomically (a failed draw never
    leaves half a picture) with the mode an ordinary write gives it. Returns the
    Figure, or the path written.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown drawing engine {engine!r}; use one of {', '.join(ENGINES)}")
    if path is None:
        return figure(schema)
    path = os.fspath(path)
    fmt = _format(path)
    dot = shutil.which("dot") if engine != "matplotlib" else None
    if engine == "dot" and dot is None:
        raise OSError(f"cannot draw {path!r} with Graphviz: 'dot' is not installed "
                      "(use engine='matplotlib')")
    if dot is not None:
        try:
            _write_atomic(path, fmt, lambda tmp: _run_dot(dot, schema, fmt, tmp, dpi))
            return path
        except OSError:
            if engine == "dot":
                raise
    fig = figure(schema)
    _write_atomic(path, fmt, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt))
    return path


def _run_dot(dot: str, schema, fmt: str, tmp: str, dpi: int) -> None:
    dpi = [f"-Gdpi={dpi}"] if fmt == "png" else []
    done = subprocess.run([dot, f"-T{fmt}", *dpi, "-o", tmp], input=to_dot(schema).encode("utf-8"),
                          capture_output=True, timeout=60)
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


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_atomic(path: str, fmt: str, write) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it over ``path``.

    The result has the mode ``open(path, "w")`` would give: an existing file's mode, or
    ``0o666`` less the umask for a new one (not the temporary file's ``0o600``).
    """
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".draw-", suffix="." + fmt, dir=folder)
    except OSError as err:  # name the file asked for, not the temporary one
        raise type(err)(f"cannot write {path!r}: {err.strerror}") from None
    os.close(fd)
    try:
        write(tmp)
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
