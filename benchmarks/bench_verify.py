"""`verify` speed: records per second re-hashed and checked."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.common import header, verdict
from benchmarks.records import step_records
from oversight.store import open_store

STEPS = 150_000


def main() -> None:
    header(f"verify speed ({2 * STEPS:,} records, SQLite)")
    records = step_records(STEPS)
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(f"sqlite:///{Path(tmp) / 'verify.db'}", sqlite_synchronous="NORMAL") as store,
    ):
        for i in range(0, len(records), 5_000):
            store.append(records[i : i + 5_000], durable=False)
        t0 = time.perf_counter()
        report = store.verify()
        elapsed = time.perf_counter() - t0
    assert report.ok, report
    rate = report.checked / elapsed
    print(
        f"verify                      {rate:12,.0f} records/s   target >= 300,000: {verdict(rate >= 300_000)}"
    )


if __name__ == "__main__":
    main()
