"""Messages that know their key: rendered in English where they are made, in any language where
they are read.

A producer (engine, registry facts, collectors) writes ``Msg("collect.not_set", attribute=x)``. The
value *is* the English text, so report.json, SARIF, baselines and every other consumer see the
same string as before; the HTML report and the CLI render it again in the reader's language
(``render(value, "fr")``). A plain ``str`` is shown as is. The templates live in
``messages.<lang>.yaml`` beside this module; this module imports nothing from the package, so
engine, providers and collectors may all use it.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources as package_files
from types import MappingProxyType
from typing import Any, Final

import yaml

__all__ = [
    "LANGS",
    "PLAIN",
    "Msg",
    "Quote",
    "Style",
    "format_date",
    "from_data",
    "join",
    "messages",
    "placeholders",
    "render",
    "text",
    "to_data",
]

LANGS: Final[tuple[str, ...]] = ("en", "fr")
_JOIN: Final = "_join"  # the reserved key of a joined list of messages
_MONTHS_FR: Final = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def load_catalogue(package: str, source: str) -> Mapping[str, str]:
    """A YAML file of nested string mappings in ``package``, as flat dotted keys."""
    text = package_files.files(package).joinpath(source).read_text(encoding="utf-8")
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: expected a mapping of strings")
    flat: dict[str, str] = {}
    _flatten(data, "", flat, source)
    return MappingProxyType(flat)


def _flatten(data: Mapping[str, Any], prefix: str, out: dict[str, str], source: str) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, name + ".", out, source)
        elif isinstance(value, str):
            out[name] = value
        else:
            raise ValueError(f"{source}: {name}: expected a string, got {type(value).__name__}")


@functools.cache
def messages(lang: str) -> Mapping[str, str]:
    """The message templates of ``lang`` as flat dotted keys (``host.unknown``)."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r} (expected one of {LANGS})")
    return load_catalogue(__name__, f"messages.{lang}.yaml")


def placeholders(template: str) -> frozenset[str]:
    """The ``{names}`` a template uses."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def format_date(value: date, lang: str) -> str:
    """A date as the reader's language writes it: ``2026-12-01`` / ``1 décembre 2026``."""
    if isinstance(value, datetime):
        value = value.date()
    if lang == "fr":
        day = "1er" if value.day == 1 else str(value.day)
        return f"{day} {_MONTHS_FR[value.month - 1]} {value.year}"
    return value.isoformat()


class Quote(str):
    """Text quoted from a source in its own (English) language: never translated, and shown
    as a labelled quotation in another language."""

    __slots__ = ()


_BARE: dict[str, Msg] = {}


class Msg(str):
    """A message: its English text, plus the ``key`` and ``params`` to render it again.

    Compares, hashes, pickles and serialises as its English text.
    """

    __slots__ = ("key", "params")
    key: str
    params: Mapping[str, object]

    def __new__(cls, key: str, /, **params: object) -> Msg:
        if not params:  # one shared instance per key without parameters
            found = _BARE.get(key)
            if found is not None:
                return found
        self = super().__new__(cls, _render(key, params, "en", PLAIN))
        self.key = key
        self.params = params
        if not params:
            _BARE[key] = self
        return self

    def __reduce__(self) -> tuple[Callable[..., Msg], tuple[Any, ...]]:
        return _rebuild, (self.key, tuple(self.params.items()))

    def render(self, lang: str, style: Style | None = None) -> str:
        """This message in ``lang`` (``style``: how to mark it up, plain text by default)."""
        return _render(self.key, self.params, lang, style or PLAIN)


@dataclass(frozen=True, slots=True)
class Style:
    """How a rendering is marked up: ``text`` turns catalogue text into the output type
    (``markupsafe.escape`` for HTML, whose ``format_map`` then escapes every value), ``quote``
    wraps a quotation of an English source."""

    text: Callable[[str], str]
    quote: Callable[[str], str]


