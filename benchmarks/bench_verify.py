"""`verify` speed: records per second re-hashed and checked.

Baseline measured in the same run: only fetching the same rows through sqlite3, the floor any
Python verifier pays before hashing anything.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks.common import header, verdict
from benchmarks.records import step_records
from oversight.store import open_store

STEPS = int(os.environ.get("OVERSIGHT_BENCH_VERIFY_STEPS", "") or 500_000)
"""Two records a step: 1,000,000 records by default (the figure in docs/reliability.md)."""
CHUNK = 25_000


def fetch_floor(db: Path) -> float:
    conn = sqlite3.connect(db)
    cursor = conn.execute("SELECT * FROM oversight_records ORDER BY seq")
    t0 = time.perf_counter()
    n = 0
    while rows := cursor.fetchmany(2000):
        n += len(rows)
    elapsed = time.perf_counter() - t0
    conn.close()
    return n / elapsed


def main() -> None:
    header(f"verify speed ({2 * STEPS:,} records, SQLite)")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "verify.db"
        with open_store(f"sqlite:///{db}") as store:
            for start in range(0, STEPS, CHUNK):  # built in chunks: memory stays flat
                records = step_records(min(CHUNK, STEPS - start), f"bench-{start}")
                for i in range(0, len(records), 5_000):
                    store.append(records[i : i + 5_000], durable=False)
            t0 = time.perf_counter()
            report = store.verify()
            elapsed = time.perf_counter() - t0
        floor = fetch_floor(db)
    assert report.ok, report
    rate = report.checked / elapsed
    print(f"verified {report.checked:,} records in {elapsed:.1f} s (intact)")
    print(
        f"verify                      {rate:12,.0f} records/s   target >= 300,000: {verdict(rate >= 300_000)}"
    )
    print(
        f"fetching the rows only      {floor:12,.0f} records/s   "
        f"(verify = {rate / floor:.2f}x of the fetch alone)"
    )


if __name__ == "__main__":
    main()
