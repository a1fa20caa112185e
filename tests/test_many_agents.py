"""Many agents (issue 12 item 5): agent processes and reviewer processes on one store at once.

Real processes (`tests/fleet/`): each agent runs a Monitor session whose policy sends one step in
50 to a reviewer; two reviewer processes approve them with signed votes through `oversight
approve`. Afterwards every step's proposal and outcome is stored exactly once, each session's
seqs are contiguous, the chain verifies, and every approval reached the step that asked for it.
Then the same with the PostgreSQL server restarted under the agents: the monitors reconnect and
go on, and a step the store refused during the outage did not run and is stored as not run.
`python -m benchmarks many` runs the full size (16 agents x 10,000 steps on PostgreSQL).

The last three tests pin down what the restart showed, each reproduced alone, without a
restart: a read cut off once refuses that step only; a refused step is stored whole; a step
waiting for approval survives its LISTEN connection being cut.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fleet.check import check_fleet
from fleet.run import Workload, register_reviewers, restart_postgres, run_fleet, write_pack
from sqlalchemy.engine import make_url

from oversight import Monitor
from oversight.approvals.signing import load_private_key
from oversight.approvals.votes import cast_vote
from oversight.canonical import new_id
from oversight.errors import StoreUnavailableError
from oversight.records import StepFinished, StepProposed
from oversight.store import SQLStore, open_store
from oversight.store.engine import StoreUnreachableError, create_store_engine

pytestmark = pytest.mark.slow


def _assert_clean(found_problems: list[str]) -> None:
    assert found_problems == [], "\n".join(found_problems)


@pytest.mark.postgres
def test_pg_agents_and_reviewers_lose_and_duplicate_nothing(pg_url: str, tmp_path: Path) -> None:
    workload = Workload(agents=4, steps=300, approve_every=50, give_up_s=30)
    run = run_fleet(pg_url, tmp_path, workload, timeout_s=100)
    found = check_fleet(run)
    _assert_clean(found.problems())
    assert found.steps == 1200 and found.outcomes["ok"] == 1200
    assert found.approvals_requested == found.approvals_reached == 24
    assert found.approvals_by_status == {"approved": 24}
    assert sum(r["votes"] for r in run.reviewers) >= 24
    assert all(r["votes"] for r in run.reviewers), "both reviewers took their share"


def test_sqlite_agents_and_reviewers_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    workload = Workload(agents=3, steps=300, approve_every=50, give_up_s=30)
    run = run_fleet(f"sqlite:///{tmp_path / 'o.db'}", tmp_path / "run", workload, timeout_s=100)
    found = check_fleet(run)
    _assert_clean(found.problems())
    assert found.steps == 900 and found.approvals_reached == 18


def test_the_checks_catch_a_step_stored_twice(tmp_path: Path) -> None:
    """The checks fail when they should: a step's records appended a second time."""
    url = f"sqlite:///{tmp_path / 'o.db'}"
    run = run_fleet(url, tmp_path / "run", Workload(1, 20, approve_every=0, reviewers=0))
    with open_store(url) as store:
        step = next(iter(store.iter_records("agent-0", types={"step.proposed"}))).record
        twice = [
            s.record.model_copy(update={"id": new_id()})
            for s in store.iter_records("agent-0", step_ids={step.step_id})
        ]
        store.append(twice)
    problems = check_fleet(run).problems()
    assert "duplicate proposals: 1" in problems and "duplicate outcomes: 1" in problems, problems


def _local_server(url: str) -> bool:
    host = make_url(url).host or "localhost"
    return host in ("127.0.0.1", "localhost", "::1") and shutil.which("pg_ctlcluster") is not None


@pytest.mark.postgres
def test_monitors_reconnect_and_go_on_after_a_postgres_restart(pg_url: str, tmp_path: Path) -> None:
    if not _local_server(pg_url) or os.geteuid() != 0:
        pytest.skip("restarting PostgreSQL needs root and a local pg_ctlcluster server")
    workload = Workload(agents=2, steps=1500, approve_every=100, give_up_s=30)
    run = run_fleet(pg_url, tmp_path, workload, restart=restart_postgres, restart_at=0.3)
    found = check_fleet(run)
    assert run.restart is not None and run.restart.error is None
    assert run.restart.during_run, "the agents finished before the server came back"
    _assert_clean(found.problems())
    assert found.steps == 3000


class _CutOff(SQLStore):
    """A store whose next reads are cut off mid-way, as a restarting server cuts them (the
    error `store_failure` makes of a dropped PostgreSQL connection)."""

    cut_head = 0
    cut_schema = 0
    cut_halts = 0

    def halts(self) -> list[dict[str, Any]]:
        if self.cut_halts:
            self.cut_halts -= 1
            raise StoreUnreachableError("the connection is lost")
        return super().halts()

    def head(self) -> tuple[int, str]:
        if self.cut_head:
            self.cut_head -= 1
            raise StoreUnreachableError("server closed the connection unexpectedly")
        return super().head()

    def foreign_schema_objects(self) -> list[str]:
        if self.cut_schema:
            self.cut_schema -= 1
            raise StoreUnreachableError("terminating connection due to administrator command")
        return super().foreign_schema_objects()

    def guard_probe(self) -> tuple[int, list[str]]:
        """The guard's one read (head and schema): cut off when either would be."""
        if self.cut_head or self.cut_schema:
            self.head() if self.cut_head else self.foreign_schema_objects()
        return super().guard_probe()