PLAIN: Final = Style(text=lambda text: text, quote=lambda text: text)


def _rebuild(key: str, items: tuple[tuple[str, object], ...]) -> Msg:
    return Msg(key, **dict(items))


def join(parts: Iterable[str]) -> str:
    """``"; ".join(parts)``, rendered with the separator of the reader's language
    (``join.separator``) when any part is a ``Msg``."""
    items = tuple(parts)
    if len(items) == 1:
        return items[0]
    if not any(isinstance(p, Msg) for p in items):
        return "; ".join(items)
    return Msg(_JOIN, parts=items)


def text(key: str, lang: str, /, **params: object) -> str:
    """The catalogue's ``key`` in ``lang`` with ``params`` (labels outside findings)."""
    return _render(key, params, lang, PLAIN)


def render(value: object, lang: str, style: Style | None = None) -> str:
    """``value`` in ``lang``: a ``Msg`` is rendered from the catalogue, a ``Quote`` outside
    English is labelled as a quotation, anything else is shown as is."""
    if style is None and lang == "en" and type(value) is Msg:
        return str(value)  # a message is its English text, rendered when it was made
    style = style or PLAIN
    if isinstance(value, Quote) and lang != "en":
        return _render("quote.standalone", {"text": value}, lang, style)
    return _value(value, lang, style)


def _value(value: object, lang: str, style: Style) -> str:
    if isinstance(value, Msg):
        return _render(value.key, value.params, lang, style)
    if isinstance(value, Quote):
        return style.quote(value) if lang != "en" else style.text(value)
    if isinstance(value, date):
        return style.text(format_date(value, lang))
    if isinstance(value, tuple):  # a list of values: "stockage objet, stockage bloc"
        separator = style.text(messages(lang)["list.separator"])
        return separator.join(_value(item, lang, style) for item in value)
    return style.text("" if value is None else str(value))


def _render(key: str, params: Mapping[str, object], lang: str, style: Style) -> str:
    if key == _JOIN:
        parts = params["parts"]
        assert isinstance(parts, tuple)
        separator = messages(lang)["join.separator"]
        return style.text(separator).join(_value(p, lang, style) for p in parts)
    template = messages(lang).get(key)
    if template is None:
        template = messages("en")[key]  # KeyError: a key missing from the catalogue
    values = {name: _value(v, lang, style) for name, v in params.items()}
    return style.text(template).format_map(values)


def to_data(value: object) -> object:
    """``value`` as JSON data that :func:`from_data` turns back into it: a ``Msg`` as
    ``{"key", "params"}``, a ``Quote`` as ``{"quote"}``, a date as ``{"date"}``, a tuple of
    parts as ``{"list"}``; other values as they are."""
    if isinstance(value, Msg):
        return {"key": value.key, "params": {n: to_data(v) for n, v in value.params.items()}}
    if isinstance(value, Quote):
        return {"quote": str(value)}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, tuple | list):
        return {"list": [to_data(v) for v in value]}
    return value


def from_data(data: object) -> object:
    """The value :func:`to_data` wrote (``ValueError``/``KeyError`` on anything else)."""
    if not isinstance(data, Mapping):
        return data
    if "key" in data:
        params = data.get("params") or {}
        if not isinstance(params, Mapping):
            raise ValueError("message params must be a mapping")
        return Msg(str(data["key"]), **{str(n): from_data(v) for n, v in params.items()})
    if "quote" in data:
        return Quote(str(data["quote"]))
    if "date" in data:
        return date.fromisoformat(str(data["date"]))
    if "list" in data and isinstance(data["list"], list):
        return tuple(from_data(v) for v in data["list"])
    raise ValueError(f"not a message: {data!r}")


#: Keys written in code as ``Msg("<key>"`` (the completeness test scans for this).
MSG_CALL: Final = re.compile(r"""\bMsg\(\s*["']([A-Za-z0-9_.]+)["']""")
