"""The run history: an embedded SQLite database (standard library), one row per run.

WAL mode (readers never block the writer), a busy timeout (two runs writing at once both
land, one after the other) and one transaction per run (a run killed halfway leaves the
database as it was). The schema is versioned with ``PRAGMA user_version`` and migrated by the
SQL files in ``migrations/`` (``NNNN_name.sql``), each in its own transaction. A database
written by a newer hds-audit is refused with one line, never modified.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources as package_files
from pathlib import Path
from typing import Any

from hds_audit.baseline import PROBLEMS, Comparison, comparison_from_rows
from hds_audit.errors import UsageError
from hds_audit.model import Status
from hds_audit.reports.model import Report

#: ``PRAGMA application_id`` of an hds-audit history database ("HDSA").
APPLICATION_ID = 0x48445341
#: Statuses whose findings are stored one by one (the others are only counted).
STORED = frozenset({*PROBLEMS, Status.WAIVED.value, Status.MANUAL.value})
_COLUMNS = (
    "id, started_at, finished_at, tool_version, sources, area, gate, exit_code, "
    "resources, findings, errors, by_status, stored"
)
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class HistoryError(UsageError):
    """The history database cannot be used (exit 2): the message names the file."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> Iterator[str]:
        """The statements of the script, one by one (so they run inside our transaction)."""
        pending = ""
        for line in self.sql.splitlines(keepends=True):
            pending += line
            if sqlite3.complete_statement(pending):
                if pending.strip():
                    yield pending
                pending = ""
        if pending.strip() and not all(
            not ln.strip() or ln.strip().startswith("--") for ln in pending.splitlines()
        ):
            raise ValueError(f"migration {self.name}: unterminated statement")


def builtin_migrations() -> tuple[Migration, ...]:
    """The migrations shipped in the package, in order."""
    folder = package_files.files("hds_audit.history").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    return check_migrations(found)


def check_migrations(migrations: Iterable[Migration]) -> tuple[Migration, ...]:
    ordered = tuple(sorted(migrations, key=lambda m: m.version))
    for expected, migration in enumerate(ordered, start=1):
        if migration.version != expected:
            raise ValueError(f"migrations must be numbered 1..N; {migration.name} breaks it")
    return ordered


@dataclass(frozen=True, slots=True)
class RunRow:
    """One stored run, as ``history list`` shows it."""

    id: int
    started_at: datetime
    finished_at: datetime
    tool_version: str
    sources: tuple[str, ...]
    area: str
    gate: str
    exit_code: int
    resources: int
    findings: int
    errors: int
    by_status: dict[str, int]
    stored: int


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Busy(Exception):
    """Another connection holds the lock: try again shortly."""


