"""Ed25519 keys for signing a report's manifest (``cryptography``, the ``sign`` extra).

The private key is read from its PEM file when needed and kept in memory only: it is never
copied, logged or echoed, and error messages name the file, never its content.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from hds_audit.errors import UsageError

PRIVATE_KEY_NAME = "hds-audit-signing.key.pem"
PUBLIC_KEY_NAME = "hds-audit-signing.pub.pem"


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: {what} not found") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read the {what}: {error.strerror}") from None


def public_key_fingerprint(key: Ed25519PublicKey) -> str:
    """sha256 of the key's SubjectPublicKeyInfo (DER), in hex.

    The same as ``openssl pkey -pubin -in PUB.pem -outform DER | sha256sum``.
    """
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class Signer:
    """A loaded private key: signs bytes; knows its public key's fingerprint."""

    _key: Ed25519PrivateKey
    path: str

    def __repr__(self) -> str:  # never show the key, even in a debugger or a traceback
        return f"Signer(path={self.path!r})"

    @property
    def fingerprint(self) -> str:
        return public_key_fingerprint(self._key.public_key())

    def sign(self, data: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``data``."""
        return self._key.sign(data)


def load_signer(path: str | Path) -> Signer:
    """The Ed25519 private key in ``path`` (PEM, PKCS8, unencrypted); one-line UsageError."""
    data = _read(path, "signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise UsageError(
            f"{path}: the signing key is encrypted; give an unencrypted PEM key "
            "(hds-audit keygen writes one, readable by its owner only)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise UsageError(f"{path}: not a PEM private key (hds-audit keygen writes one)") from None
    finally:
        del data
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{path}: the signing key must be an Ed25519 key")
    return Signer(key, str(path))


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """The Ed25519 public key in ``path`` (SubjectPublicKeyInfo PEM); one-line UsageError."""
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise UsageError(f"{path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{path}: the public key must be an Ed25519 key")
    return key


def signature_valid(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is ``key``'s Ed25519 signature of ``data``."""
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def generate_key_pair(directory: str | Path) -> tuple[Path, Path]:
    """Write a new key pair into ``directory``: the private key (PKCS8 PEM, mode 0600) and
    the public key (SubjectPublicKeyInfo PEM). Existing files are never overwritten."""
    folder = Path(directory)
    private_path, public_path = folder / PRIVATE_KEY_NAME, folder / PUBLIC_KEY_NAME
    for path in (private_path, public_path):
        if path.exists():
            raise UsageError(f"{path}: already exists; keygen never overwrites a key")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Created 0600 from the start (O_EXCL: never through an existing file or link).
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as stream:
            os.fchmod(stream.fileno(), 0o600)  # whatever the umask
            stream.write(private_pem)
        public_path.write_bytes(public_pem)
    except OSError as error:
        raise UsageError(f"{folder}: cannot write the key pair: {error.strerror}") from None
    return private_path, public_path
