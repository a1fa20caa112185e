"""Store throughput: steps per second appended in batches, as the background writer does.

Baseline measured in the same run: the bare sqlite3 `executemany` of the same rows (already
serialised and hashed) into the same schema and indexes, i.e. what SQLite itself costs here.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks.common import header, verdict
from benchmarks.records import step_records
from oversight.records import Record
from oversight.store import open_store

STEPS = 100_000
BATCH_RECORDS = 2_000


def throughput(url: str, records: list[Record]) -> float:
    with open_store(url) as store:
        t0 = time.perf_counter()
        for i in range(0, len(records), BATCH_RECORDS):
            store.append(records[i : i + BATCH_RECORDS], durable=False)
        elapsed = time.perf_counter() - t0
    return (len(records) / 2) / elapsed


def sqlite_floor(source: Path, target: Path) -> float:
    """Steps/s for SQLite alone: re-insert the stored rows into a fresh store's table."""
    with open_store(f"sqlite:///{target}"):
        pass
    rows = sqlite3.connect(source).execute("SELECT * FROM oversight_records").fetchall()
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    marks = ",".join("?" * len(rows[0]))
    t0 = time.perf_counter()
    for i in range(0, len(rows), BATCH_RECORDS):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            f"INSERT INTO oversight_records VALUES ({marks})", rows[i : i + BATCH_RECORDS]
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return (len(rows) / 2) / elapsed


def pg_url() -> str | None:
    return os.environ.get("OVERSIGHT_BENCH_PG_URL") or os.environ.get("OVERSIGHT_TEST_PG_URL")


def main() -> None:
    header(
        f"Store throughput ({STEPS:,} steps = {2 * STEPS:,} records, batches of {BATCH_RECORDS})"
    )
    records = step_records(STEPS)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        sqlite_rate = throughput(f"sqlite:///{db}", records)
        floor = sqlite_floor(db, Path(tmp) / "floor.db")
    print(
        f"SQLite, oversight store          {sqlite_rate:12,.0f} steps/s   "
        f"target >= 100,000: {verdict(sqlite_rate >= 100_000)}"
    )
    print(
        f"SQLite alone, same rows/indexes  {floor:12,.0f} steps/s   "
        f"(store = {sqlite_rate / floor:.2f}x of what SQLite itself allows here)"
    )
    url = pg_url()
    if url is None:
        print("PostgreSQL                       not measured: set OVERSIGHT_BENCH_PG_URL")
        return
    pg_rate = throughput(url, records[: 2 * 20_000])
    print(
        f"PostgreSQL, oversight store      {pg_rate:12,.0f} steps/s   ({pg_rate / sqlite_rate:.2f}x SQLite)"
    )


if __name__ == "__main__":
    main()
