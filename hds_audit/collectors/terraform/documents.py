"""Turn every Terraform JSON shape into one list of resource instances.

Shapes read: raw state v4 (streamed), legacy state v3 (flatmap attributes), ``terraform show
-json`` of a state (``values``) and of a plan (``resource_changes`` + ``configuration``),
including the 0.12-era ``format_version`` 0.x plans. Attributes are redacted here, before
anything else can see them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from operator import attrgetter
from sys import intern
from typing import Any

from hds_audit.collectors.terraform.reading import (
    JsonCursor,
    JsonText,
    check_trailer,
    describe_json_error,
)
from hds_audit.errors import InputError, ShapeError, kind_of
from hds_audit.i18n import Msg
from hds_audit.model import EMPTY_MAPPING, SourceKind, empty_mapping
from hds_audit.secrets import redact

_PROVIDER_ADDR = re.compile(r'provider\["?([^"\]]+)"?\](?:\.([\w-]+))?')
_LEGACY_PROVIDER = re.compile(r"provider\.([\w-]+)(?:\.([\w-]+))?")
_MODULE_INDEX = re.compile(r"\[[^\]]*\]")


@dataclass(slots=True)
class TfInstance:
    """One resource instance as Terraform describes it, attributes already redacted."""

    address: str
    mode: str
    type: str
    name: str
    module: str
    provider: str
    provider_key: str
    attributes: dict[str, Any]
    unknown: frozenset[str] = frozenset()
    references: Mapping[str, tuple[str, ...]] = field(default_factory=empty_mapping)
    configured: frozenset[str] | None = None
    provider_region: str | None = None
    action: str | None = None

    @property
    def module_path(self) -> str:
        """The module address without instance keys (``module.a.module.b``)."""
        return _MODULE_INDEX.sub("", self.module) if "[" in self.module else self.module

    @property
    def local(self) -> str:
        """The module-relative configuration address (``aws_s3_bucket.records``)."""
        return f"{'data.' if self.mode == 'data' else ''}{self.type}.{self.name}"


# What a child process sends of each instance it read (every field: see
# :func:`sent_instances`), in the order of the fields.
_INSTANCE_FIELDS = attrgetter(*(f.name for f in fields(TfInstance)))


def sent_instances(instances: list[TfInstance]) -> list[tuple[Any, ...]]:
    """The fields of ``instances``, to send from a child process (:mod:`hds_audit.beside`)."""
    return list(map(_INSTANCE_FIELDS, instances))


def received_instances(sent: list[tuple[Any, ...]]) -> list[TfInstance]:
    """The instances :func:`sent_instances` sent, their type, mode, module and provider
    texts interned as the reader's own are."""
    return [
        TfInstance(
            address,
            intern(mode),
            intern(rtype),
            name,
            intern(module),
            intern(short),
            intern(key),
            *rest,
        )
        for address, mode, rtype, name, module, short, key, *rest in sent
    ]


@dataclass(slots=True)
class ParsedDocument:
    """What one file held: its instances, its kind and any notes on how it was read."""

    kind: SourceKind
    instances: list[TfInstance]
    terraform_version: str | None
    notes: list[str] = field(default_factory=list)
    replay: Replay | None = None
    """For a streamed state: passes every full instance again, one at a time, to a callback
    (``instances`` then holds the slimmed copies the index needs)."""
    release: Callable[[], None] = lambda: None
    """Stops what still works for ``replay`` (a child process reading the state beside this
    one) when the replay will not be made, or not to its end: call it once done."""


Replay = Callable[[Callable[[TfInstance], None]], None]

# What a pass over a streamed state handles at once: resources decoded in one call,
# instances handed to the slimmer together.
BATCH = 1000


@dataclass(frozen=True, slots=True)
class Slimmer:
    """How the first pass over a streamed state keeps its instances for the index.

    ``kept_whole(type, mode)`` says which are kept with all their attributes (redacted); of
    the others only the attributes named in ``keys`` matter: ``slim`` keeps those and redacts
    them, in place, on a batch of instances at a time (the fast reader decodes no others).
    """

    keys: tuple[str, ...]
    kept_whole: Callable[[str, str], bool]
    slim: Callable[[list[TfInstance]], None]


