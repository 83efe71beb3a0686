"""Helpers for the report tests: a small HTML reader and the headless chromium runner."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

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
