"""Checkov-style conditions compiled to closures, judged with three-valued logic.

A leaf compares the values at one attribute path with an operator (Checkov's operator
names). Any unknown value makes the leaf unknown unless another value already fails it.
``and`` fails if any child fails, else is unknown if any is; ``or`` passes if any child
passes, else is unknown if any is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import re2

from hds_audit.engine.paths import EvaluationContext, Resolver
from hds_audit.i18n import Msg, join
from hds_audit.model import Evidence, Resource, Status

MISSING: Any = object()  # an absent raw attribute, as operators see it

Outcome = tuple[Status, tuple[Evidence, ...], str | None]
Condition = Callable[[Resource, EvaluationContext], Outcome]


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return [value]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(value: Any, expected: Any, test: Callable[[float, float], bool]) -> bool:
    left, right = _number(value), _number(expected)
    return left is not None and right is not None and test(left, right)


def _subset(value: Any, expected: Any) -> bool:
    """Every item of ``value`` is in ``expected`` (items may be unhashable: lists, maps)."""
    allowed = _as_list(expected)
    return all(item in allowed for item in _as_list(value))


def _intersects(value: Any, expected: Any) -> bool:
    allowed = _as_list(expected)
    return any(item in allowed for item in _as_list(value))


def _is_empty(value: Any) -> bool:
    return (
        value is MISSING or value in ("", None) or (hasattr(value, "__len__") and len(value) == 0)
    )


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad pattern is reported once, as a policy error


@lru_cache(maxsize=1024)
def compile_regex(pattern: str) -> Any:
    """A policy's pattern compiled with RE2: matching takes time linear in the text, so a
    pattern like ``^(a+)+$`` cannot hang a run (Python's ``re`` backtracks exponentially).

    RE2 has no backreferences or lookarounds; raises :class:`ValueError` for such a pattern
    or an invalid one.
    """
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as error:
        detail = error.args[0] if error.args else error
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise ValueError(str(detail)) from None


def _search(pattern: Any, value: Any) -> bool:
    return compile_regex(_text(pattern)).search(_text(value)) is not None


# Each operator: (value, expected) -> bool. ``value`` may be MISSING (absent raw attribute).
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": lambda v, e: v is not MISSING and v == e,
    "not_equals": lambda v, e: v != e,
    "exists": lambda v, e: v is not MISSING and v is not None,
    "not_exists": lambda v, e: v is MISSING or v is None,
    "is_true": lambda v, e: v is True or (isinstance(v, str) and v.lower() == "true"),
    "is_false": lambda v, e: v is False or (isinstance(v, str) and v.lower() == "false"),
    "is_empty": lambda v, e: _is_empty(v),
    "is_not_empty": lambda v, e: not _is_empty(v),
    "contains": lambda v, e: v is not MISSING and e in _as_list(v),
    "not_contains": lambda v, e: v is MISSING or e not in _as_list(v),
    "within": lambda v, e: v is not MISSING and v in _as_list(e),
    "not_within": lambda v, e: v is MISSING or v not in _as_list(e),
    "starting_with": lambda v, e: v is not MISSING and _text(v).startswith(_text(e)),
    "not_starting_with": lambda v, e: v is MISSING or not _text(v).startswith(_text(e)),
    "ending_with": lambda v, e: v is not MISSING and _text(v).endswith(_text(e)),
    "not_ending_with": lambda v, e: v is MISSING or not _text(v).endswith(_text(e)),
    "regex_match": lambda v, e: v is not MISSING and _search(e, v),
    "not_regex_match": lambda v, e: v is MISSING or not _search(e, v),
    "greater_than": lambda v, e: _compare(v, e, lambda a, b: a > b),
    "greater_than_or_equal": lambda v, e: _compare(v, e, lambda a, b: a >= b),
    "less_than": lambda v, e: _compare(v, e, lambda a, b: a < b),
    "less_than_or_equal": lambda v, e: _compare(v, e, lambda a, b: a <= b),
    "subset": lambda v, e: v is not MISSING and _subset(v, e),
    "not_subset": lambda v, e: v is MISSING or not _subset(v, e),
    "intersects": lambda v, e: v is not MISSING and _intersects(v, e),
    "not_intersects": lambda v, e: v is MISSING or not _intersects(v, e),
    "length_equals": lambda v, e: v is not MISSING and _compare(len(_as_list(v)), e, float.__eq__),
    "length_greater_than": lambda v, e: (
        v is not MISSING and _compare(len(_as_list(v)), e, float.__gt__)
    ),
    "length_less_than": lambda v, e: (
        v is not MISSING and _compare(len(_as_list(v)), e, float.__lt__)
    ),
}
# Operators whose ``value`` is a regular expression (checked when the policy loads).
REGEX = {"regex_match", "not_regex_match"}
# Operators that need no ``value`` in the policy.
UNARY = {"exists", "not_exists", "is_true", "is_false", "is_empty", "is_not_empty"}


def leaf(resolver: Resolver, operator: str, expected: Any) -> Condition:
    """Compile one attribute condition."""
    test = OPERATORS[operator]

    def judge(resource: Resource, ctx: EvaluationContext) -> Outcome:
        evidence = resolver(resource, ctx)
        if len(evidence) == 1:  # most paths: one value (the loop below, unrolled)
            item = evidence[0]
            if item.unknown:
                return Status.UNKNOWN, evidence, item.note or None
            if (item.missing and item.path.startswith("replicas.")) or test(
                MISSING if item.missing else item.value, expected
            ):
                return Status.PASS, evidence, None
            return Status.FAIL, evidence, None
        notes: list[str] = []  # the unknown notes, each once (one that repeats a part of
        failed = False  # the reason so far is left out, as the text shows it once already)
        unknown = False
        for item in evidence:
            if item.unknown:
                unknown = True
                if item.note and not any(item.note in note for note in notes):
                    notes.append(item.note)
            elif item.missing and item.path.startswith("replicas."):
                continue  # no copy at all: nothing can be outside the area
            elif not test(MISSING if item.missing else item.value, expected):
                failed = True
        if failed:
            return Status.FAIL, evidence, None
        if unknown:
            return Status.UNKNOWN, evidence, join(notes) if notes else None
        return Status.PASS, evidence, None

    return judge


def _merge(reasons: list[str]) -> str | None:
    return join(dict.fromkeys(reasons)) or None


def _combine(children: Sequence[Condition], decisive: Status, otherwise: Status) -> Condition:
    """``and`` (a fail decides, else pass) and ``or`` (a pass decides, else fail); any
    unknown child, when nothing decided, makes the whole unknown."""

    def judge(resource: Resource, ctx: EvaluationContext) -> Outcome:
        evidence: list[Evidence] = []
        reasons: list[str] = []
        for child in children:
            status, child_evidence, reason = child(resource, ctx)
            evidence.extend(child_evidence)
            if status is decisive:
                return decisive, tuple(evidence), None
            if status is Status.UNKNOWN:
                reasons.append(reason or Msg("evidence.unknown_bare"))
        if reasons:
            return Status.UNKNOWN, tuple(evidence), _merge(reasons)
        return otherwise, tuple(evidence), None

    return judge


def all_of(children: Sequence[Condition]) -> Condition:
    return _combine(children, Status.FAIL, Status.PASS)


def any_of(children: Sequence[Condition]) -> Condition:
    return _combine(children, Status.PASS, Status.FAIL)


def negate(child: Condition) -> Condition:
    def judge(resource: Resource, ctx: EvaluationContext) -> Outcome:
        status, evidence, reason = child(resource, ctx)
        if status is Status.PASS:
            return Status.FAIL, evidence, None
        if status is Status.FAIL:
            return Status.PASS, evidence, None
        return status, evidence, reason

    return judge