class _Kept:
    """The instances a first pass keeps, in order: those not kept whole are slimmed a batch
    at a time (no more than a batch of full instances is held)."""

    __slots__ = ("instances", "pending", "slimmer")

    def __init__(self, slimmer: Slimmer | None) -> None:
        self.instances: list[TfInstance] = []
        self.pending: list[TfInstance] = []
        self.slimmer = slimmer

    def __call__(self, inst: TfInstance) -> None:
        slimmer = self.slimmer
        if slimmer is not None and not slimmer.kept_whole(inst.type, inst.mode):
            self.slimmed(inst)
        else:
            self.instances.append(inst)

    def slimmed(self, inst: TfInstance) -> None:
        """An instance the caller knows the slimmer does not keep whole (the check of
        ``__call__`` already made)."""
        self.instances.append(inst)
        self.pending.append(inst)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> list[TfInstance]:
        """Slim what is pending; the instances kept so far."""
        if self.pending and self.slimmer is not None:
            self.slimmer.slim(self.pending)
            self.pending = []
        return self.instances


# msgspec shares only some key strings between the objects it decodes (Python's decoder
# shares every key of a document): attributes held for long share theirs here.
_KEYS: dict[str, str] = {}


def share_keys(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The same attributes, their key strings shared with every other caller's."""
    if len(_KEYS) > 100_000:
        return dict(attributes)
    shared = map(_KEYS.setdefault, attributes, attributes)
    return dict(zip(shared, attributes.values(), strict=True))


def _index_suffix(index: Any) -> str:
    if index is None:
        return ""
    if isinstance(index, int):
        return f"[{index}]"
    return f"[{json.dumps(index)}]"


def _address(module: str, mode: str, rtype: str, name: str, index: Any) -> str:
    if index is None and mode == "managed":  # the usual case, without the other calls
        return f"{module}.{rtype}.{name}" if module else f"{rtype}.{name}"
    local = f"{'data.' if mode == 'data' else ''}{rtype}.{name}{_index_suffix(index)}"
    return f"{module}.{local}" if module else local


@cache
def _provider_from_state(provider: str) -> tuple[str, str]:
    """``provider["registry.terraform.io/hashicorp/aws"].us`` -> (``aws``, ``aws.us``)."""
    match = _PROVIDER_ADDR.search(provider) or _LEGACY_PROVIDER.search(provider)
    if not match:
        return provider, provider
    short = match.group(1).rsplit("/", 1)[-1]
    alias = match.group(2)
    return short, f"{short}.{alias}" if alias else short


def _type_provider(rtype: str) -> str:
    return rtype.split("_", 1)[0]


# ---------------------------------------------------------------------------------------------
# raw state v4, streamed


def _state_v4_instance(
    resource: Mapping[str, Any],
    out: Callable[[TfInstance], None],
    kept_whole: Callable[[str, str], bool] | None = None,
) -> None:
    """Turn one state v4 resource into instances, redacted.

    ``kept_whole(type, mode)`` false says the caller keeps only a few non-secret attributes
    of this instance (and redacts those): the full redaction walk is skipped for it.
    """
    mode = intern(str(resource.get("mode", "managed")))
    rtype = intern(str(resource.get("type", "")))
    name = str(resource.get("name", ""))
    module = intern(str(resource.get("module") or ""))
    short, provider_key = _provider_from_state(
        str(resource.get("provider") or _type_provider(rtype))
    )
    short, provider_key = intern(short), intern(provider_key)
    whole = kept_whole is None or kept_whole(rtype, mode)
    for instance in _objects(resource.get("instances"), "instances", rtype, name):
        address = _address(module, mode, rtype, name, instance.get("index_key"))
        attributes = instance.get("attributes")
        if attributes is None:
            attributes = _flat_to_nested(_object(instance.get("attributes_flat"), address))
        if not isinstance(attributes, dict):
            raise ShapeError(f"{address}: attributes are {kind_of(attributes)}, not an object")
        if whole:
            attributes = redact(
                attributes, rtype, sensitive_paths=instance.get("sensitive_attributes")
            )
        out(TfInstance(address, mode, rtype, name, module, short, provider_key, attributes))


def _objects(items: Any, what: str, rtype: str, name: str) -> list[dict[str, Any]]:
    """``items`` as a list of objects, or a :class:`ShapeError` naming the resource."""
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ShapeError(f"{rtype}.{name}: {what} must be a list of objects, not {kind_of(items)}")
    return items


def _object(value: Any, address: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ShapeError(f"{address}: attributes_flat are {kind_of(value)}, not an object")
    return value


# ---------------------------------------------------------------------------------------------
# legacy state v3 (Terraform < 0.12): flatmap attributes


def _flat_to_nested(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Expand Terraform 0.11 flatmap (``tags.%``, ``rule.0.id``) into nested values."""
    root: dict[str, Any] = {}
    for path, value in flat.items():
        parts = path.split(".")
        if parts[-1] in ("#", "%"):
            continue
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    nested: dict[str, Any] = _lists_from_digit_dicts(root)
    return nested


def _lists_from_digit_dicts(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _lists_from_digit_dicts(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _state_v3_instances(doc: Mapping[str, Any]) -> list[TfInstance]:
    out: list[TfInstance] = []
    for module in doc.get("modules") or ():
        path = [p for p in module.get("path") or () if p != "root"]
        module_addr = ".".join(f"module.{p}" for p in path)
        for key, resource in (module.get("resources") or {}).items():
            parts = key.split(".")
            mode = "data" if parts[0] == "data" else "managed"
            if mode == "data":
                parts = parts[1:]
            if len(parts) < 2:
                continue
            rtype, name = parts[0], parts[1]
            index = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
            primary = resource.get("primary") or {}
            attributes = _flat_to_nested(primary.get("attributes") or {})
            short, pkey = _provider_from_state(str(resource.get("provider") or rtype))
            out.append(
                TfInstance(
                    address=_address(module_addr, mode, rtype, name, index),
                    mode=mode,
                    type=rtype,
                    name=name,
                    module=module_addr,
                    provider=short if resource.get("provider") else _type_provider(rtype),
                    provider_key=pkey if resource.get("provider") else _type_provider(rtype),
                    attributes=redact(attributes, rtype),
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# terraform show -json (state values)


def _walk_modules(module: Mapping[str, Any] | None) -> Iterable[Mapping[str, Any]]:
    if not module:
        return
    yield from module.get("resources") or ()
    for child in module.get("child_modules") or ():
        yield from _walk_modules(child)


def _module_of(address: str, rtype: str, mode: str) -> str:
    marker = f"{'data.' if mode == 'data' else ''}{rtype}."
    position = address.rfind(marker)
    return address[: position - 1] if position > 0 else ""


def _show_state_instances(values: Mapping[str, Any]) -> list[TfInstance]:
    out: list[TfInstance] = []
    for resource in _walk_modules(values.get("root_module")):
        rtype = str(resource.get("type", ""))
        mode = str(resource.get("mode", "managed"))
        address = str(resource.get("address", ""))
        short = str(resource.get("provider_name") or rtype).rsplit("/", 1)[-1]
        values = resource.get("values") or {}
        if not isinstance(values, dict):
            raise ShapeError(f"{address}: values are {kind_of(values)}, not an object")
        out.append(
            TfInstance(
                address=address,
                mode=mode,
                type=rtype,
                name=str(resource.get("name", "")),
                module=_module_of(address, rtype, mode),
                provider=short,
                provider_key=short,
                attributes=redact(
                    values,
                    rtype,
                    sensitive_marks=resource.get("sensitive_values"),
                ),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# terraform show -json (plan)


@dataclass(slots=True)
class _PlanConfiguration:
    """The parts of ``configuration`` the normalisers need."""

    provider_regions: dict[str, str | None]
    resources: dict[tuple[str, str], Mapping[str, Any]]

    @classmethod
    def read(cls, doc: Mapping[str, Any]) -> _PlanConfiguration:
        configuration = doc.get("configuration") or {}
        variables = doc.get("variables") or {}
        regions: dict[str, str | None] = {}
        for key, provider in (configuration.get("provider_config") or {}).items():
            expression = ((provider or {}).get("expressions") or {}).get("region") or {}
            regions[key] = _expression_value(expression, variables)
        resources: dict[tuple[str, str], Mapping[str, Any]] = {}
        cls._collect(configuration.get("root_module") or {}, "", resources)
        return cls(regions, resources)

    @classmethod
    def _collect(
        cls, module: Mapping[str, Any], path: str, out: dict[tuple[str, str], Mapping[str, Any]]
    ) -> None:
        for resource in module.get("resources") or ():
            out[(path, str(resource.get("address", "")))] = resource
        for name, call in (module.get("module_calls") or {}).items():
            child = f"{path}.module.{name}" if path else f"module.{name}"
            cls._collect((call or {}).get("module") or {}, child, out)

    def region_for(self, provider_key: str, provider: str) -> str | None:
        """Region of a provider configuration key, trying the module-free key as well."""
        for key in (provider_key, provider_key.split(":", 1)[-1]):
            if key in self.provider_regions:
                return self.provider_regions[key]
        return None


def _expression_value(expression: Mapping[str, Any], variables: Mapping[str, Any]) -> str | None:
    if "constant_value" in expression:
        value = expression["constant_value"]
        return value if isinstance(value, str) else None
    references = expression.get("references") or ()
    for reference in references:
        if isinstance(reference, str) and reference.startswith("var."):
            variable = variables.get(reference[4:]) or {}
            value = variable.get("value")
            if isinstance(value, str):
                return value
    return None


def _unknown_paths(marks: Any, prefix: str = "") -> Iterable[str]:
    """Flatten ``after_unknown`` into dotted paths (``encrypted``, ``rule.0.kms_key_id``)."""
    if marks is True:
        yield prefix
    elif isinstance(marks, dict):
        for key, value in marks.items():
            yield from _unknown_paths(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(marks, list):
        for i, value in enumerate(marks):
            yield from _unknown_paths(value, f"{prefix}.{i}" if prefix else str(i))


def _references(expressions: Mapping[str, Any], prefix: str = "") -> dict[str, tuple[str, ...]]:
    """Configuration references by attribute path, nested blocks flattened without indices
    (``bucket``, ``rule.destination.bucket``)."""
    found: dict[str, tuple[str, ...]] = {}
    for attr, expression in expressions.items():
        path = f"{prefix}{attr}"
        if isinstance(expression, dict):
            if expression.get("references"):
                found[path] = tuple(str(r) for r in expression["references"])
        elif isinstance(expression, list):
            for block in expression:
                if isinstance(block, dict):
                    for key, refs in _references(block, f"{path}.").items():
                        found[key] = found.get(key, ()) + refs
    return found


def _plan_instances(doc: Mapping[str, Any]) -> list[TfInstance]:
    config = _PlanConfiguration.read(doc)
    out: list[TfInstance] = []
    for change_record in doc.get("resource_changes") or ():
        change = change_record.get("change") or {}
        actions = change.get("actions") or []
        if actions == ["delete"]:
            continue
        rtype = str(change_record.get("type", ""))
        mode = str(change_record.get("mode", "managed"))
        name = str(change_record.get("name", ""))
        module = str(change_record.get("module_address") or "")
        module_path = _MODULE_INDEX.sub("", module)
        local = f"{'data.' if mode == 'data' else ''}{rtype}.{name}"
        configured = config.resources.get((module_path, local), {})
        short = str(change_record.get("provider_name") or rtype).rsplit("/", 1)[-1]
        provider_key = str(configured.get("provider_config_key") or short)
        references = _references(configured.get("expressions") or {})
        after = change.get("after") or {}
        out.append(
            TfInstance(
                address=str(change_record.get("address", "")),
                mode=mode,
                type=rtype,
                name=name,
                module=module,
                provider=short,
                provider_key=provider_key,
                attributes=redact(
                    after if isinstance(after, dict) else {},
                    rtype,
                    sensitive_marks=change.get("after_sensitive"),
                ),
                unknown=frozenset(_unknown_paths(change.get("after_unknown"))),
                references=references or EMPTY_MAPPING,
                configured=frozenset(configured.get("expressions") or ()) if configured else None,
                provider_region=config.region_for(provider_key, short),
                action="-".join(actions) if actions else None,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# entry point


def parse_document(
    doc: JsonText,
    name: str,
    slim: Slimmer | None = None,
    second_process_from: int | None = None,
) -> ParsedDocument:
    """Parse one decoded file into instances, or raise :class:`InputError` naming it.

    A raw state v4 is streamed: with ``slim``, only slimmed copies of its instances are kept
    and the result can ``replay`` the full ones, one at a time, from the same bytes or text.
    One of ``second_process_from`` resources or more is read on two cores when it can.
    """
    from hds_audit.collectors.terraform.fast_state import Fallback, FastState, parse_fast

    try:
        return parse_fast(FastState.read(doc), doc, name, slim, second_process_from)
    except Fallback:
        pass
    cursor = JsonCursor(doc.text)
    top: dict[str, Any] = {}
    keep = _Kept(slim)
    streamed = keep.instances
    kept_whole = None if slim is None else slim.kept_whole
    resources_at: list[int] = []

    def stream_resources(pos: int) -> int:
        if top.get("version") not in (4, None):
            value, end = cursor.value(pos)
            top["resources"] = value
            return end
        resources_at.append(pos)
        return cursor.array(pos, lambda resource: _state_v4_instance(resource, keep, kept_whole))

    if not doc.text.startswith("{", doc.start):
        raise InputError(name, Msg("input.not_an_object"))
    try:
        end = cursor.object(doc.start, {"resources": stream_resources}, top)
        check_trailer(doc, end, name)
        parsed = interpret(top, keep.flush(), doc.notes, name)
    except json.JSONDecodeError as error:
        raise InputError(name, describe_json_error(error, doc)) from None
    except (ShapeError, RecursionError, AttributeError, TypeError, ValueError) as error:
        raise InputError(name, shape_problem(error)) from None
    if slim is not None and resources_at and parsed.instances is streamed:

        def replay(each: Callable[[TfInstance], None]) -> None:
            cursor.array(resources_at[0], lambda resource: _state_v4_instance(resource, each))

        parsed.replay = replay
    return parsed


def shape_problem(error: Exception) -> str:
    """The one-line problem of a file whose values have a shape the reader cannot use.

    Never the exception's own text for errors raised by Python (``int('...')`` quotes the
    value): only the kind of problem, and the resource when the reader knew it.
    """
    if isinstance(error, ShapeError):
        return Msg("input.unexpected_shape", error=error.problem)
    if isinstance(error, RecursionError):
        return Msg("input.too_deep")
    if isinstance(error, ValueError) and "digits" in str(error):
        return Msg("input.too_many_digits")
    return Msg("input.wrong_type", error=type(error).__name__)


_VERSION = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9}){0,3}")


def _version_text(value: Any) -> str:
    """A version number as written, or only its kind: a message never quotes other text."""
    text = str(value) if isinstance(value, int | float | str) else ""
    return text if _VERSION.fullmatch(text) else kind_of(value)


def interpret(
    top: dict[str, Any], streamed: list[TfInstance], notes: list[str], name: str
) -> ParsedDocument:
    """What a document is (its version members say), with its instances: ``streamed`` for a
    raw state v4, read from ``top`` for the other shapes; or :class:`InputError`."""
    tf_version = top.get("terraform_version")
    tf_version = tf_version if isinstance(tf_version, str) else None
    if "version" in top and "format_version" not in top:
        version = top["version"]
        if version == 4:
            return ParsedDocument(SourceKind.TERRAFORM_STATE, streamed, tf_version, notes)
        if version == 3 and isinstance(top.get("modules"), list):
            notes.append(Msg("note.legacy_v3"))
            instances = _state_v3_instances(top)
            return ParsedDocument(SourceKind.TERRAFORM_STATE, instances, tf_version, notes)
        raise InputError(name, Msg("input.state_version", version=_version_text(version)))
    if "format_version" in top:
        major = str(top["format_version"]).split(".", 1)[0]
        if major not in ("0", "1"):
            shown = _version_text(top["format_version"])
            raise InputError(name, Msg("input.format_too_new", version=shown))
        if major == "0":
            notes.append(Msg("note.format_0", version=_version_text(top["format_version"])))
        if "resource_changes" in top or "planned_values" in top:
            return ParsedDocument(
                SourceKind.TERRAFORM_PLAN, _plan_instances(top), tf_version, notes
            )
        if "values" in top:
            instances = _show_state_instances(top.get("values") or {})
            return ParsedDocument(SourceKind.TERRAFORM_STATE, instances, tf_version, notes)
        return ParsedDocument(SourceKind.TERRAFORM_STATE, [], tf_version, notes)
    raise InputError(
        name,
        Msg("input.no_version"),
    )
