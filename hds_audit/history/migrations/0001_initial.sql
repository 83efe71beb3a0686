-- hds-audit history, schema version 1: one row per run, its problem findings beside it.
-- Findings are stored by identity (policy_id, resource_id, source_kind) with their status;
-- passing and not-applicable findings are only counted (runs.by_status), never listed.

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at    TEXT    NOT NULL,  -- ISO 8601 with offset
    finished_at   TEXT    NOT NULL,
    recorded_at   TEXT    NOT NULL,
    tool_version  TEXT    NOT NULL,
    sources       TEXT    NOT NULL,  -- JSON list of the source paths
    area          TEXT    NOT NULL,  -- allowed area label (EU, EEA, FR ...)
    gate          TEXT    NOT NULL,  -- fail_on threshold, or none
    exit_code     INTEGER NOT NULL,
    resources     INTEGER NOT NULL,
    findings      INTEGER NOT NULL,
    errors        INTEGER NOT NULL,
    by_status     TEXT    NOT NULL,  -- JSON {status: count}
    stored        INTEGER NOT NULL   -- rows in run_findings for this run
);

CREATE TABLE run_findings (
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    policy_id    TEXT    NOT NULL,
    resource_id  TEXT    NOT NULL,
    source_kind  TEXT    NOT NULL,
    status       TEXT    NOT NULL,  -- fail, error, unknown, waived, manual
    severity     TEXT    NOT NULL,
    category     TEXT    NOT NULL
);

CREATE INDEX run_findings_by_run ON run_findings (run_id);
