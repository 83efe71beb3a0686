"""``--shard i/n``: a stable slice of the accounts, subscriptions and files of a run.

A scope belongs to shard ``1 + sha256(key) mod n``: the same key lands in the same shard on
every machine and every night, whatever else is audited, so a CI matrix or a job array can
split the work and ``hds-audit merge`` can check that every slice came back.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from hds_audit.errors import UsageError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class Shard:
    """Slice ``index`` (1-based) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str, where: str = "--shard") -> Shard:
        """``3/16`` -> Shard(3, 16); one-line UsageError otherwise."""
        match = _SHARD.match(text)
        if match is None:
            raise UsageError(f"{where}: {text!r} is not a shard (I/N, e.g. 3/16)")
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1 or not 1 <= index <= count:
            raise UsageError(f"{where}: {text!r}: the shard number must be from 1 to {count}")
        return cls(index, count)

    def owns(self, key: str) -> bool:
        """Whether the scope named ``key`` (``aws:123456789012``, ``azure:<id>``) is ours."""
        return shard_of(key, self.count) == self.index

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(key: str, count: int) -> int:
    """The 1-based shard ``key`` belongs to among ``count``."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count
