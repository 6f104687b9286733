"""The networks table: every arrow's and critic's network, its spaces and its size.

``cdl train`` prints it at the start and records it in ``run.json`` (``"networks"``), and
the run's page shows it. A row is a plain dict, JSON-safe:
``{"name", "dom", "cod", "network", "parameters"}``; a critic's ``dom`` is its object and
its ``cod`` the score.

>>> rows = [{"name": "f", "dom": "A R^(3×8×8)", "cod": "B R^(3×8×8)",
...          "network": "residual MLP", "parameters": 1234}]
>>> print(format_networks(rows))
arrow  dom → cod                   network       parameters
f      A R^(3×8×8) → B R^(3×8×8)  residual MLP  1,234
"""

from __future__ import annotations

from collections.abc import Mapping

from compiler import Program

__all__ = ["format_networks", "network_rows"]


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def network_rows(program: Program, names: Mapping[str, str] | None = None) -> list[dict]:
    """A row per arrow (declaration order), then per critic the program trains; ``names``
    (by arrow name or ``critic:X``) says what each network is, else its class is shown."""
    names = names or {}
    F = program.functor
    rows = []
    for a in F.schema.arrows:
        m = F.modules[a]
        rows.append({"name": a.name, "dom": f"{a.dom} {F.spaces[a.dom]}",
                     "cod": f"{a.cod} {F.spaces[a.cod]}",
                     "network": names.get(a.name, type(m).__name__), "parameters": _count(m)})
    for ob, m in program.critics.items():  # a critic shared by objects: "A/B"
        key = f"critic:{ob}"
        rows.append({"name": key, "dom": f"{ob} {F.spaces[ob.split('/')[0]]}", "cod": "score",
                     "network": names.get(key, type(m).__name__), "parameters": _count(m)})
    return rows


def format_networks(rows: list[dict]) -> str:
    """The rows as an aligned plain-text table."""
    grid = [["arrow", "dom → cod", "network", "parameters"]]
    grid += [[r["name"], f"{r['dom']} → {r['cod']}", r["network"], f"{r['parameters']:,}"]
             for r in rows]
    widths = [max(len(line[i]) for line in grid) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()
                     for line in grid)
