"""Load and validate YAML policies (Checkov's custom-policy grammar, our normalised model).

Validation happens before anything is collected: an unknown operator, attribute path,
category or severity, or a duplicate id, fails with the file and the line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources as package_files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from hds_audit import inputs
from hds_audit.datafile import line_of, load_yaml_documents
from hds_audit.engine.conditions import (
    OPERATORS,
    REGEX,
    UNARY,
    Condition,
    all_of,
    any_of,
    compile_regex,
    leaf,
    negate,
)
from hds_audit.engine.paths import KNOWN_PATHS, compile_path
from hds_audit.errors import PolicyError, UsageError
from hds_audit.model import Kind, PolicyMeta, Resource, Severity

CATEGORIES = (
    "residency",
    "replication_residency",
    "encryption_at_rest",
    "key_management",
    "certified_provider",
    "logging",
    "network_exposure",
)
_REQUIRED_METADATA = ("id", "name", "category", "severity", "rationale", "remediation")


@dataclass(frozen=True, slots=True)
class Scope:
    """Which resources a policy judges; ``when`` false gives ``not_applicable``."""

    kinds: frozenset[Kind] | None
    providers: frozenset[str] | None
    when: Condition | None
    when_text: str | None
    stores_data: bool = False
    types: frozenset[str] | None = None

    def covers(self, resource: Resource) -> bool:
        if self.kinds is not None and resource.kind not in self.kinds:
            return False
        if self.types is not None and resource.type not in self.types:
            return False
        if self.stores_data and not resource.stores_data:
            return False
        return self.providers is None or resource.provider in self.providers


@dataclass(frozen=True, slots=True)
class Policy:
    """A loaded policy: what reports show (``meta``) and what the engine runs."""

    meta: PolicyMeta
    scope: Scope
    condition: Condition
    attribute_roots: frozenset[str] = frozenset()
    # Every path it reads is host.*: its verdict depends only on (provider, region, kind).
    host_only: bool = False
    # The host.* paths a host-only policy reads (its scope's ``when`` included).
    host_paths: frozenset[str] = frozenset()
    # sha256 of the policy document (metadata, scope, definition); see policy_set_digest.
    digest: str = ""
    # Every attribute path it reads (its scope's ``when`` included). Empty for a policy built
    # in code: the engine then judges each resource afresh, never sharing an outcome.
    paths: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return self.meta.id


class _Compiler:
    def __init__(self, file: str) -> None:
        self.file = file
        self.roots: set[str] = set()
        self.paths: set[str] = set()

    def fail(self, node: Any, problem: str, key: str | None = None) -> PolicyError:
        return PolicyError(self.file, line_of(node, key), problem)

    def condition(self, node: Any) -> Condition:
        if not isinstance(node, dict):
            raise self.fail(node, "a condition must be a mapping")
        for logical, combine in (("and", all_of), ("or", any_of)):
            if logical in node:
                children = node[logical]
                if not isinstance(children, list) or not children:
                    raise self.fail(node, f"'{logical}' needs a non-empty list", logical)
                return combine([self.condition(child) for child in children])
        if "not" in node:
            return negate(self.condition(node["not"]))
        cond_type = node.get("cond_type", "attribute")
        if cond_type != "attribute":
            raise self.fail(
                node, f"unsupported cond_type {cond_type!r} (use 'attribute')", "cond_type"
            )
        attribute = node.get("attribute")
        if not isinstance(attribute, str):
            raise self.fail(node, "a condition needs 'attribute' (or 'and' / 'or' / 'not')")
        resolver = compile_path(attribute)
        self.paths.add(attribute)
        if attribute.startswith("attributes."):
            self.roots.add(attribute.split(".", 2)[1])
        if resolver is None:
            raise self.fail(
                node,
                f"unknown attribute path {attribute!r}; known: {', '.join(KNOWN_PATHS)}",
                "attribute",
            )
        operator = node.get("operator")
        if operator not in OPERATORS:
            raise self.fail(
                node,
                f"unknown operator {operator!r}; known: {', '.join(sorted(OPERATORS))}",
                "operator",
            )
        if operator not in UNARY and "value" not in node:
            raise self.fail(node, f"operator {operator!r} needs a 'value'", "operator")
        if operator in REGEX:
            self.regex(node, str(operator))
        return leaf(resolver, str(operator), node.get("value"))

    def regex(self, node: Mapping[str, Any], operator: str) -> None:
        """Regex values are compiled now (RE2): a bad one fails at load, never mid-scan."""
        value = node.get("value")
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.fail(
                node, f"{operator} value must be a text (a regular expression)", "value"
            )
        try:
            compile_regex(str(value))
        except ValueError as error:
            raise self.fail(
                node,
                f"{operator} value is not a usable regular expression ({error}; RE2 syntax: "
                "no backreferences or lookarounds)",
                "value",
            ) from None

    def text_map(self, metadata: Mapping[str, Any], key: str) -> dict[str, str]:
        """A text field may be a string or ``{en: ..., fr: ...}``."""
        value = metadata.get(key)
        if isinstance(value, str):
            return {"en": value}
        if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            return {str(k): v for k, v in value.items()}
        raise self.fail(metadata, f"'{key}' must be text or a mapping of language to text", key)

    def policy(self, document: Any) -> Policy:
        if not isinstance(document, dict):
            raise self.fail(document, "a policy must be a mapping with 'metadata' and 'definition'")
        metadata = document.get("metadata")
        if not isinstance(metadata, dict):
            raise self.fail(document, "missing 'metadata'")
        for key in _REQUIRED_METADATA:
            if not metadata.get(key):
                raise self.fail(document, f"metadata needs '{key}'", "metadata")
        category = metadata["category"]
        if category not in CATEGORIES:
            raise self.fail(
                metadata,
                f"unknown category {category!r}; known: {', '.join(CATEGORIES)}",
                "category",
            )
        try:
            severity = Severity(str(metadata["severity"]).lower())
        except ValueError:
            raise self.fail(
                metadata, f"unknown severity {metadata['severity']!r}", "severity"
            ) from None
        frameworks = metadata.get("frameworks") or {}
        if not isinstance(frameworks, dict) or not frameworks:
            raise self.fail(
                document, "metadata needs 'frameworks' (at least one reference)", "metadata"
            )
        texts = {
            field: self.text_map(metadata, field) for field in ("name", "rationale", "remediation")
        }
        terraform = (
            self.text_map(metadata, "remediation_terraform")
            if metadata.get("remediation_terraform")
            else {"en": ""}
        )
        if isinstance(metadata.get("remediation_terraform"), dict):  # comments translated
            texts["remediation_terraform"] = terraform
        translations: dict[str, dict[str, str]] = {}
        for field, by_lang in texts.items():
            for lang, text in by_lang.items():
                translations.setdefault(lang, {})[field] = text.strip()
        definition = document.get("definition")
        if definition is None:
            raise self.fail(document, "missing 'definition'")
        meta = PolicyMeta(
            id=str(metadata["id"]),
            name=_default(texts["name"]),
            category=str(category),
            severity=severity,
            rationale=_default(texts["rationale"]),
            remediation=_default(texts["remediation"]),
            remediation_terraform=_default(terraform),
            frameworks={str(k): tuple(str(r) for r in _listify(v)) for k, v in frameworks.items()},
            file=self.file,
            translations=translations,
        )
        self.roots, self.paths = set(), set()
        scope = self.scope(document.get("scope") or {})
        condition = self.condition(definition)
        host_only = bool(self.paths) and all(p.startswith("host.") for p in self.paths)
        return Policy(
            meta,
            scope,
            condition,
            attribute_roots=frozenset(self.roots),
            host_only=host_only,
            host_paths=frozenset(self.paths) if host_only else frozenset(),
            digest=_sha256(document),
            paths=frozenset(self.paths),
        )

    def scope(self, node: Any) -> Scope:
        if not isinstance(node, dict):
            raise self.fail(node, "'scope' must be a mapping")
        kinds: frozenset[Kind] | None = None
        raw_kinds = node.get("kinds", "all")
        if raw_kinds != "all":
            try:
                kinds = frozenset(Kind(k) for k in _listify(raw_kinds))
            except ValueError as error:
                raise self.fail(node, f"unknown kind in scope: {error}", "kinds") from None
        providers = self.texts(node, "providers")
        types = self.texts(node, "types")
        when = node.get("when")
        stores_data = node.get("stores_data", False)
        if not isinstance(stores_data, bool):
            raise self.fail(node, "'stores_data' must be true or false", "stores_data")
        return Scope(
            kinds=kinds,
            providers=frozenset(providers) if providers else None,
            when=self.condition(when) if when is not None else None,
            when_text=str(node.get("when_description") or "") or None,
            stores_data=stores_data,
            types=frozenset(types) if types is not None else None,
        )

    def texts(self, node: Mapping[str, Any], key: str) -> list[str] | None:
        """A scope list (``providers``, ``types``): one text or a list of texts."""
        if key not in node or node[key] is None:
            return None
        items = _listify(node[key])
        if not all(isinstance(i, str | int | float) and not isinstance(i, bool) for i in items):
            raise self.fail(node, f"'{key}' must be a list of texts", key)
        return [str(i) for i in items]


def _canonical(value: Any) -> Any:
    """``value`` with every mapping's keys as sorted strings, for a stable digest."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_canonical(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    return value


