"""The run history: SQLite (WAL, user_version migrations, transactions), two concurrent writers,
a run killed halfway, a database from a newer schema, `history list` / `history diff`, and
the trend in the HTML report."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import (
    ENCRYPTED,
    ENCRYPTION_POLICY,
    HOSTILE,
    PLAIN,
    cli,
    read_json,
    scan,
    terraform_file,
)

from hds_audit.history.store import (
    APPLICATION_ID,
    HistoryError,
    HistoryStore,
    Migration,
    builtin_migrations,
)
from hds_audit.reports.json_report import write_json
from hds_audit.testing import Spec

WORKER = Path(__file__).resolve().parent / "history_worker.py"
FIXED_PLAIN = Spec("aws_ebs_volume", "plain", dict(ENCRYPTED.attributes))


def _worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=WORKER.parent,
    )


def _wait_for(process: subprocess.Popen[str], word: str, timeout: float = 60) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.strip() == word:
            return
        if not line and process.poll() is not None:
            raise AssertionError(f"worker ended: {process.stderr.read() if process.stderr else ''}")
    raise AssertionError(f"worker never said {word!r}")


def _check_db(path: Path) -> list[tuple[int, int, int]]:
    """Integrity, and every run's stored count equals its rows: (id, stored, rows)."""
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute(
            "SELECT r.id, r.stored, (SELECT count(*) FROM run_findings f WHERE f.run_id = r.id) "
            "FROM runs r ORDER BY r.id"
        ).fetchall()
    conn.close()
    for _, stored, count in rows:
        assert stored == count
    return rows


# --------------------------------------------------------------------------- schema


def test_new_database_is_wal_versioned_and_marked(tmp_path: Path) -> None:
    db = tmp_path / "h" / "history.sqlite"
    store = HistoryStore(db)
    store.record(scan(terraform_file(tmp_path, "s.tfstate", [PLAIN])))
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(builtin_migrations())
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    assert [r.id for r in store.runs()] == [1]


