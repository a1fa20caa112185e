"""Approval round trip: from a reviewer's signed vote being committed to the waiting agent (in
another process) running its step.

Baseline measured in the same run: a bare SQLite round trip between the same two processes (one
commits a row, the other polls for it every 25 ms, as the approval desk does), so the ratio shows
what the approval machinery (signature checks, halt checks) adds to the polling floor.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from benchmarks.common import header, verdict
from oversight.approvals.signing import (
    endorsement_payload,
    new_private_key,
    public_hex,
    sign,
    vote_payload,
)
from oversight.store import open_store

ROUNDS = 8

AGENT = textwrap.dedent(
    """
    import sys, time
    from oversight import Monitor
    pack = sys.argv[2]
    mon = Monitor(db=sys.argv[1], log="none", policy=pack)

    @mon.step(name="launch_training", kind="train.launch")
    def launch(i):
        print(f"RAN {time.time():.6f}", flush=True)

    with mon.session("bench"):
        for i in range(int(sys.argv[3])):
            launch(i)
    """
)

PACK = """
name: bench-gate
unmatched: {consequential: allow, other: allow}
rules:
  - id: gate
    match: {kind: [train.launch]}
    effect: require_approval
    approval: {role: approver, quorum: 1, timeout_s: 60}
"""

FLOOR = textwrap.dedent(
    """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1])
    seen = 0
    print("READY", flush=True)
    while seen < int(sys.argv[2]):
        n = conn.execute("SELECT count(*) FROM flags").fetchone()[0]
        if n > seen:
            seen = n
            print(f"SAW {time.time():.6f}", flush=True)
        time.sleep(0.025)
    """
)


def _approval_latencies(tmp: Path, url: str) -> list[float]:
    db = url
    root = new_private_key()
    with open_store(url) as store:
        key = public_hex(root)
        store.add_reviewer(
            {
                "name": "root",
                "role": "admin",
                "public_key": key,
                "endorsed_by": "root",
                "endorsement": sign(root, endorsement_payload("root", "admin", key)),
            }
        )
    (tmp / "pack.yaml").write_text(PACK)
    (tmp / "agent.py").write_text(AGENT)
    agent = subprocess.Popen(
        [sys.executable, str(tmp / "agent.py"), str(db), str(tmp / "pack.yaml"), str(ROUNDS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert agent.stdout is not None
    latencies = []
    with open_store(url) as store:
        for _ in range(ROUNDS):
            while not (pending := store.approvals(status="pending")):
                time.sleep(0.005)
            row = pending[0]
            payload = vote_payload(str(row["id"]), str(row["args_digest"]), "approve", "root", "")
            store.add_vote(
                {
                    "approval_id": str(row["id"]),
                    "reviewer": "root",
                    "decision": "approve",
                    "reason": "",
                    "signature": sign(root, payload),
                }
            )
            committed = time.time()
            line = agent.stdout.readline()
            latencies.append(float(line.split()[1]) - committed)
    agent.wait(timeout=60)
    agent.stdout.close()
    return latencies


def _floor_latencies(tmp: Path) -> list[float]:
    import sqlite3

    db = tmp / "floor.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE flags (x INTEGER)")
    (tmp / "floor.py").write_text(FLOOR)
    watcher = subprocess.Popen(
        [sys.executable, str(tmp / "floor.py"), str(db), str(ROUNDS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert watcher.stdout is not None
    watcher.stdout.readline()
    latencies = []
    for _ in range(ROUNDS):
        time.sleep(0.05)
        conn.execute("INSERT INTO flags VALUES (1)")
        committed = time.time()
        latencies.append(float(watcher.stdout.readline().split()[1]) - committed)
    watcher.wait(timeout=30)
    watcher.stdout.close()
    conn.close()
    return latencies


def main() -> None:
    header(
        f"Approval round trip, SQLite, reviewer and agent in separate processes ({ROUNDS} rounds)"
    )
    with tempfile.TemporaryDirectory() as tmpdir:
        ours = _approval_latencies(Path(tmpdir), f"sqlite:///{Path(tmpdir) / 'bench.db'}")
        floor = _floor_latencies(Path(tmpdir))
    med, worst = statistics.median(ours) * 1000, max(ours) * 1000
    floor_med = statistics.median(floor) * 1000
    print(
        f"vote committed -> step runs    median {med:7.1f} ms   max {worst:7.1f} ms   target <= 100 ms: {verdict(med <= 100)}"
    )
    print(
        f"bare SQLite poll round trip    median {floor_med:7.1f} ms   (approval = {med / floor_med:.2f}x the polling floor)"
    )
    base = os.environ.get("OVERSIGHT_BENCH_PG_URL") or os.environ.get("OVERSIGHT_TEST_PG_URL")
    if not base:
        print("PostgreSQL                     not measured: set OVERSIGHT_BENCH_PG_URL")
        return
    with tempfile.TemporaryDirectory() as tmpdir, _fresh_schema(base) as url:
        pg = _approval_latencies(Path(tmpdir), url)
    pg_med, pg_max = statistics.median(pg) * 1000, max(pg) * 1000
    print(
        f"PostgreSQL (LISTEN/NOTIFY)     median {pg_med:7.1f} ms   max {pg_max:7.1f} ms   "
        f"target <= 20 ms: {verdict(pg_med <= 20)}   ({pg_med / floor_med:.2f}x the SQLite polling floor)"
    )


@contextlib.contextmanager
def _fresh_schema(base: str) -> Iterator[str]:
    """An empty schema for one run, so earlier reviewers and approvals do not interfere."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(base)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"oversight_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
