"""Helpers for the report tests: a small HTML reader and the headless chromium runner."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import yaml

# Tags that separate words the way a browser lays them out (cells, lines, blocks).
_BREAKS = frozenset(
    {"br", "caption", "dd", "div", "dt", "h1", "h2", "h3", "h4", "li", "p", "summary", "td", "th"}
)
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class Page(HTMLParser):
    """Parse once; ``tags`` lists start tags, ``texts`` the visible text (entities decoded)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.texts: list[str] = []
        self._ids: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)
        self.close()

    def _break(self, tag: str) -> None:
        if tag in _BREAKS:
            self.handle_data(" ")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._break(tag)
        self.attrs.extend((tag, name, value) for name, value in attrs)
        if tag in _VOID:
            return
        element_id = dict(attrs).get("id")
        if element_id is not None:
            self._ids[element_id] = []
        self._open.append((tag, element_id))

    def handle_endtag(self, tag: str) -> None:
        self._break(tag)
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        if any(tag in ("style", "title") for tag, _ in self._open):
            return  # not text a reader sees on the page
        self.texts.append(data)
        for _, element_id in self._open:
            if element_id is not None:
                self._ids[element_id].append(data)

    def text(self, element_id: str | None = None) -> str:
        """Text of the element with ``element_id`` (the whole page if None), spaces collapsed."""
        parts = self.texts if element_id is None else self._ids[element_id]
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    def has_id(self, element_id: str) -> bool:
        return element_id in self._ids


@dataclass(frozen=True)
class Chromium:
    """Debian's headless chromium, run offline with a throwaway profile."""

    binary: str
    profile: Path

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
        command = [
            self.binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={self.profile}",
            *args,
        ]
        return subprocess.run(command, capture_output=True, timeout=timeout, check=False)


# --------------------------------------------------------------------------- English in French

_WORD_LISTS = yaml.safe_load(
    (Path(__file__).parent / "language_words.yaml").read_text(encoding="utf-8")
)
_ENGLISH_COMMON = frozenset(_WORD_LISTS["english"].split())
_FRENCH = frozenset(_WORD_LISTS["french"].split())
_WORD = re.compile(r"[A-Za-zÀ-ÿ'’]+")


class _Visible(HTMLParser):
    """Visible text, split into prose, code (``pre``/``code``) and quotations in English
    (elements with ``lang="en"``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.prose: list[str] = []
        self.code: list[str] = []
        self.quoted: list[str] = []
        self._open: list[tuple[str, bool]] = []  # (tag, marked English)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.prose.append(" ")
        if tag not in _VOID:
            self._open.append((tag, tag != "html" and dict(attrs).get("lang") == "en"))

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAKS:
            self.prose.append(" ")
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        tags = {tag for tag, _ in self._open}
        if tags & {"style", "title", "script"}:
            return
        if any(english for _, english in self._open):
            self.quoted.append(data)
        elif tags & {"pre", "code"}:
            self.code.append(data)
        else:
            self.prose.append(data)


def _words(texts: list[str]) -> list[str]:
    # Identifiers (ids, paths, ARNs, attribute names) are values, not language: skip tokens
    # holding a digit, a dot, an underscore, a slash, a colon, an equals sign or a hyphen
    # (resource names such as cmk-tde), and acronyms and codes in capitals (US, EXI).
    out = []
    for token in "".join(texts).split():
        token = token.strip("()[]{},;!?«»\"'“”—–-…")
        if not token or re.search(r"[\d._/:=@#-]", token) or token.isupper():
            continue
        out.extend(_WORD.findall(token))
    return out


@dataclass(frozen=True)
class EnglishWords:
    """English words found in a French page: in its prose, in code, in labelled quotations."""

    prose: list[str]
    code: list[str]
    quoted: list[str]


def english_words(html: str, vocabulary: frozenset[str]) -> EnglishWords:
    """The words of ``html``'s visible text that are English (in ``vocabulary``, lowercased).

    ``english_vocabulary()`` gives the vocabulary; keep it out of this function so a test can
    print how it was measured.
    """
    page = _Visible()
    page.feed(html)
    page.close()

    def pick(texts: list[str]) -> list[str]:
        return [w for w in _words(texts) if w.lower() in vocabulary]

    return EnglishWords(pick(page.prose), pick(page.code), pick(page.quoted))


def english_vocabulary(english: list[str], french: list[str]) -> frozenset[str]:
    """English words: the common ones plus those of the ``english`` texts (the catalogues),
    less every word the ``french`` texts use (``source``, ``région``, ``total`` ...)."""
    french_words = {w.lower() for w in _words(french)}
    english_words_ = {w.lower() for w in _words(english)} | _ENGLISH_COMMON
    return frozenset(w for w in english_words_ - french_words - _FRENCH if len(w) > 1)