class HistoryStore:
    """One history database file. Cheap to create; each call opens its own connection."""

    def __init__(
        self,
        path: str | Path,
        *,
        migrations: Sequence[Migration] | None = None,
        clock: Any = _utc_now,
        timeout: float = 60.0,
    ) -> None:
        self.path = Path(path)
        self.migrations = tuple(migrations) if migrations is not None else builtin_migrations()
        self.clock = clock
        self.timeout = timeout

    @property
    def latest_version(self) -> int:
        return self.migrations[-1].version if self.migrations else 0

    # ------------------------------------------------------------------ connections

    def _fail(self, problem: str) -> HistoryError:
        return HistoryError(f"{self.path}: {problem}")

    def _connect(self, create: bool) -> sqlite3.Connection:
        """Open, check the version, switch to WAL and migrate, retrying while another run
        holds the lock: SQLite answers "locked" at once, without waiting, when two fresh
        connections both try to change the journal mode or migrate."""
        deadline = time.monotonic() + self.timeout
        pause = 0.02
        while True:
            try:
                return self._connect_once(create)
            except _Busy:
                if time.monotonic() >= deadline:
                    raise self._fail("the history database stayed locked by another run") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def _connect_once(self, create: bool) -> sqlite3.Connection:
        if not create and not self.path.is_file():
            raise self._fail("no history database here (run a scan with history first)")
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # created here, 0o666 less the umask (SQLite's own is 0o644 whatever the
                # umask); its -wal and -shm files take the database's mode
                self.path.touch(exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise self._fail(f"cannot open the history database: {error}") from None
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            version = self._version(conn)
            if version > self.latest_version:
                raise self._fail(
                    f"history database has schema version {version}, newer than this "
                    f"hds-audit supports ({self.latest_version}); upgrade hds-audit or use "
                    "another --history file"
                )
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            if version < self.latest_version:
                self._migrate(conn)
        except sqlite3.OperationalError as error:
            conn.close()
            if "locked" in str(error) or "busy" in str(error):
                raise _Busy from None
            raise self._fail(f"not a usable history database: {error}") from None
        except sqlite3.DatabaseError as error:
            conn.close()
            raise self._fail(f"not a usable history database: {error}") from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _version(self, conn: sqlite3.Connection) -> int:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        app = int(conn.execute("PRAGMA application_id").fetchone()[0])
        if app not in (0, APPLICATION_ID) or (
            app == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        ):
            raise self._fail("not an hds-audit history database (another SQLite file)")
        return version

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")  # another process may be migrating: wait, then re-read
        try:
            version = self._version(conn)
            if version > self.latest_version:
                raise self._fail(
                    f"history database has schema version {version}, newer than this "
                    f"hds-audit supports ({self.latest_version})"
                )
            for migration in self.migrations[version:]:
                for statement in migration.statements():
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {migration.version:d}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def check(self) -> None:
        """Fail early, before any scan, on a database this version cannot use.

        Creates nothing: a run that stops before :meth:`record` leaves no file behind.
        """
        if self.path.exists():
            self._connect(create=False).close()
        elif self.path.parent.exists() and not self.path.parent.is_dir():
            raise self._fail("cannot create the history database: parent is not a folder")

    # ------------------------------------------------------------------ writing

    def record(self, report: Report) -> int:
        """Store one run in one transaction; return its id."""
        run = report.run
        conn = self._connect(create=True)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cursor = conn.execute(
                    "INSERT INTO runs (started_at, finished_at, recorded_at, tool_version, "
                    "sources, area, gate, exit_code, resources, findings, errors, by_status, "
                    "stored) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                    (
                        run.started_at.isoformat(),
                        run.finished_at.isoformat(),
                        self.clock().isoformat(),
                        run.tool_version,
                        json.dumps([s.path for s in run.sources]),
                        run.area.label,
                        report.gate.label,
                        report.exit_code,
                        len(report.resources),
                        len(report.findings),
                        len(report.errors),
                        json.dumps(report.by_status),
                    ),
                )
                run_id = int(cursor.lastrowid or 0)
                rows = (
                    (
                        run_id,
                        f.policy.id,
                        f.resource.id,
                        # ``_value_``: ``.value`` without its property, per row
                        f.resource.source.kind._value_,
                        f.status._value_,
                        f.policy.severity._value_,
                        f.policy.category,
                    )
                    for f in report.findings
                    if f.status in STORED
                )
                stored = conn.executemany(
                    "INSERT INTO run_findings VALUES (?, ?, ?, ?, ?, ?, ?)", rows
                ).rowcount
                conn.execute("UPDATE runs SET stored = ? WHERE id = ?", (stored, run_id))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            raise self._fail(f"cannot record the run: {error}") from None
        finally:
            conn.close()
        return run_id

    # ------------------------------------------------------------------ reading

    def _read(self, create: bool = False) -> sqlite3.Connection:
        return self._connect(create=create)

    def runs(self, limit: int | None = None) -> list[RunRow]:
        """The most recent runs, oldest first."""
        conn = self._read()
        try:
            query = f"SELECT {_COLUMNS} FROM runs ORDER BY id DESC" + (" LIMIT ?" if limit else "")
            rows = conn.execute(query, (limit,) if limit else ()).fetchall()
        except sqlite3.Error as error:
            raise self._fail(f"cannot read the history: {error}") from None
        finally:
            conn.close()
        return [self._run_row(row) for row in reversed(rows)]

    def run(self, run_id: int) -> RunRow:
        conn = self._read()
        try:
            row = conn.execute(f"SELECT {_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        finally:
            conn.close()
        if row is None:
            raise self._fail(f"no run {run_id} in the history (see `hds-audit history list`)")
        return self._run_row(row)

    def _run_row(self, row: Sequence[Any]) -> RunRow:
        """A stored run; a row edited by hand into something else is named, not trusted."""
        try:
            return _run_row(row)
        except (ValueError, TypeError, RecursionError) as error:
            raise self._fail(f"run {row[0]} is damaged: {error}") from None

    def comparison(self, run_id: int) -> Comparison:
        """The stored findings of a run, ready to compare a later run with."""
        row = self.run(run_id)
        conn = self._read()
        try:
            rows = conn.execute(
                "SELECT policy_id, resource_id, source_kind, status, severity, category "
                "FROM run_findings WHERE run_id = ?",
                (run_id,),
            )
            return comparison_from_rows(
                f"run {run_id} of {row.started_at.isoformat(timespec='seconds')}", rows
            )
        finally:
            conn.close()


def _run_row(row: Sequence[Any]) -> RunRow:
    """Raises :class:`ValueError` naming the column that does not hold what it should."""
    sources = _json_column(row[4], "sources", list)
    by_status = _json_column(row[11], "by_status", dict)
    if not all(isinstance(s, str) for s in sources):
        raise ValueError("'sources' is not a list of texts")
    if not all(isinstance(k, str) and isinstance(v, int) for k, v in by_status.items()):
        raise ValueError("'by_status' is not a count per status")
    for index, name in ((0, "id"), (7, "exit_code"), (8, "resources"), (9, "findings")):
        if not isinstance(row[index], int):
            raise ValueError(f"'{name}' is not a whole number")
    return RunRow(
        id=row[0],
        started_at=_time_column(row[1], "started_at"),
        finished_at=_time_column(row[2], "finished_at"),
        tool_version=str(row[3]),
        sources=tuple(sources),
        area=str(row[5]),
        gate=str(row[6]),
        exit_code=row[7],
        resources=row[8],
        findings=row[9],
        errors=row[10],
        by_status=by_status,
        stored=row[12],
    )


def _json_column(text: Any, name: str, kind: type) -> Any:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, kind):
        raise ValueError(f"'{name}' is not {'a JSON list' if kind is list else 'a JSON object'}")
    return value


def _time_column(text: Any, name: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"'{name}' is not a date and time") from None
