"""Pictures of a schema: Graphviz ``dot`` text, and a PNG through matplotlib.

Parallel arrows are drawn as separate arcs (each with its own curvature) and
loops as loops, so every generator is visible; the equations are listed under
the picture. matplotlib is imported only when a picture is drawn.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(schema) -> str:
    """Graphviz text: objects as nodes (products show their factors), arrows as edges.

    >>> from category import Schema
    >>> print(Schema.parse("object A, B\\nf : A -> B\\ng : A -> B\\nf = g").to_dot())
    digraph "Schema" {
      "A";
      "B";
      "A" -> "B" [label="f"];
      "A" -> "B" [label="g"];
      label="f = g";
      labelloc=b;
    }
    """
    lines = [f"digraph {_quote(schema.name)} {{"]
    for ob in schema.objects():
        if ob.is_product:
            shown = f"{ob.name} = {' × '.join(x.name for x in ob.factors)}"
            lines.append(f"  {_quote(ob.name)} [label={_quote(shown)}];")
        else:
            lines.append(f"  {_quote(ob.name)};")
    for a in schema.arrows:
        lines.append(f"  {_quote(a.dom.name)} -> {_quote(a.cod.name)} [label={_quote(a.name)}];")
    if schema.equations:
        # Graphviz's line break is the two characters backslash-n: join after quoting.
        text = "\\n".join(_quote(str(e))[1:-1] for e in schema.equations)
        lines.append(f'  label="{text}";')
        lines.append("  labelloc=b;")
    lines.append("}")
    return "\n".join(lines)


def _curvatures(schema) -> dict[str, float]:
    """One arc curvature per arrow, so parallel (and antiparallel) arrows separate."""
    groups: dict[frozenset, list] = defaultdict(list)
    for a in schema.arrows:
        groups[frozenset((a.dom, a.cod))].append(a)
    rad: dict[str, float] = {}
    for arrows in groups.values():
        for i, a in enumerate(arrows):
            if a.dom == a.cod:
                rad[a.name] = 0.0
                continue
            # Arcs 0, 1, 2, 3… of a pair of objects go on alternating sides, further
            # out each time. matplotlib's arc3 curvature is relative to the arrow's
            # direction, so an arrow drawn the other way flips its sign to stay on
            # its own side.
            side = 1.0 if i % 2 == 0 else -1.0
            forward = 1.0 if a.dom.name <= a.cod.name else -1.0
            rad[a.name] = round(side * forward * (0.2 + 0.25 * (i // 2)), 3)
    return rad


def draw(schema, path: str, *, dpi: int = 120, seed: int = 0) -> None:
    """Draw ``schema`` to an image file at ``path`` (format from its extension).

    The file is written atomically: a failed draw never leaves half a picture.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import networkx as nx

    G = schema.graph
    simple = nx.DiGraph()
    simple.add_nodes_from(G.nodes)
    simple.add_edges_from((u, v) for u, v in G.edges() if u != v)
    if len(simple) <= 2 or simple.number_of_edges() == 0:
        pos = nx.circular_layout(simple) if len(simple) else {}
    else:
        pos = nx.spring_layout(simple.to_undirected(), seed=seed)
    equations = [str(e) for e in schema.equations]
    height = 4.0 + 0.28 * len(equations)
    fig, ax = plt.subplots(figsize=(6.0, height))
    try:
        ax.set_title(f"schema {schema.name}")
        labels = {ob: (f"{ob.name}\n= {' × '.join(x.name for x in ob.factors)}"
                       if ob.is_product else ob.name) for ob in G.nodes}
        nx.draw_networkx_nodes(G, pos, ax=ax, node_size=1600, node_color="#dbe8f6",
                               edgecolors="#2b4c7e")
        nx.draw_networkx_labels(G, pos, labels=labels, ax=ax, font_size=9)
        rad = _curvatures(schema)
        for u, v, key in G.edges(keys=True):
            style = f"arc3,rad={rad[key]}"
            nx.draw_networkx_edges(G, pos, edgelist=[(u, v, key)], ax=ax, node_size=1600,
                                   arrows=True, arrowsize=16, connectionstyle=style,
                                   edge_color="#444444")
            if u == v:
                continue  # loop labels are placed together below
            nx.draw_networkx_edge_labels(G, pos, edge_labels={(u, v, key): key}, ax=ax,
                                         connectionstyle=style, font_size=9,
                                         bbox={"boxstyle": "round", "fc": "white",
                                               "ec": "none", "alpha": 0.8})
        loops: dict = defaultdict(list)
        for u, v, key in G.edges(keys=True):
            if u == v:
                loops[u].append(key)
        for ob, keys in loops.items():
            # networkx draws every loop of a node on the same spot: one label lists them.
            x, y = pos[ob]
            ax.text(x, y + 0.42, ", ".join(keys), ha="center", va="bottom", fontsize=9,
                    bbox={"boxstyle": "round", "fc": "white", "ec": "none", "alpha": 0.8})
        _frame(ax, pos)
        ax.set_axis_off()
        text = "equations:\n" + "\n".join(equations) if equations else "no equations"
        fig.text(0.5, 0.02, text, ha="center", va="bottom", family="monospace", fontsize=9)
        fig.subplots_adjust(bottom=0.06 + 0.05 * (len(equations) + 1) * 4.0 / height)
        _save_atomic(fig, path, dpi)
    finally:
        plt.close(fig)


def _frame(ax, pos) -> None:
    """Axis limits with room for loops and arcs, also when the layout is flat."""
    if not pos:
        return
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    pad_x = max(0.6, 0.3 * (max(xs) - min(xs)))
    pad_y = max(1.2, 0.4 * (max(ys) - min(ys)))  # self-loops rise above their node
    ax.set_xlim(min(xs) - pad_x, max(xs) + pad_x)
    ax.set_ylim(min(ys) - pad_y, max(ys) + pad_y)


def _save_atomic(fig, path: str, dpi: int) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1] or ".png"
    try:
        fd, tmp = tempfile.mkstemp(prefix=".draw-", suffix=suffix, dir=folder)
    except OSError as err:  # name the file asked for, not the temporary one
        raise type(err)(f"cannot write {path!r}: {err.strerror}") from None
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, format=suffix.lstrip(".") or "png")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
