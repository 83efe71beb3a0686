"""Read YAML a person edits, keeping the line of every mapping and key to name it in errors.

Policies, the host registry, the framework mappings and the attestations are such files; a
mistake must fail at load with ``file:line: problem`` (exit 2), before anything is scanned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from hds_audit.errors import UsageError
from hds_audit.secrets import safe_quote


class DataFileError(UsageError):
    """A registry, framework or attestations file is invalid: names the file and the line."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {problem}")
        self.file = file
        self.line = line
        self.problem = problem


class Node(dict[str, Any]):
    """A mapping that remembers the line it and each of its keys started on."""

    line: int = 0
    key_lines: dict[str, int]


#: A document whose aliases expand to more values than this is refused ("billion laughs":
#: nine aliases of nine aliases ... expand a few hundred bytes into gigabytes).
MAX_YAML_VALUES = 1_000_000
#: Nesting deeper than this is refused (no file of this tool nests beyond a dozen levels).
MAX_YAML_DEPTH = 100


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_expansion(root: yaml.Node) -> None:
    """Refuse a composed document that would expand too large or nest too deep.

    Counts the values the document stands for once every alias is expanded, without
    expanding anything (each node is measured once, whatever the number of aliases to it).
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if not done:
            if key in size:
                continue
            visiting.add(key)
            stack.append((node, True))
            for child in children:
                if id(child) in visiting:
                    raise yaml.YAMLError("an alias refers to a value that contains it")
                if id(child) not in size:
                    stack.append((child, False))
            continue
        visiting.discard(key)
        size[key] = 1 + sum(size[id(child)] for child in children)
        depth[key] = 1 + max((depth[id(child)] for child in children), default=0)
        if size[key] > MAX_YAML_VALUES:
            raise yaml.YAMLError(
                f"aliases expand to more than {MAX_YAML_VALUES:,} values "
                "(a 'billion laughs' document?)"
            )
        if depth[key] > MAX_YAML_DEPTH:
            raise yaml.YAMLError(f"nests values deeper than {MAX_YAML_DEPTH} levels")


class BoundedSafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses alias bombs and deep nesting before constructing."""

    def construct_document(self, node: yaml.Node) -> Any:
        check_expansion(node)
        return super().construct_document(node)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` with :class:`BoundedSafeLoader`; raises :class:`yaml.YAMLError`
    (a document nested too deep to compose included)."""
    try:
        return yaml.load(text, Loader=BoundedSafeLoader)
    except RecursionError:
        raise yaml.YAMLError(f"nests values deeper than {MAX_YAML_DEPTH} levels") from None


class _Loader(BoundedSafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Node:
    loader.flatten_mapping(node)
    mapping = Node()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.MarkedYAMLError(
                problem=f"duplicate key {safe_quote(key)}", problem_mark=key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[str(key)] = key_node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
# Dates stay text (``2026-01-31``): the loaders parse and validate them themselves.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


_CLoader: type[Any] | None = None
if hasattr(yaml, "CSafeLoader"):  # libyaml's parser with the constructors of _Loader

    class _LibyamlLoader(yaml.CSafeLoader):
        def construct_document(self, node: yaml.Node) -> Any:
            check_expansion(node)
            return super().construct_document(node)

    _LibyamlLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
    _LibyamlLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
    _CLoader = _LibyamlLoader


def line_of(node: Any, key: str | None = None) -> int | None:
    """The line of ``node`` (or of its ``key``), when it came from a YAML mapping."""
    if isinstance(node, Node):
        if key is not None and key in node.key_lines:
            return node.key_lines[key]
        return node.line
    return None


ErrorType = Callable[[str, "int | None", str], Exception]


def load_yaml(text: str, file: str, *, bundled: bool = False) -> Any:
    """Parse one YAML document; a syntax error names the file and the line.

    ``bundled``: a file shipped in the package, read on every run: libyaml's parser reads it
    (the same nodes, lines and checks, several times faster), the Python one when it is
    missing or refuses the file (whose error is then the one told)."""
    if bundled and _CLoader is not None:
        try:
            return yaml.load(text, Loader=_CLoader)
        except (yaml.YAMLError, RecursionError):
            pass
    [document] = load_yaml_documents(text, file, single=True)
    return document


def load_yaml_documents(
    text: str, file: str, *, single: bool = False, error: ErrorType = DataFileError
) -> list[Any]:
    """Parse every YAML document of ``text``; a syntax error raises ``error(file, line,
    problem)`` naming the line (and where the enclosing block started)."""
    try:
        if single:
            return [yaml.load(text, Loader=_Loader)]
        return list(yaml.load_all(text, Loader=_Loader))
    except RecursionError:
        problem = f"invalid YAML: nests values deeper than {MAX_YAML_DEPTH} levels"
        raise error(file, None, problem) from None
    except yaml.MarkedYAMLError as problem:
        mark = problem.problem_mark
        line = mark.line + 1 if mark is not None else None
        message = f"invalid YAML: {problem.problem}"
        if problem.context and problem.context_mark is not None:
            message += f" ({problem.context} started at line {problem.context_mark.line + 1})"
        raise error(file, line, message) from None
    except yaml.YAMLError as problem:
        raise error(file, None, f"invalid YAML: {problem}") from None


class Checker:
    """Raise :class:`DataFileError` naming ``file`` and the line of the node at fault."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, node: Any, problem: str, key: str | None = None) -> DataFileError:
        return DataFileError(self.file, line_of(node, key), problem)

    def mapping(self, node: Any, what: str, parent: Any = None) -> Node:
        if not isinstance(node, Node):
            raise self.fail(parent if node is None else node, f"{what} must be a mapping")
        return node

    def text(self, node: Node, key: str, required: bool = True) -> str:
        value = node.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool) or value == "":
            raise self.fail(node, f"'{key}' must be non-empty text", key)
        return str(value)

    def texts(self, node: Node, key: str, required: bool = True) -> dict[str, str]:
        """Text, or ``{fr: ..., en: ...}``; a plain string counts for every language."""
        value = node.get(key)
        if value is None and not required:
            return {}
        if isinstance(value, str) and value.strip():
            return {"fr": value.strip(), "en": value.strip()}
        if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
            return {str(k): v.strip() for k, v in value.items()}
        raise self.fail(node, f"'{key}' must be text or a mapping of language to text", key)

    def unknown_keys(self, node: Node, allowed: tuple[str, ...], what: str) -> None:
        for key in node:
            if key not in allowed:
                raise self.fail(
                    node,
                    f"unknown key {safe_quote(key)} in {what}; known: {', '.join(allowed)}",
                    str(key),
                )


def package_yaml(package: str, name: str) -> Any:
    """A YAML data file shipped inside ``package`` (``data/services.yaml``), parsed."""
    from importlib import resources

    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)