def _cut_off_monitor(tmp_path: Path) -> tuple[Monitor, _CutOff, str]:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    open_store(url).close()
    store = _CutOff(create_store_engine(url))
    return Monitor(db=url, store=store, policy="observe-only", log="none"), store, url


def _act(mon: Monitor, i: int) -> None:
    mon.check("Bash", {"command": f"python experiments/run.py --seed {i}"}).succeed("ok")


def test_a_read_cut_off_once_refuses_that_step_and_not_every_later_one(tmp_path: Path) -> None:
    mon, store, _ = _cut_off_monitor(tmp_path)
    with mon.session("s"):
        _act(mon, 1)
        store.cut_head = 1
        with pytest.raises(StoreUnavailableError):
            _act(mon, 2)
        _act(mon, 3)  # the store answers again: so does the monitor
    mon.close()


@pytest.mark.parametrize("cut", ["cut_schema", "cut_halts"])
def test_a_step_the_store_check_refused_is_stored_whole(tmp_path: Path, cut: str) -> None:
    """The store check and the halt check before a consequential step: either cut off refuses
    the step, and its proposal and not-run outcome are still stored (no seq missing)."""
    mon, store, url = _cut_off_monitor(tmp_path)
    with mon.session("s"):
        _act(mon, 1)
        setattr(store, cut, 1)
        with pytest.raises(StoreUnavailableError):
            _act(mon, 2)
        _act(mon, 3)
    mon.close()
    with open_store(url) as reading:
        records = [s.record for s in reading.iter_records("s")]
    proposed = [r for r in records if isinstance(r, StepProposed)]
    finished = {r.step_id: r.status for r in records if isinstance(r, StepFinished)}
    assert [r.seq for r in proposed] == [1, 2, 3]
    assert [finished.get(r.step_id) for r in proposed] == ["ok", "not_run", "ok"]


@pytest.mark.postgres
def test_a_step_waiting_for_approval_survives_its_listen_connection_being_cut(
    pg_url: str, tmp_path: Path
) -> None:
    import psycopg

    keys = tmp_path / "keys"
    register_reviewers(pg_url, keys, ("alice",))
    mon = Monitor(db=pg_url, policy=str(write_pack(tmp_path, gated=True)), log="none")
    outcome: list[object] = []

    @mon.step(name="launch_training", kind="train.launch")
    def launch(config: str) -> str:
        return "ran"

    def agent() -> None:
        with mon.session("waiting"):
            try:
                outcome.append(launch("configs/big.yaml"))
            except Exception as exc:  # noqa: BLE001 - what the step raised is the finding
                outcome.append(exc)

    since = time.time()
    thread = threading.Thread(target=agent)
    thread.start()
    with open_store(pg_url) as store:
        while not (pending := store.approvals(status="pending")):
            time.sleep(0.05)
        conninfo = make_url(pg_url).set(drivername="postgresql", query={})
        with psycopg.connect(conninfo.render_as_string(hide_password=False)) as admin:
            cut = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = "
                "'LISTEN oversight_votes' AND backend_start >= to_timestamp(%s)",
                (since,),
            ).fetchall()
        assert cut, "no LISTEN connection was found to cut"
        cast_vote(store, pending[0], "alice", load_private_key(keys / "alice.pem"), "approve")
    thread.join(timeout=60)
    mon.close()
    if isinstance(outcome[0], StoreUnavailableError):
        with open_store(pg_url) as store:
            statuses = [
                s.record.status
                for s in store.iter_records("waiting", types={"step.finished"})
                if isinstance(s.record, StepFinished)
            ]
        assert statuses == ["not_run"]  # refused, and said so in the store
    else:
        assert outcome == ["ran"], outcome


def test_a_cheap_step_goes_on_when_the_halts_cannot_be_read(tmp_path: Path) -> None:
    """A store out of reach for a moment: a cheap step (a read) runs on the halts last seen,
    its records queued; the next consequential step asks the store itself."""
    mon, store, url = _cut_off_monitor(tmp_path)
    with mon.session("s"):
        _act(mon, 1)
        time.sleep(0.15)  # the last look at the halts is older than halt_poll_ms
        store.cut_halts = 1
        mon.check("Read", {"file_path": "notes.md"}).succeed("text")
        assert store.cut_halts == 0, "the cheap step did try the store"
        _act(mon, 2)
    mon.close()
    with open_store(url) as reading:
        finished = [s.record for s in reading.iter_records("s", types={"step.finished"})]
    assert [getattr(r, "status", None) for r in finished] == ["ok", "ok", "ok"]
