"""Framework mappings as data: requirement <-> policies (HDS v2, GDPR, FEIMA, PGSSI-S).

One generic requirement model for every framework (as Prowler's compliance files): each
requirement is ``automated`` (its policies decide), ``partial`` (policies plus an attestation)
or ``manual`` (an attestation only). Files live in ``frameworks/data/*.yaml``; they are
validated at load, and every policy they name must exist.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources as package_files
from typing import Final

from hds_audit.datafile import Checker, DataFileError, Node, load_yaml

MODES: Final = ("automated", "partial", "manual")
DEFAULT_VALIDITY_DAYS: Final = 365

__all__ = [
    "MODES",
    "DataFileError",
    "Framework",
    "Requirement",
    "builtin_frameworks",
    "check_policies",
    "frameworks_digest",
    "parse_framework",
]


@dataclass(frozen=True, slots=True)
class Requirement:
    framework: str
    id: str
    title: Mapping[str, str]
    mode: str
    policies: tuple[str, ...] = ()
    checks: Mapping[str, str] = field(default_factory=dict)
    attestation: Mapping[str, str] = field(default_factory=dict)
    validity_days: int = DEFAULT_VALIDITY_DAYS
    line: int | None = None

    @property
    def ref(self) -> str:
        """``framework:id``, as attestations name it (``feima:5``, ``hds-v2:EXI 27``)."""
        return f"{self.framework}:{self.id}"

    @property
    def needs_attestation(self) -> bool:
        return self.mode != "automated"

    def text(self, field_name: str, lang: str) -> str:
        values: Mapping[str, str] = getattr(self, field_name)
        return values.get(lang) or values.get("en") or next(iter(values.values()), "")


@dataclass(frozen=True, slots=True)
class Framework:
    id: str
    order: int
    name: Mapping[str, str]
    source: Mapping[str, str]
    requirements: tuple[Requirement, ...]
    file: str = ""
    short: Mapping[str, str] = field(default_factory=dict)
    digest: str = ""  # sha256 of the framework file's bytes

    def text(self, field_name: str, lang: str) -> str:
        values: Mapping[str, str] = getattr(self, field_name)
        return values.get(lang) or values.get("en") or next(iter(values.values()), "")

    def requirement(self, requirement_id: str) -> Requirement | None:
        for requirement in self.requirements:
            if requirement.id == requirement_id:
                return requirement
        return None


_REQUIREMENT_KEYS = ("id", "title", "mode", "policies", "checks", "attestation", "validity_days")


def parse_framework(text: str, file: str, *, bundled: bool = False) -> Framework:
    """Parse and validate one framework file (``bundled``: shipped in the package)."""
    check = Checker(file)
    root = check.mapping(load_yaml(text, file, bundled=bundled), "a framework file")
    check.unknown_keys(
        root, ("id", "order", "name", "short", "source", "requirements"), "a framework"
    )
    framework_id = check.text(root, "id")
    order = root.get("order", 99)
    if not isinstance(order, int):
        raise check.fail(root, "'order' must be a number", "order")
    items = root.get("requirements")
    if not isinstance(items, list) or not items:
        raise check.fail(root, "'requirements' must be a non-empty list", "requirements")
    requirements: list[Requirement] = []
    seen: set[str] = set()
    for item in items:
        node = check.mapping(item, "a requirement", root)
        requirements.append(_requirement(check, node, framework_id, seen))
    return Framework(
        id=framework_id,
        order=order,
        name=check.texts(root, "name"),
        source=check.texts(root, "source", required=False),
        requirements=tuple(requirements),
        file=file,
        short=check.texts(root, "short", required=False) or check.texts(root, "name"),
    )


def _requirement(check: Checker, node: Node, framework_id: str, seen: set[str]) -> Requirement:
    check.unknown_keys(node, _REQUIREMENT_KEYS, "a requirement")
    requirement_id = check.text(node, "id")
    if requirement_id in seen:
        raise check.fail(node, f"duplicate requirement {requirement_id!r}", "id")
    seen.add(requirement_id)
    mode = node.get("mode")
    if mode not in MODES:
        raise check.fail(node, f"mode must be one of {', '.join(MODES)}, not {mode!r}", "mode")
    policies = node.get("policies") or []
    if not isinstance(policies, list) or not all(isinstance(p, str) for p in policies):
        raise check.fail(node, "'policies' must be a list of policy ids", "policies")
    if mode in ("automated", "partial") and not policies:
        raise check.fail(node, f"a {mode} requirement must name its policies", "mode")
    if mode == "manual" and policies:
        raise check.fail(node, "a manual requirement names no policy (use partial)", "policies")
    attestation = check.texts(node, "attestation", required=mode != "automated")
    if mode == "automated" and attestation:
        raise check.fail(node, "an automated requirement needs no attestation", "attestation")
    validity = node.get("validity_days", DEFAULT_VALIDITY_DAYS)
    if not isinstance(validity, int) or isinstance(validity, bool) or validity < 1:
        raise check.fail(node, "'validity_days' must be a positive number", "validity_days")
    return Requirement(
        framework=framework_id,
        id=requirement_id,
        title=check.texts(node, "title"),
        mode=str(mode),
        policies=tuple(policies),
        checks=check.texts(node, "checks", required=False),
        attestation=attestation,
        validity_days=validity,
        line=node.line,
    )


def check_policies(frameworks: Iterable[Framework], policy_ids: Iterable[str]) -> None:
    """Every policy a requirement names must exist: else file, line and the unknown id."""
    known = set(policy_ids)
    for framework in frameworks:
        for requirement in framework.requirements:
            missing = [p for p in requirement.policies if p not in known]
            if missing:
                raise DataFileError(
                    framework.file,
                    requirement.line,
                    f"requirement {requirement.id!r} names unknown policy {', '.join(missing)}",
                )


@functools.cache
def builtin_frameworks() -> tuple[Framework, ...]:
    """The framework files shipped in the package, in display order (FEIMA first)."""
    folder = package_files.files("hds_audit.frameworks") / "data"
    loaded = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            data = entry.read_bytes()
            framework = parse_framework(
                data.decode("utf-8"), f"hds_audit/frameworks/data/{entry.name}", bundled=True
            )
            loaded.append(replace(framework, digest=hashlib.sha256(data).hexdigest()))
    ids = [f.id for f in loaded]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise DataFileError(
            "hds_audit/frameworks/data", None, f"duplicate framework id {duplicates}"
        )
    return tuple(sorted(loaded, key=lambda f: (f.order, f.id)))


def frameworks_digest(frameworks: Iterable[Framework]) -> str:
    """sha256 identifying a set of framework files by their bytes (file names sorted)."""
    from hds_audit.evidence.inputs import combined_digest

    return combined_digest((f.file, f.digest) for f in frameworks)


def find_requirement(frameworks: Iterable[Framework], ref: str) -> Requirement | None:
    """The requirement named ``framework:id`` (``hds-v2:EXI 28``), or None."""
    framework_id, _, requirement_id = ref.partition(":")
    for framework in frameworks:
        if framework.id == framework_id:
            return framework.requirement(requirement_id.strip())
    return None
