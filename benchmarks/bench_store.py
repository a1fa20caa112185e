"""Store throughput: steps per second appended in batches, as the background writer does."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks.common import header, verdict
from benchmarks.records import step_records
from oversight.store import open_store

STEPS = 100_000
BATCH_RECORDS = 2_000


def throughput(url: str, records: list, *, synchronous: str = "FULL") -> float:
    with open_store(url, sqlite_synchronous=synchronous) as store:
        t0 = time.perf_counter()
        for i in range(0, len(records), BATCH_RECORDS):
            store.append(records[i : i + BATCH_RECORDS], durable=False)
        elapsed = time.perf_counter() - t0
    return (len(records) / 2) / elapsed


def pg_url() -> str | None:
    return os.environ.get("OVERSIGHT_BENCH_PG_URL") or os.environ.get("OVERSIGHT_TEST_PG_URL")


def main() -> None:
    header(
        f"Store throughput ({STEPS:,} steps = {2 * STEPS:,} records, batches of {BATCH_RECORDS})"
    )
    records = step_records(STEPS)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_rate = throughput(f"sqlite:///{Path(tmp) / 'bench.db'}", records)
    print(
        f"SQLite (synchronous=FULL)   {sqlite_rate:12,.0f} steps/s   target >= 100,000: {verdict(sqlite_rate >= 100_000)}"
    )
    url = pg_url()
    if url is None:
        print(
            "PostgreSQL                  not measured: set OVERSIGHT_BENCH_PG_URL (or OVERSIGHT_TEST_PG_URL)"
        )
        return
    pg_rate = throughput(url, records[: 2 * 20_000])
    print(
        f"PostgreSQL                  {pg_rate:12,.0f} steps/s   ({pg_rate / sqlite_rate:.2f}x SQLite)"
    )


if __name__ == "__main__":
    main()
