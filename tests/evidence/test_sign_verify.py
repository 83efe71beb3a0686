"""Sign a report folder, verify it, and catch every kind of tampering (issue 19)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import jsonschema
import pytest
from evidence_helpers import (
    ATTESTATIONS,
    FIXTURES,
    PLAN,
    REPORT_FILES,
    STATE,
    UTF16,
    WAIVERS,
    Keys,
    Signed,
    keygen,
    signed_scan,
    verify,
)

from hds_audit.reports.json_report import schema_text
from hds_audit.testing import run_cli


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return keygen(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def signed_once(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Signed:
    out = tmp_path_factory.mktemp("signed") / "reports"
    result = signed_scan(
        out,
        keys,
        [PLAN, STATE, UTF16],
        "--attestations",
        str(ATTESTATIONS),
        "--waivers",
        str(WAIVERS),
    )
    assert result.exit_code in (0, 1), result.stderr  # findings are planted: 1 is expected
    return Signed(out, keys, result)


@pytest.fixture
def signed(tmp_path: Path, signed_once: Signed) -> Signed:
    """A copy of the signed report folder, for a test to tamper with."""
    folder = tmp_path / "reports"
    shutil.copytree(signed_once.folder, folder)
    return Signed(folder, signed_once.keys, signed_once.result)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(folder: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return data


def _flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle] = (data[middle] + 1) % 256
    path.write_bytes(bytes(data))


# -- signing -----------------------------------------------------------------------------------


def test_sign_then_verify_passes(signed: Signed) -> None:
    result = verify(signed.folder, signed.keys.public)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: signature valid")
    assert f"{len(REPORT_FILES)} report file(s)" in result.stdout
    assert result.stderr == ""


def test_the_manifest_lists_every_report_file_written_with_its_hash(signed: Signed) -> None:
    manifest = _manifest(signed.folder)
    files = manifest["files"]
    assert isinstance(files, list)
    assert [f["name"] for f in files] == list(REPORT_FILES)
    for entry in files:
        path = signed.folder / entry["name"]
        assert entry == {"name": path.name, "size": path.stat().st_size, "sha256": _sha256(path)}
    written = {p.name for p in signed.folder.iterdir()}
    assert written == {*REPORT_FILES, "manifest.json", "manifest.sig"}
    printed = [
        Path(line.removeprefix("Report: ")).name
        for line in signed.result.stdout.splitlines()
        if line.startswith("Report: ")
    ]
    # report.json first (the HTML shows its hash), the signature and the manifest last
    assert printed[0] == "report.json"
    assert sorted(printed[:-2]) == list(REPORT_FILES)
    assert printed[-2:] == ["manifest.sig", "manifest.json"]


def test_the_manifest_is_canonical_json_and_the_signature_raw_ed25519(signed: Signed) -> None:
    data = (signed.folder / "manifest.json").read_bytes()
    manifest = json.loads(data)
    canonical = json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    assert data == canonical.encode("utf-8")
    assert manifest["format"] == "hds-audit-manifest/1"
    assert len((signed.folder / "manifest.sig").read_bytes()) == 64
    run = manifest["run"]
    report = json.loads((signed.folder / "report.json").read_text(encoding="utf-8"))["run"]
    assert run["inputs"] == report["inputs"]
    assert run["policy_set_digest"] == report["policy_set"]["digest"]
    for key in ("registry_digest", "frameworks_digest", "audit_date", "tool_version"):
        assert run[key] == report[key], key


def test_the_signed_report_matches_the_json_schema(signed: Signed) -> None:
    report = json.loads((signed.folder / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, json.loads(schema_text()))
    assert report["schema_version"] == "1.7"


# -- tampering ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REPORT_FILES)
def test_one_byte_changed_in_any_report_file_fails_naming_it(signed: Signed, name: str) -> None:
    expected = _sha256(signed.folder / name)
    _flip_one_byte(signed.folder / name)
    result = verify(signed.folder, signed.keys.public)
    assert result.exit_code == 1
    actual = _sha256(signed.folder / name)
    assert result.stdout.splitlines() == [
        f"MISMATCH {name}: sha256 expected {expected}, actual {actual}",
        "Verification failed: 1 mismatch(es).",
    ]


def test_a_removed_file_fails(signed: Signed) -> None:
    expected = _sha256(signed.folder / "report.html")
    (signed.folder / "report.html").unlink()
    result = verify(signed.folder, signed.keys.public)
    assert result.exit_code == 1
    assert f"MISMATCH report.html: missing (expected sha256 {expected})" in result.stdout


def test_a_wrong_public_key_fails(signed: Signed, tmp_path: Path) -> None:
    other = keygen(tmp_path / "other")
    result = verify(signed.folder, other.public)
    assert result.exit_code == 1
    [line, verdict] = result.stdout.splitlines()
    assert line.startswith("MISMATCH manifest.sig: bad signature: manifest.json was not signed")
    assert verdict == "Verification failed: 1 mismatch(es)."


def test_a_manifest_rewritten_to_match_a_changed_file_fails(signed: Signed) -> None:
    """Changing a report and its hash in the manifest breaks the signature."""
    target = signed.folder / "report.json"
    _flip_one_byte(target)
    manifest = _manifest(signed.folder)
    files = manifest["files"]
    assert isinstance(files, list)
    for entry in files:
        if entry["name"] == "report.json":
            entry["sha256"] = _sha256(target)
    text = json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    (signed.folder / "manifest.json").write_text(text, encoding="utf-8")
    result = verify(signed.folder, signed.keys.public)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith("MISMATCH manifest.sig: bad signature")
    assert "report.json" not in result.stdout.splitlines()[0]


def test_a_changed_input_fails_naming_it(tmp_path: Path, keys: Keys) -> None:
    state = tmp_path / "inputs" / "terraform.tfstate"
    state.parent.mkdir()
    shutil.copyfile(STATE, state)
    out = tmp_path / "reports"
    assert signed_scan(out, keys, [state, PLAN], formats="json").exit_code in (0, 1)
    clean = verify(out, keys.public, "--inputs", str(state), str(PLAN))
    assert clean.exit_code == 0, clean.output
    assert "and 2 input file(s) match" in clean.stdout
    expected = _sha256(state)
    state.write_bytes(state.read_bytes().replace(b"eu-west-3", b"us-east-1", 1))
    result = verify(out, keys.public, "--inputs", str(state), str(PLAN))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"MISMATCH {state}: input sha256 expected {expected}, actual {_sha256(state)}",
        "Verification failed: 1 mismatch(es).",
    ]
    folder = verify(out, keys.public, "--inputs", str(state.parent))  # a folder of inputs
    assert folder.exit_code == 1
    assert f"MISMATCH {state}: input sha256 expected {expected}" in folder.stdout
    stranger = verify(out, keys.public, "--inputs", str(FIXTURES / "attestations.yaml"))
    assert stranger.exit_code == 1
    assert "attestations.yaml: not an input of this run" in stranger.stdout


def test_every_mismatch_is_one_line(signed: Signed, tmp_path: Path) -> None:
    other = keygen(tmp_path / "other")
    (signed.folder / "report.csv").unlink()
    _flip_one_byte(signed.folder / "report.md")
    result = verify(signed.folder, other.public)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "MISMATCH manifest.sig",
        "MISMATCH report.csv",
        "MISMATCH report.md",
        "Verification failed",
    ]


# -- usage and unreadable files: exit 2, one line ---------------------------------------------


def test_verify_usage_errors_are_one_line_exit_2(signed: Signed, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello\n", encoding="utf-8")
    cases = {
        "manifest.json: manifest not found": verify(empty, signed.keys.public),
        "no-such.pem: public key not found": verify(signed.folder, tmp_path / "no-such.pem"),
        "not-a-key.pem: not a PEM public key": verify(signed.folder, not_a_key),
    }
    (signed.folder / "manifest.sig").unlink()
    cases["manifest.sig: signature not found"] = verify(signed.folder, signed.keys.public)
    for expected, result in cases.items():
        assert result.exit_code == 2, expected
        assert result.stdout == ""
        [line] = result.stderr.splitlines()
        assert line.startswith("hds-audit: error: ") and expected in line, line
    usage = run_cli(["verify", str(signed.folder)])  # --public-key is required
    assert usage.exit_code == 2
    assert "--public-key" in usage.stderr


def test_a_private_key_given_as_public_key_is_refused(signed: Signed) -> None:
    result = verify(signed.folder, signed.keys.private)
    assert result.exit_code == 2
    assert result.stderr.startswith("hds-audit: error: ")
    assert _leaks(_key_material(signed.keys.private), result.output.encode()) == []


# -- the private key never leaves its file -----------------------------------------------------


def _key_material(private: Path) -> set[bytes]:
    """The private key as it could leak: the PEM, its base64 body, the DER, the raw 32 bytes
    (as bytes, hex and base64)."""
    pem = private.read_bytes()
    body = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
    der = base64.b64decode(body)
    raw = der[-32:]  # PKCS8 Ed25519: the 32-byte seed ends the structure
    return {pem, body, der, raw, raw.hex().encode(), base64.b64encode(raw).rstrip(b"=")}


def _leaks(material: set[bytes], data: bytes) -> list[bytes]:
    return [m for m in material if m in data]


def test_the_private_key_never_appears_in_any_output(tmp_path: Path) -> None:
    keys = keygen(tmp_path / "keys")
    material = _key_material(keys.private)
    out = tmp_path / "reports"
    scanned = signed_scan(out, keys, [PLAN, STATE])
    checked = verify(out, keys.public, "--inputs", str(PLAN))
    bad = run_cli(["scan", str(PLAN), "--output", str(tmp_path / "x"), "--sign-key", str(PLAN)])
    assert scanned.exit_code in (0, 1) and checked.exit_code == 0 and bad.exit_code == 2
    captured = [keys.output, scanned, checked, bad]
    for result in captured:
        assert _leaks(material, result.stdout.encode() + result.stderr.encode()) == []
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"report.json", "report.html", "manifest.json"}
    for path in files:
        assert _leaks(material, path.read_bytes()) == [], path
    assert "PRIVATE KEY" not in (out / "report.json").read_text(encoding="utf-8")
    # the key file itself is only ever read: no copy beside the reports or the key
    assert sorted(p.name for p in keys.private.parent.iterdir()) == [
        "hds-audit-signing.key.pem",
        "hds-audit-signing.pub.pem",
    ]


# -- keygen ------------------------------------------------------------------------------------


def test_keygen_writes_a_0600_pkcs8_private_key_and_a_spki_public_key(tmp_path: Path) -> None:
    keys = keygen(tmp_path / "new" / "keys")
    assert stat.S_IMODE(keys.private.stat().st_mode) == 0o600
    assert keys.private.read_text(encoding="ascii").startswith("-----BEGIN PRIVATE KEY-----\n")
    assert keys.public.read_text(encoding="ascii").startswith("-----BEGIN PUBLIC KEY-----\n")
    assert f"Private key: {keys.private}" in keys.output.stdout
    again = run_cli(["keygen", str(keys.private.parent)])
    assert again.exit_code == 2
    assert "already exists; keygen never overwrites a key" in again.stderr


def test_keygen_mode_holds_under_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        keys = keygen(tmp_path / "keys")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(keys.private.stat().st_mode) == 0o600


# -- a bad signing key stops the run before anything is written --------------------------------


def test_a_bad_signing_key_is_exit_2_before_any_scan(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    missing = run_cli(["scan", str(PLAN), "--output", str(out), "--sign-key", "nokey.pem"])
    assert missing.exit_code == 2
    assert missing.stderr == "hds-audit: error: nokey.pem: signing key not found\n"
    public = keygen(tmp_path / "keys").public
    wrong = run_cli(["scan", str(PLAN), "--output", str(out), "--sign-key", str(public)])
    assert wrong.exit_code == 2
    assert "not a PEM private key" in wrong.stderr
    assert not out.exists()


# -- any standard tool -------------------------------------------------------------------------

OPENSSL = shutil.which("openssl")


@pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
def test_openssl_verifies_the_signature_and_the_key_fingerprint(signed: Signed) -> None:
    assert OPENSSL is not None
    command = [
        OPENSSL,
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        str(signed.keys.public),
        "-rawin",
        "-in",
        str(signed.folder / "manifest.json"),
        "-sigfile",
        str(signed.folder / "manifest.sig"),
    ]
    good = subprocess.run(command, capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stderr
    assert "Signature Verified Successfully" in good.stdout
    der = subprocess.run(
        [OPENSSL, "pkey", "-pubin", "-in", str(signed.keys.public), "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    assert hashlib.sha256(der).hexdigest() == _manifest(signed.folder)["signing_key_sha256"]
    _flip_one_byte(signed.folder / "manifest.json")
    bad = subprocess.run(command, capture_output=True, text=True, check=False)
    assert bad.returncode != 0


# -- the HTML report's integrity annex -------------------------------------------------------


def _annex(html: str) -> str:
    start = html.index('<section class="sheet" id="evidence">')
    return html[start : html.index("</section>", start)]


def test_the_annex_shows_report_json_and_key_fingerprints(signed: Signed) -> None:
    annex = _annex((signed.folder / "report.html").read_text(encoding="utf-8"))
    report_sha256 = hashlib.sha256((signed.folder / "report.json").read_bytes()).hexdigest()
    manifest = json.loads((signed.folder / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["name"]: f["sha256"] for f in manifest["files"]}
    assert listed["report.json"] == report_sha256  # the printed hash is the signed one
    assert report_sha256 in annex
    assert manifest["signing_key_sha256"] in annex
    assert "Annexe — preuve d&#39;intégrité" in annex  # French by default
    assert "hds-audit verify" in annex and "openssl pkeyutl -verify" in annex
    run = json.loads((signed.folder / "report.json").read_text(encoding="utf-8"))["run"]
    for digest in (run["policy_set"]["digest"], run["registry_digest"], run["frameworks_digest"]):
        assert digest in annex


@pytest.mark.parametrize(
    ("lang", "heading", "unsigned"),
    [
        ("fr", "Annexe — preuve d&#39;intégrité", "Ce rapport n&#39;est pas signé"),
        ("en", "Appendix — integrity evidence", "This report is not signed"),
    ],
)
def test_the_annex_in_both_languages_signed_or_not(
    tmp_path: Path, keys: Keys, lang: str, heading: str, unsigned: str
) -> None:
    signed = tmp_path / "signed"
    assert signed_scan(signed, keys, [PLAN], "--lang", lang, formats="html").exit_code in (0, 1)
    annex = _annex((signed / "report.html").read_text(encoding="utf-8"))
    assert heading in annex and unsigned not in annex
    plain = tmp_path / "plain"
    args = ["scan", str(PLAN), "-o", str(plain), "--format", "html", "--lang", lang]
    assert run_cli([*args, "--no-history"]).exit_code in (0, 1)
    annex = _annex((plain / "report.html").read_text(encoding="utf-8"))
    assert heading in annex and unsigned in annex
    assert "hds-audit verify" not in annex
