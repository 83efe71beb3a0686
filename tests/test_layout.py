"""The layout the product card fixes: built-in policies at the top level; which module may
import which (no import cycle, the report model free of collectors and history)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from hds_audit.engine import builtin_policies
from hds_audit.engine.policies import builtin_policy_dir
from hds_audit.testing import run_cli

ROOT = Path(__file__).resolve().parents[1]


def test_builtin_policies_live_in_the_top_level_folder() -> None:
    folder = ROOT / "policies"
    assert not (ROOT / "hds_audit" / "policies").exists()
    assert Path(str(builtin_policy_dir())).resolve() == folder
    shipped = sorted(p.name for p in folder.glob("*.yaml"))
    assert shipped, "policies/ holds the built-in YAML policies"
    assert sorted({p.meta.file for p in builtin_policies()}) == [f"policies/{n}" for n in shipped]


def test_policies_validate_passes_on_the_builtin_folder() -> None:
    result = run_cli(["policies", "validate", str(ROOT / "policies")])
    assert result.exit_code == 0, result.stderr
    assert result.output == f"{len(builtin_policies())} policies valid.\n"


# -- the house: which module may import which ----------------------------------------------

PACKAGE = ROOT / "hds_audit"


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {_module_name(path, package.parent): path for path in sorted(package.rglob("*.py"))}


def _nodes(tree: ast.AST, lazy: bool) -> Iterator[ast.AST]:
    """The nodes of ``tree``; without ``lazy``, not those inside functions (run later)."""
    for child in ast.iter_child_nodes(tree):
        yield child
        if lazy or not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _nodes(child, lazy)


def imports_of(path: Path, known: Iterable[str], lazy: bool = True, root: Path = ROOT) -> set[str]:
    """Every module of the package ``path`` imports: top level, under ``if TYPE_CHECKING:``
    and, with ``lazy``, inside functions. ``from a import b`` counts ``a.b`` when that is a
    module."""
    names = set(known)
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _nodes(ast.parse(path.read_text(encoding="utf-8"), str(path)), lazy):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in names)
    return {name for name in found if name in names}


def _graph(package: Path = PACKAGE, lazy: bool = True) -> dict[str, set[str]]:
    modules = _modules(package)
    root = package.parent
    return {name: imports_of(path, modules, lazy, root) - {name} for name, path in modules.items()}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (its modules in order, the first repeated), or None."""
    done: set[str] = set()
    for start in sorted(graph):
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        on_path = [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.pop()
                done.add(node)
            elif child in on_path:
                return [*on_path[on_path.index(child) :], child]
            elif child not in done and child in graph:
                stack.append((child, iter(sorted(graph[child]))))
                on_path.append(child)
    return None


#: The one module outside the CLI that may name it: the public test helper ``run_cli``,
#: which imports ``hds_audit.cli`` inside the function. It is a leaf: nothing imports it.
CLI_USERS_OUTSIDE = {"hds_audit.testing"}


def test_only_the_cli_imports_the_cli() -> None:
    graph = _graph()
    offenders = sorted(
        name
        for name, imported in graph.items()
        if not _within(name, "hds_audit.cli") and name not in CLI_USERS_OUTSIDE
        if any(_within(i, "hds_audit.cli") for i in imported)
    )
    assert offenders == []
    for leaf in CLI_USERS_OUTSIDE:
        assert [n for n, imported in graph.items() if leaf in imported] == []


def test_the_report_model_imports_neither_collectors_nor_history() -> None:
    graph = _graph()
    for name in ("hds_audit.reports.model", "hds_audit.reports.loader"):
        reached = sorted(
            i
            for i in graph[name]
            if _within(i, "hds_audit.collectors") or _within(i, "hds_audit.history")
        )
        assert reached == [], name


def test_no_import_cycle_in_the_cli() -> None:
    graph = _graph()
    cli = {  # hds_audit.cli* : the package and any cli_* module beside it
        name: {i for i in imported if i.startswith("hds_audit.cli")}
        for name, imported in graph.items()
        if name.startswith("hds_audit.cli")
    }
    assert find_cycle(cli) is None
    assert len(cli) > 5, "the CLI is a package, one module per command group"


def test_no_import_cycle_in_the_package() -> None:
    """Imports run when a module loads (top level, ``if TYPE_CHECKING:``) form no circle;
    imports inside functions are left out: they run after every module has loaded."""
    assert find_cycle(_graph(lazy=False)) is None


def test_the_import_reader_sees_every_kind_of_import(tmp_path: Path) -> None:
    module = tmp_path / "hds_audit" / "reports" / "model.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import loader\n"
        "if TYPE_CHECKING:\n    from hds_audit.history.trend import Drift\n"
        "def f():\n    import hds_audit.cli\n",
        encoding="utf-8",
    )
    known = {
        "hds_audit.cli",
        "hds_audit.history.trend",
        "hds_audit.reports",
        "hds_audit.reports.loader",
    }
    assert imports_of(module, known, root=tmp_path) == known
    assert imports_of(module, known, lazy=False, root=tmp_path) == known - {"hds_audit.cli"}


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
