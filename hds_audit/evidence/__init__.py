"""The evidence pack: what a run read, what it wrote, and a signature a certifier can check.

``inputs`` fingerprints every file a run reads (path, kind, size, sha256 of the bytes read);
``keys`` makes and loads Ed25519 keys; ``manifest`` lists the report files written and signs
that list; ``verify`` checks a report folder against its signed manifest. No module here
imports the CLI; only ``keys``, ``manifest`` and ``verify`` need ``cryptography``.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from hds_audit.errors import UsageError

if TYPE_CHECKING:
    from hds_audit.evidence.keys import Signer


def key_module() -> ModuleType:
    """:mod:`hds_audit.evidence.keys`; a one-line UsageError when ``cryptography`` is missing."""
    try:
        from hds_audit.evidence import keys
    except ImportError:
        raise UsageError(
            "signing and verifying need the 'cryptography' package: pip install 'hds-audit[sign]'"
        ) from None
    return keys


def open_signer(path: str | None) -> Signer | None:
    """The signing key at ``path`` (``--sign-key`` / ``sign_key``), checked before any scan;
    ``None`` when no key is given."""
    return None if path is None else key_module().load_signer(path)
