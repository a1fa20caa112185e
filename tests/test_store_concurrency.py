"""Several real processes opening and writing one store at once: one gap-free, verified chain."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import create_engine, text

from oversight.store import open_store
from oversight.store.migrations import LATEST_VERSION

PROCESSES = 4

# Each worker says "ready", waits for "go" on stdin so that all of them start together, then
# appends its records in batches of mixed sizes (or, with --open-after-go, opens the store too).
WORKER = r"""
import sys
from oversight.records import StepProposed
from oversight.store import open_store

url, worker, count, open_after_go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sizes = [1, 7, 50, 3, 120, 13, 26, 2]


def records(first, n):
    return [
        StepProposed(
            session_id=f"worker-{worker}", step_id=f"w{worker}-{i}", seq=i, kind="shell.exec",
            name="bash", args={"i": i, "worker": worker}, args_digest="d", reason="r",
        )
        for i in range(first, first + n)
    ]


store = None if open_after_go == "yes" else open_store(url, busy_timeout_s=60)
print("ready", flush=True)
sys.stdin.readline()
if store is None:
    store = open_store(url, busy_timeout_s=60)
done, k = 0, 0
while done < count:
    n = min(sizes[k % len(sizes)], count - done)
    store.append(records(done + 1, n))
    done, k = done + n, k + 1
store.close()
print("done", done, flush=True)
"""


def run_workers(url: str, per_process: int, *, open_after_go: bool) -> None:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                url,
                str(w),
                str(per_process),
                "yes" if open_after_go else "no",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(PROCESSES)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            assert line == "ready\n", (line, p.stderr.read() if p.stderr else "")
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in procs:
            out, err = p.communicate(timeout=180)
            assert p.returncode == 0, err
            assert out.strip() == f"done {per_process}", (out, err)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def assert_one_clean_chain(url: str, per_process: int) -> None:
    total = PROCESSES * per_process
    with open_store(url) as store:
        stored = list(store.iter_records())
        report = store.verify()
        assert store.count() == total
        assert store.head()[0] == total
    assert report.ok, report.first_problem
    assert report.checked == total
    assert [s.seq for s in stored] == list(range(1, total + 1))
    ids = Counter(s.record.id for s in stored)
    assert len(ids) == total and max(ids.values()) == 1
    steps = Counter((s.record.session_id, getattr(s.record, "step_id", None)) for s in stored)
    expected = {
        (f"worker-{w}", f"w{w}-{i}") for w in range(PROCESSES) for i in range(1, per_process + 1)
    }
    assert set(steps) == expected
    for w in range(PROCESSES):
        own = [s.record for s in stored if s.record.session_id == f"worker-{w}"]
        assert [getattr(r, "seq", None) for r in own] == list(range(1, per_process + 1))


@pytest.mark.slow
def test_concurrent_writer_processes_produce_one_gap_free_verified_chain(store_url: str) -> None:
    open_store(store_url).close()
    run_workers(store_url, 500, open_after_go=False)
    assert_one_clean_chain(store_url, 500)


@pytest.mark.slow
def test_processes_opening_a_fresh_store_at_once_migrate_it_once(store_url: str) -> None:
    run_workers(store_url, 20, open_after_go=True)
    assert_one_clean_chain(store_url, 20)
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version FROM oversight_schema_version")).all()
            heads = conn.execute(text("SELECT id FROM oversight_chain_head")).all()
    finally:
        engine.dispose()
    assert [v for (v,) in rows] == list(range(1, LATEST_VERSION + 1)), "each migration ran once"
    assert [i for (i,) in heads] == [1]
