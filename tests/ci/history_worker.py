"""A separate process for the history fault tests (run by test_history.py, never collected).

``python history_worker.py record DB N FINDINGS GO``: wait for the file GO, record N runs.
``python history_worker.py stall-record DB FINDINGS``: record one run, stalling halfway
through its findings (inside the transaction) until killed.
``python history_worker.py stall-report OUT FINDINGS``: write OUT/report.json, stalling
halfway through the resources until killed.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import ENCRYPTED, HOSTILE, PLAIN, scan, terraform_file

from hds_audit.history.store import HistoryStore
from hds_audit.reports.json_report import write_json
from hds_audit.reports.model import Report


class Stall(list[Any]):
    """A list whose iteration says "halfway" on stdout, then sleeps until the process dies."""

    def __iter__(self) -> Iterator[Any]:
        half = len(self) // 2
        for index, item in enumerate(list.__iter__(self)):
            if index == half:
                print("halfway", flush=True)
                time.sleep(120)
            yield item


def big_report(findings: int) -> Report:
    folder = Path(tempfile.mkdtemp())
    report = scan(terraform_file(folder, "s.tfstate", [ENCRYPTED, PLAIN, HOSTILE]))
    base = list(report.findings)
    out = []
    resources = []
    for i in range(findings // len(base) + 1):
        copies: dict[str, Any] = {}
        for f in base:
            resource = copies.get(f.resource.id)
            if resource is None:
                resource = copies[f.resource.id] = replace(f.resource, id=f"{f.resource.id}#{i}")
                resources.append(resource)
            out.append(f._replace(resource=resource))
    big = replace(report, findings=out[:findings], resources=resources)
    big.summary()  # computes and caches the counts before any stall
    return big


def main(argv: list[str]) -> None:
    mode = argv[1]
    if mode == "record":
        db, runs, findings, go = Path(argv[2]), int(argv[3]), int(argv[4]), Path(argv[5])
        report = big_report(findings)
        store = HistoryStore(db)
        print("ready", flush=True)
        while not go.exists():
            time.sleep(0.01)
        for _ in range(runs):
            print(store.record(report), flush=True)
    elif mode == "stall-record":
        report = big_report(int(argv[3]))
        report.findings = Stall(report.findings)
        HistoryStore(Path(argv[2])).record(report)
    elif mode == "stall-report":
        report = big_report(int(argv[3]))
        report.resources = Stall(report.resources)
        write_json(report, Path(argv[2]) / "report.json")
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv)