def _sha256(value: Any) -> str:
    text = json.dumps(_canonical(value), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def policy_set_digest(policies: Iterable[Policy]) -> str:
    """sha256 identifying a policy set by content: ids, metadata, scope and definition.

    The file a policy came from does not count (the same policies checked out elsewhere have
    the same digest), nor does the order. A policy built in code (no document) counts by its
    metadata.
    """
    entries = []
    for policy in policies:
        meta = policy.meta
        content = policy.digest or _sha256(
            {
                "id": meta.id,
                "name": meta.name,
                "category": meta.category,
                "severity": meta.severity.value,
                "rationale": meta.rationale,
                "remediation": meta.remediation,
                "remediation_terraform": meta.remediation_terraform,
                "frameworks": meta.frameworks,
                "translations": meta.translations,
            }
        )
        entries.append(f"{meta.id}\t{content}")
    return hashlib.sha256("\n".join(sorted(entries)).encode("utf-8")).hexdigest()


def _default(by_lang: Mapping[str, str]) -> str:
    return (by_lang.get("en") or next(iter(by_lang.values()))).strip()


def _listify(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def load_policy_text(text: str, file: str) -> list[Policy]:
    """Parse and validate every policy document in one YAML text."""
    compiler = _Compiler(file)
    documents = load_yaml_documents(text, file, error=PolicyError)
    return [compiler.policy(document) for document in documents if document is not None]


def _check_unique(policies: Iterable[Policy]) -> list[Policy]:
    seen: dict[str, Policy] = {}
    for policy in policies:
        if policy.id in seen:
            first = seen[policy.id].meta.file
            raise PolicyError(
                policy.meta.file, None, f"duplicate policy id {policy.id!r} (also in {first})"
            )
        seen[policy.id] = policy
    return list(seen.values())


def builtin_policy_dir() -> Traversable:
    """The folder of the built-in policies.

    In the repository they live in the top-level ``policies/`` beside ``hds_audit/``; the
    wheel maps that folder into the package as ``hds_audit/policies`` (pyproject.toml), so
    an installed copy reads them from the package and a checkout from the top level.
    """
    packaged = package_files.files("hds_audit") / "policies"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "policies"


def _is_builtin_dir(path: Path) -> bool:
    folder = builtin_policy_dir()
    return isinstance(folder, Path) and path.is_dir() and path.resolve() == folder.resolve()


@cache
def builtin_policies() -> tuple[Policy, ...]:
    """The built-in policies (``policies/*.yaml``, shipped inside the wheel)."""
    folder = builtin_policy_dir()
    loaded: list[Policy] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            loaded.extend(
                load_policy_text(entry.read_text(encoding="utf-8"), f"policies/{entry.name}")
            )
    return tuple(_check_unique(loaded))


def load_policies(extra_dirs: Iterable[str] = (), include_builtin: bool = True) -> list[Policy]:
    """Built-in policies plus those in ``extra_dirs``; ids must be unique across all."""
    loaded: list[Policy] = list(builtin_policies()) if include_builtin else []
    for directory in extra_dirs:
        path = Path(directory)
        if include_builtin and _is_builtin_dir(path):
            continue  # the built-in folder itself: already loaded, not a duplicate of itself
        files = sorted(path.glob("*.y*ml")) if path.is_dir() else [path]
        for file in files:
            try:
                text = inputs.read_text(file)
            except inputs.FileProblem as problem:
                raise PolicyError(str(file), None, problem.problem) from None
            loaded.extend(load_policy_text(text, str(file)))
    return _check_unique(loaded)


def validate_policy_paths(paths: Iterable[str]) -> list[Policy]:
    """The policies in ``paths`` only (``policies validate``): a folder holding no policy
    file is a usage error, and ids must not clash with the built-in ones they will join
    (unless the built-in folder itself is among ``paths``)."""
    paths = list(paths)
    for path in map(Path, paths):
        if path.is_dir() and not any(path.glob("*.y*ml")):
            raise UsageError(f"{path}: no policy file (*.yaml, *.yml) in this folder")
    loaded = load_policies(paths, include_builtin=False)
    if not any(_is_builtin_dir(Path(p)) for p in paths):
        _check_unique([*builtin_policies(), *loaded])
    return loaded
