"""The layering the folder layout promises, checked on the import graph of the source.

- ``category`` ← ``compiler`` ← ``runtime``: no arrow runs back up (and ``category``
  never imports torch);
- inside ``runtime`` the workflow's order: ``sources`` and ``report`` below
  ``experiments``, below ``train``, below ``apply`` (a trained path put to use), below
  ``cli`` — nothing imports from a layer above it;
- no circle of files inside any package, lazy imports included;
- at most a handful of function-local imports in ``runtime`` (each says why it is lazy).
"""

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("category", "compiler", "runtime")
# runtime's layers, lowest first: a module may import only from its own layer or below
RUNTIME_LAYERS = (("errors", "devices"), ("sources", "report"), ("experiments",), ("train",),
                  ("apply",), ("cli", "__init__", "__main__"))


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imports(path: Path) -> list[tuple[str, bool]]:
    """``(module, lazy)`` for every import of ``path``, relative ones resolved; ``from P
    import name`` counts as an import of ``P.name`` where that is a module."""
    tree = ast.parse(path.read_text())
    here = module_of(path).split(".")
    base = here if is_package(path) else here[:-1]
    lazy_nodes = {id(n) for f in ast.walk(tree)
                  if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                  for n in ast.walk(f)}
    typing_only = {id(n) for f in ast.walk(tree)  # `if TYPE_CHECKING:` imports never run
                   if isinstance(f, ast.If) and "TYPE_CHECKING" in ast.unparse(f.test)
                   for n in ast.walk(f)}
    out = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        lazy = id(node) in lazy_nodes
        if isinstance(node, ast.Import):
            out += [(a.name, lazy) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            start = base[:len(base) - node.level + 1] if node.level else []
            mod = ".".join(start + ([node.module] if node.module else []))
            for a in node.names:
                sub = f"{mod}.{a.name}"
                out.append((sub if exists(sub) else mod, lazy))
    return out


def exists(module: str) -> bool:
    p = ROOT.joinpath(*module.split("."))
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            src = module_of(path)
            g.add_node(src)
            for target, lazy in imports(path):
                if target.split(".")[0] in PACKAGES and exists(target) and target != src:
                    g.add_edge(src, target, lazy=lazy)
    return g


def test_no_package_imports_a_package_above_it():
    order = {pkg: i for i, pkg in enumerate(PACKAGES)}
    wrong = [(a, b) for a, b in graph().edges
             if order[b.split(".")[0]] > order[a.split(".")[0]]]
    assert wrong == []
    torch_in_category = [(module_of(p), m) for p in (ROOT / "category").rglob("*.py")
                         for m, _ in imports(p) if m.split(".")[0] == "torch"]
    assert torch_in_category == []


def test_runtime_imports_follow_its_layers():
    layer = {name: i for i, names in enumerate(RUNTIME_LAYERS) for name in names}

    def rank(module: str) -> int:
        parts = module.split(".")
        return layer[parts[1]] if len(parts) > 1 else layer["__init__"]

    wrong = [(a, b) for a, b in graph().edges
             if a.startswith("runtime") and b.startswith("runtime") and rank(b) > rank(a)]
    assert wrong == []


def test_no_circle_of_files_inside_a_package():
    g = graph()
    circles = []
    for pkg in PACKAGES:
        inside = g.subgraph(n for n in g if n.split(".")[0] == pkg)
        # a package's __init__ re-exporting its modules is not a circle of ideas: only
        # circles through the modules themselves count
        modules = inside.subgraph(n for n in inside if not exists(n + ".__init__")
                                  or n == pkg)
        circles += [c for c in nx.simple_cycles(modules.subgraph(
            n for n in modules if n != pkg))]
    assert circles == []


def test_function_local_imports_in_runtime_are_few_and_say_why():
    lazy = []
    for path in (ROOT / "runtime").rglob("*.py"):
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for f in ast.walk(tree):
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lazy += [(path.name, n.lineno, lines[n.lineno - 1]) for n in ast.walk(f)
                         if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert len(lazy) < 10, lazy
    assert [x for x in lazy if "#" not in x[2]] == []  # each with its one-line reason
