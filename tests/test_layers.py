"""The package's layering, read from the source with ``ast``: no import cycle between modules,
and no module imports a layer above its own.

Layers, bottom to top: xla_flags < storage < writable < hardware < data < models < objectives <
training < evaluation < teaching (the notebooks' idea pictures) < experiments < reporting <
planning (the paper's trainings as programs and their cost) < workers < jobs (the experiments'
trainings as jobs, and their records) < launch < paper_programs < gpu_slice < cli. A module may
import its own layer and those below. ``mmvae_nb/__init__.py``, ``__main__.py``, ``reference/``
and ``datasets/`` are outside the order (no rule either way). Every import counts: module level,
inside functions, under ``if TYPE_CHECKING``; absolute and relative.
(The implicit import of a module's parent packages is not an edge: Python runs a package's
``__init__`` first, so ``a/__init__`` importing ``a.b``, which imports ``a.c``, is no cycle.)
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "mmvae_nb"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE
LAYERS = (
    "xla_flags",
    "storage",
    "writable",
    "hardware",
    "data",
    "models",
    "objectives",
    "training",
    "evaluation",
    "teaching",
    "experiments",
    "reporting",
    "planning",
    "workers",
    "jobs",
    "launch",
    "paper_programs",
    "gpu_slice",
    "cli",
)
# besides the package's own __init__ (its exports load lazily) and __main__ (runs ``cli``)
OUTSIDE = ("reference", "datasets", "__main__")


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted module name (a module of the package)
    where: str  # path:line


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def discover() -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def layer(module: str) -> str | None:
    """The layer of a module, or None outside the order."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in OUTSIDE:
        return None
    return parts[1]


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a ``from X import ...`` names (relative levels resolved)."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    if len(base) == 0:
        raise ValueError(f"relative import beyond the top-level package in {module}")
    return ".".join(base + ([node.module] if node.module else []))


def _nearest_module(name: str, modules) -> str | None:
    """``name`` or its longest prefix that is a module of the package."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules, root: Path = ROOT.parent) -> list[Import]:
    """The package modules ``module`` (file ``path`` under ``root``) imports: ``import a.b.c``
    gives a.b.c, ``from a.b import c`` gives a.b.c when c is a submodule and a.b otherwise."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    rel = path.relative_to(root)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, is_package)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target != PACKAGE and not target.startswith(PACKAGE + "."):
                continue
            resolved = _nearest_module(target, modules)
            assert resolved is not None, f"{rel}:{node.lineno}: {target} is not a module"
            if resolved != module:
                found.append(Import(module, resolved, f"{rel}:{node.lineno}"))
    return found


def namespace_packages() -> set[str]:
    """Folders of modules without an ``__init__.py`` (``from mmvae_nb import experiments``)."""
    return {
        ".".join(d.relative_to(ROOT.parent).parts)
        for d in ROOT.rglob("*")
        if d.is_dir() and any(d.glob("*.py")) and not (d / "__init__.py").exists()
    }


@pytest.fixture(scope="module")
def graph() -> dict[str, list[Import]]:
    modules = discover()
    known = set(modules) | namespace_packages()
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def test_every_top_level_entry_is_placed():
    """A new top-level package or module must be given a layer (or declared outside)."""
    entries = {p.stem for p in ROOT.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    entries |= {p.name for p in ROOT.iterdir() if p.is_dir() and any(p.rglob("*.py"))}
    unplaced = sorted(entries - set(LAYERS) - set(OUTSIDE) - {"__init__"})
    assert not unplaced, f"not in the layer order {LAYERS} nor outside it: {unplaced}"


def test_the_scanner_sees_imports(graph):
    """Guard against a vacuous pass: known edges of each kind are found."""
    edges = {(i.importer, i.imported) for imports in graph.values() for i in imports}
    assert ("mmvae_nb.models.vae", "mmvae_nb.models.priors") in edges  # from a.b import c
    assert ("mmvae_nb.objectives.bounds", "mmvae_nb.models.distributions") in edges
    assert len(edges) > 50


def test_relative_imports_resolve(tmp_path):
    modules = {"mmvae_nb.models", "mmvae_nb.models.vae", "mmvae_nb.models.priors", "mmvae_nb.data"}
    cases = {
        "from . import priors": "mmvae_nb.models.priors",
        "from .priors import GaussianMixturePrior": "mmvae_nb.models.priors",
        "from .. import data": "mmvae_nb.data",
        "from ..data import x": "mmvae_nb.data",
        "from . import helper": "mmvae_nb.models",  # an attribute of the package
        "from mmvae_nb import data": "mmvae_nb.data",
        "from mmvae_nb.models import vae, priors": "mmvae_nb.models.priors",  # vae: itself
        "import mmvae_nb.models.priors as p": "mmvae_nb.models.priors",
        "def f():\n    from .priors import y": "mmvae_nb.models.priors",
    }
    fake = tmp_path / PACKAGE / "models" / "vae.py"
    fake.parent.mkdir(parents=True)
    for source, expected in cases.items():
        fake.write_text(source + "\n")
        found = imports_of("mmvae_nb.models.vae", fake, modules, root=tmp_path)
        assert {i.imported for i in found} == {expected}, source
    package = tmp_path / PACKAGE / "models" / "__init__.py"
    package.write_text("from .priors import y\nfrom ..data import z\n")
    found = imports_of("mmvae_nb.models", package, modules, root=tmp_path)
    assert [i.imported for i in found] == ["mmvae_nb.models.priors", "mmvae_nb.data"]
    assert found[1].where == "mmvae_nb/models/__init__.py:2"


def _find_cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), as sorted lists."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for edge in graph.get(v, []):
            w = edge.imported
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles(graph):
    cycles = _find_cycles(graph)
    messages = []
    for component in cycles:
        members = set(component)
        edges = [
            f"    {i.where}: {i.importer} imports {i.imported}"
            for m in component
            for i in graph[m]
            if i.imported in members
        ]
        messages.append("cycle between " + ", ".join(component) + ":\n" + "\n".join(edges))
    assert not cycles, "\n".join(messages)


def test_no_upward_imports(graph):
    rank = {name: k for k, name in enumerate(LAYERS)}
    violations = [
        f"{i.where}: {i.importer} (layer {layer(i.importer)}) imports {i.imported} "
        f"(layer {layer(i.imported)}, above it)"
        for imports in graph.values()
        for i in imports
        if layer(i.importer) is not None
        and layer(i.imported) is not None
        and rank[layer(i.imported)] > rank[layer(i.importer)]
    ]
    order = " < ".join(LAYERS)
    assert not violations, f"upward imports across layers ({order}):\n" + "\n".join(violations)


def test_the_checks_catch_violations():
    """The two rules on a synthetic graph: an upward edge and a cycle are reported."""
    fake = {
        "mmvae_nb.models.a": [Import("mmvae_nb.models.a", "mmvae_nb.models.b", "a.py:1")],
        "mmvae_nb.models.b": [Import("mmvae_nb.models.b", "mmvae_nb.models.a", "b.py:3")],
        "mmvae_nb.data.c": [Import("mmvae_nb.data.c", "mmvae_nb.training.d", "c.py:7")],
        "mmvae_nb.training.d": [],
    }
    assert _find_cycles(fake) == [["mmvae_nb.models.a", "mmvae_nb.models.b"]]
    with pytest.raises(AssertionError, match=r"c.py:7: mmvae_nb.data.c \(layer data\) imports"):
        test_no_upward_imports(fake)
    with pytest.raises(AssertionError, match="b.py:3: mmvae_nb.models.b imports"):
        test_no_import_cycles(fake)
