"""``hds-audit keygen`` and ``hds-audit verify``: the evidence pack a certifier checks.

The work is done by :mod:`hds_audit.evidence`; ``scan`` and ``merge`` sign with
``--sign-key`` (:data:`hds_audit.cli.common.SIGN_KEY_OPTION`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hds_audit.cli.common import _fail
from hds_audit.errors import HdsAuditError

VERIFY_EXIT = (
    "Exit codes: 0 the signature and every file match; 1 a mismatch (one line each); "
    "2 usage error or a file that cannot be read."
)


@click.command("keygen")
@click.argument("directory", type=click.Path(file_okay=False))
def keygen(directory: str) -> None:
    """Write an Ed25519 key pair into DIRECTORY for `scan --sign-key`.

    The private key (PKCS8 PEM) is readable by its owner only (mode 0600); give the public
    key (SubjectPublicKeyInfo PEM) to whoever verifies the reports. Never overwrites a key.
    """
    from hds_audit.evidence import key_module

    try:
        keys = key_module()
        private, public = keys.generate_key_pair(directory)
        fingerprint = keys.public_key_fingerprint(keys.load_public_key(public))
    except HdsAuditError as error:
        _fail(error)
        return
    click.echo(f"Private key: {private} (mode 0600; keep it secret, pass it to --sign-key)")
    click.echo(f"Public key:  {public} (give it to the certifier)")
    click.echo(f"Public key sha256: {fingerprint}")


@click.command("verify", epilog=VERIFY_EXIT)
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "--public-key",
    required=True,
    type=click.Path(dir_okay=False),
    help="The signer's Ed25519 public key (PEM).",
)
@click.option(
    "--inputs",
    "inputs",
    multiple=True,
    type=click.Path(),
    help="Input file or folder the run read: re-hashed and compared with the run's inputs. "
    "Repeatable; extra paths after it are taken too.",
)
@click.argument("more_inputs", nargs=-1, type=click.Path(), metavar="[PATH]...")
def verify(
    directory: str, public_key: str, inputs: tuple[str, ...], more_inputs: tuple[str, ...]
) -> None:
    """Check that the reports in DIRECTORY are exactly what a signed run wrote.

    Verifies manifest.sig over manifest.json with the public key, the sha256 of every report
    file the manifest lists and, with --inputs, of the inputs the run recorded.
    """
    from hds_audit.evidence import key_module

    try:
        key_module()  # a clear message when cryptography is missing
        from hds_audit.evidence.verify import verify_pack

        verdict = verify_pack(Path(directory), Path(public_key), [*inputs, *more_inputs])
    except HdsAuditError as error:
        _fail(error)
        return
    for line in verdict.mismatches:
        click.echo(f"MISMATCH {line}")
    if not verdict.ok:
        click.echo(f"Verification failed: {len(verdict.mismatches)} mismatch(es).")
        sys.exit(1)
    checked = f"{verdict.files} report file(s)" + (
        f" and {verdict.inputs} input file(s)" if verdict.inputs else ""
    )
    click.echo(
        f"OK: signature valid (key sha256 {verdict.key_fingerprint}); "
        f"{checked} match the signed manifest."
    )