def test_migrations_run_in_order_and_a_failing_one_rolls_back(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    v1 = builtin_migrations()
    HistoryStore(db, migrations=v1).record(scan(terraform_file(tmp_path, "s.tfstate", [PLAIN])))
    broken = Migration(2, "0002_broken.sql", "CREATE TABLE extra (x);\nNOT SQL AT ALL;\n")
    with pytest.raises(HistoryError, match="not a usable history database"):
        HistoryStore(db, migrations=[*v1, broken]).runs()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert "extra" not in tables, "the failed migration left nothing behind"
    good = Migration(2, "0002_label.sql", "ALTER TABLE runs ADD COLUMN label TEXT;\n")
    upgraded = HistoryStore(db, migrations=[*v1, good])
    assert [r.id for r in upgraded.runs()] == [1], "data kept across the migration"
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    conn.close()


def test_newer_schema_is_a_clear_one_line_error(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    HistoryStore(db).check()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    state = terraform_file(tmp_path, "s.tfstate", [PLAIN])
    out = tmp_path / "out"
    result = cli("scan", str(state), "-o", str(out), "--history", str(db))
    assert result.exit_code == 2
    assert result.stderr == (
        f"hds-audit: error: {db}: history database has schema version 99, newer than this "
        f"hds-audit supports ({len(builtin_migrations())}); upgrade hds-audit or use another "
        "--history file\n"
    )
    assert not out.exists(), "refused before any scan"
    listed = cli("history", "list", "--history", str(db))
    assert listed.exit_code == 2 and "schema version 99" in listed.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 99, "never modified"
    conn.close()


@pytest.mark.parametrize("kind", ["garbage", "foreign"])
def test_a_file_that_is_not_our_history_is_refused(tmp_path: Path, kind: str) -> None:
    db = tmp_path / "history.sqlite"
    if kind == "garbage":
        db.write_bytes(b"this is not a database at all" * 100)
        problem = "not a usable history database"
    else:
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE accounts (id)")
        conn.commit()
        conn.close()
        problem = "not an hds-audit history database"
    result = cli("history", "list", "--history", str(db))
    assert result.exit_code == 2
    assert problem in result.stderr and result.stderr.count("\n") == 1


def test_history_list_without_a_database(tmp_path: Path) -> None:
    result = cli("history", "list", "--history", str(tmp_path / "none.sqlite"))
    assert result.exit_code == 2 and "no history database here" in result.stderr
    assert not (tmp_path / "none.sqlite").exists()


# --------------------------------------------------------------------------- faults


def test_two_concurrent_writers_both_land(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    go = tmp_path / "go"
    runs, findings = 4, 6000
    workers = [_worker("record", str(db), str(runs), str(findings), str(go)) for _ in range(2)]
    for process in workers:
        _wait_for(process, "ready")
    go.touch()  # both start writing at once
    ids = []
    for process in workers:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        ids.extend(int(line) for line in out.split())
    assert sorted(ids) == list(range(1, 2 * runs + 1))
    rows = _check_db(db)
    assert len(rows) == 2 * runs
    assert all(stored > 0 for _, stored, _ in rows)


def test_a_run_killed_while_recording_leaves_the_database_intact(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    HistoryStore(db).record(scan(terraform_file(tmp_path, "s.tfstate", [PLAIN])))
    process = _worker("stall-record", str(db), "20000")
    _wait_for(process, "halfway")  # inside the transaction, half the findings inserted
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    rows = _check_db(db)
    assert [r[0] for r in rows] == [1], "the killed run left no half run"
    store = HistoryStore(db)
    assert store.record(scan(terraform_file(tmp_path, "s.tfstate", [PLAIN]))) >= 2
    assert len(_check_db(db)) == 2


def test_a_run_killed_while_writing_leaves_the_previous_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    previous = write_json(scan(terraform_file(tmp_path, "s.tfstate", [PLAIN])), out / "report.json")
    before = previous.read_bytes()
    process = _worker("stall-report", str(out), "30000")
    _wait_for(process, "halfway")
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert previous.read_bytes() == before, "never a half-written report.json"
    json.loads(before)


# --------------------------------------------------------------------------- command


def test_history_list_diff_and_the_html_trend(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    first = terraform_file(tmp_path, "one.tfstate", [ENCRYPTED, PLAIN])
    args = ("-o", str(out), "--format", "html,json", "--lang", "en", "--fail-on", "none")
    assert cli("scan", str(first), *args).exit_code == 0
    second = terraform_file(tmp_path, "two.tfstate", [ENCRYPTED, FIXED_PLAIN, HOSTILE])
    result = cli("scan", str(second), *args)
    assert result.exit_code == 0, result.output + result.stderr
    assert f"History: run 2 recorded in {out / 'history.sqlite'}" in result.output
    assert "Since run 1 of " in result.output

    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<section class="sheet" id="drift">' in html and "<svg" in html and "<polyline" in html
    assert "Since the previous run (run 1 of " in html
    section = html[html.index('id="drift"') :]
    assert "aws_ebs_volume.odd[&#34;=cmd|\\&#34;&lt;b&gt;x&lt;/b&gt;\\&#34;&#34;]" in section
    assert "<b>x</b>" not in html, "escaped like everything else"

    listed = cli("history", "list", "--history", str(out / "history.sqlite"))
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].split()[:2] == ["run", "started"] and len(lines) == 3
    diff = cli("history", "diff", "1", "2", "--history", str(out / "history.sqlite"))
    assert diff.exit_code == 0, diff.stderr
    text = diff.output
    assert "New (" in text and "Fixed (" in text
    assert f"{ENCRYPTION_POLICY:12} {HOSTILE.address}  [terraform-state]  fail" in text
    assert f"{ENCRYPTION_POLICY:12} aws_ebs_volume.plain  [terraform-state]  fail -> " in text
    missing = cli("history", "diff", "1", "7", "--history", str(out / "history.sqlite"))
    assert missing.exit_code == 2 and "no run 7 in the history" in missing.stderr


def test_no_history_and_configured_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = terraform_file(tmp_path, "s.tfstate", [PLAIN])
    out = tmp_path / "out"
    assert (
        cli("scan", str(state), "-o", str(out), "--format", "json", "--no-history").exit_code == 1
    )
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]
    config = tmp_path / "hds-audit.yaml"
    config.write_text("history: db/runs.sqlite\nformat: json\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli("scan", str(state), "-o", str(out), "--config", str(config)).exit_code == 1
    assert (tmp_path / "db" / "runs.sqlite").is_file()
    assert "    1  " in cli("history", "list", "--config", str(config)).output
    config.write_text("history: false\nformat: json\n", encoding="utf-8")
    (tmp_path / "db" / "runs.sqlite").unlink()
    assert cli("scan", str(state), "-o", str(out), "--config", str(config)).exit_code == 1
    assert not (tmp_path / "db" / "runs.sqlite").exists()
    config.write_text("history: 3\n", encoding="utf-8")
    bad = cli("scan", str(state), "--config", str(config))
    assert bad.exit_code == 2 and "'history' must be a file path, or false" in bad.stderr


def test_history_records_counts_and_problem_findings_only(tmp_path: Path) -> None:
    report = scan(terraform_file(tmp_path, "s.tfstate", [ENCRYPTED, PLAIN]))
    store = HistoryStore(tmp_path / "h.sqlite")
    run_id = store.record(report)
    (row,) = store.runs()
    assert row.id == run_id and row.by_status == report.by_status
    stored = store.comparison(run_id).earlier
    assert {k[1] for k, v in stored.items() if v.status == "fail"} == {"aws_ebs_volume.plain"}
    assert all(v.status != "pass" for v in stored.values())
    assert row.stored == len(stored)
    data = read_json(write_json(report, tmp_path / "r.json"))
    assert data["summary"]["by_status"] == row.by_status
