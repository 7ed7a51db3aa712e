"""The import graph: no circles inside agentkit, and `_private` modules stay inside their package.

Both checks read the source with `ast` (module-level and function-level imports; imports under
`if TYPE_CHECKING:` are skipped, they never run), so they see imports a test run might not reach.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "agentkit"
# Code outside the package that must use its public surface only.
OUTSIDE = ("tools", "examples", "bench", "tests")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in `nodes`, at any depth, except under `if TYPE_CHECKING:`."""
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_nodes(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _import_nodes(ast.iter_child_nodes(node))


def imported(path: Path, root: Path, known: set[str]) -> set[str]:
    """The modules of `known` that the file at `path` imports.

    `import a.b` depends on `a.b`; `from a import b` depends on `a` (its `__init__` must run) and
    on `a.b` when that is a module. A parent package is not counted for `import a.b.c` or
    `from a.b.c import x`: Python imports it first for every submodule, which is no circle.
    """
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes([ast.parse(path.read_text(), str(path))]):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
            continue
        source = node.module or ""
        if node.level:  # relative: `from . import x`, `from ..a import b`
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            source = ".".join([*base, *([node.module] if node.module else [])])
        found.add(source)
        found |= {f"{source}.{alias.name}" for alias in node.names}
    return {each for each in found if each in known and each != name}


def graph(paths: list[Path], root: Path) -> dict[str, set[str]]:
    known = {module_name(p, root) for p in paths}
    return {module_name(p, root): imported(p, root, known) for p in paths}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: each group of modules that import one another, sorted (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while (top := stack.pop()) != node:
                group.append(top)
            group.append(node)
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def describe(group: list[str], edges: dict[str, set[str]]) -> str:
    """`a -> b -> a`: a shortest circle through the group's first module, then the whole group."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(edges[node] & members):
            if target == start:
                path = " -> ".join([*paths[node], start])
                return path if len(paths[node]) == len(group) else f"{path} (group: {group})"
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    raise AssertionError(f"no circle through {start!r}")


def private_owner(module: str) -> str | None:
    """The package a `_private` module belongs to, or None for a public module.

    `agentkit.models._litellm` belongs to `agentkit.models`; anything below a private module
    belongs to the package that holds the private one.
    """
    parts = module.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def private_imports(paths: list[Path], root: Path, known: set[str]) -> list[str]:
    """`file imports module` for each import of a private module from outside its package."""
    offenders = []
    for path in paths:
        importer = module_name(path, root)
        for target in sorted(imported(path, root, known)):
            owner = private_owner(target)
            if owner is not None and not (importer == owner or importer.startswith(owner + ".")):
                offenders.append(f"{path.relative_to(root).as_posix()} imports {target}")
    return offenders


def _package_files() -> list[Path]:
    return sorted((ROOT / PACKAGE).rglob("*.py"))


def _outside_files() -> list[Path]:
    return sorted(p for folder in OUTSIDE for p in (ROOT / folder).rglob("*.py"))


def test_the_package_has_no_import_circles() -> None:
    edges = graph(_package_files(), ROOT)
    found = [describe(group, edges) for group in cycles(edges)]
    assert not found, "import circles:\n" + "\n".join(found)


def test_private_modules_are_imported_only_inside_their_package() -> None:
    known = {module_name(p, ROOT) for p in _package_files()}
    offenders = private_imports(_package_files() + _outside_files(), ROOT, known)
    assert not offenders, "private modules imported from outside their package:\n" + "\n".join(
        offenders
    )


def test_every_subpackage_declares_its_public_names() -> None:
    for init in sorted((ROOT / PACKAGE).rglob("__init__.py")):
        name = module_name(init, ROOT)
        package = importlib.import_module(name)
        assert isinstance(getattr(package, "__all__", None), list), f"{name} has no __all__"
        for public in package.__all__:  # a name it defines, or one of its modules
            assert hasattr(package, public) or importlib.util.find_spec(f"{name}.{public}"), (
                f"{name}.__all__ names {public!r}, which is neither defined there nor a module"
            )


# --- the checks themselves catch what they are for ----------------------------------------------


def _tree(tmp: Path, files: dict[str, str]) -> list[Path]:
    for rel, text in files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    return sorted(tmp.rglob("*.py"))


def test_a_circle_through_a_package_init_is_found(tmp_path: Path) -> None:
    paths = _tree(tmp_path, {
        "agentkit/__init__.py": "",
        "agentkit/store/__init__.py": "from agentkit.store.repository import Store\n",
        "agentkit/store/repository.py": "from agentkit.store import _search\n",
        "agentkit/store/_search.py": "import agentkit.store.tables as tables\n",
        "agentkit/store/tables.py": "",
        "agentkit/tools.py": "def load():\n    from agentkit._loading import load\n",
        "agentkit/_loading.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import agentkit.cli\n"
            "from agentkit.tools import Tool\n"
        ),
        "agentkit/cli.py": "import agentkit._loading\n",
    })
    edges = graph(paths, tmp_path)
    assert [describe(group, edges) for group in cycles(edges)] == [
        "agentkit._loading -> agentkit.tools -> agentkit._loading",
        "agentkit.store -> agentkit.store.repository -> agentkit.store",
    ]


def test_a_private_import_from_outside_is_found(tmp_path: Path) -> None:
    paths = _tree(tmp_path, {
        "agentkit/__init__.py": "",
        "agentkit/_loading.py": "",
        "agentkit/models/__init__.py": "from agentkit.models._litellm import check\n",
        "agentkit/models/_litellm.py": "",
        "agentkit/models/client.py": "from agentkit.models import _litellm\n",
        "agentkit/context/manager.py": "from agentkit.models._litellm import check\n",
        "agentkit/cli.py": "from agentkit._loading import packs\n",
        "tests/test_x.py": "def test():\n    from agentkit.models import _litellm\n",
        "bench/b.py": "import agentkit._loading\n",
    })
    known = {module_name(p, tmp_path) for p in paths if p.is_relative_to(tmp_path / "agentkit")}
    assert private_imports(paths, tmp_path, known) == [
        "agentkit/context/manager.py imports agentkit.models._litellm",
        "bench/b.py imports agentkit._loading",
        "tests/test_x.py imports agentkit.models._litellm",
    ]
