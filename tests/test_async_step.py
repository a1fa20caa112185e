"""An async `@monitor.step` waits for reviewers without stopping the event loop, and a cancelled
task stops waiting at once: its approval is withdrawn, never spent on a call that cannot run."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from reviewing import cli, register_reviewers, wait_for_pending, write_gate_pack

from oversight import CheckpointDenied, Monitor
from oversight.records import StepFinished, StepProposed
from oversight.store import open_store


def records(db: Path, session: str) -> list[Any]:
    with open_store(f"sqlite:///{db}") as store:
        return [s.record for s in store.iter_records(session)]


def admit_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "oversight-admit"]


def test_the_event_loop_keeps_running_while_an_async_step_waits_for_a_reviewer(
    tmp_path: Path,
) -> None:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys)
    pack = write_gate_pack(tmp_path, timeout=60)
    ticks: list[float] = []
    review: dict[str, Any] = {}

    def reviewer() -> None:
        # A person in another process: sees the request, takes a moment, approves.
        pending = wait_for_pending(db)
        review["seen"] = time.monotonic()
        time.sleep(0.5)
        review["vote"] = cli("approve", str(pending["id"]), "--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db))  # fmt: skip
        review["answered"] = time.monotonic()

    with Monitor(db=str(db), log="none", policy=str(pack)) as mon:

        @mon.step(name="prepare_config")
        def prepare(config: str) -> str:
            return config

        @mon.step(name="launch_training", kind="train.launch")
        async def launch(config: str) -> str:
            return f"job for {prepare(config)}"

        async def heartbeat() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        async def agent() -> str:
            beat = asyncio.create_task(heartbeat())
            try:
                async with mon.session("async-wait"):
                    return await launch("big.yaml")
            finally:
                beat.cancel()

        person = threading.Thread(target=reviewer)
        person.start()
        result = asyncio.run(agent())
        person.join(timeout=60)

    assert review["vote"].returncode == 0, review["vote"].stderr
    assert result == "job for big.yaml"
    during_the_wait = [t for t in ticks if review["seen"] <= t <= review["answered"]]
    assert len(during_the_wait) >= 10, "the event loop stopped while the step waited"
    steps = {r.name: r for r in records(db, "async-wait") if isinstance(r, StepProposed)}
    # The session and the parent step still reach code run inside the approved step.
    assert steps["prepare_config"].parent_id == steps["launch_training"].step_id
    (launched,) = [
        r
        for r in records(db, "async-wait")
        if isinstance(r, StepFinished) and r.step_id == steps["launch_training"].step_id
    ]
    assert launched.status == "ok" and launched.approved_by == ["alice"]


def test_cancelling_a_task_that_waits_for_a_reviewer_withdraws_its_approval(
    tmp_path: Path,
) -> None:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys)
    pack = write_gate_pack(tmp_path, timeout=8)
    ran: list[str] = []

    with Monitor(db=str(db), log="none", policy=str(pack)) as mon:

        @mon.step(name="launch_training", kind="train.launch")
        async def launch(config: str) -> None:
            ran.append(config)

        async def agent() -> dict[str, Any]:
            async with mon.session("given-up"):
                task = asyncio.create_task(launch("big.yaml"))
                pending = await asyncio.to_thread(wait_for_pending, db)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                return pending

        started = time.monotonic()
        pending = asyncio.run(agent())
        for thread in admit_threads():
            thread.join(timeout=5)
        stopped_after = time.monotonic() - started

    assert admit_threads() == [], "a thread still waits for a caller that has gone"
    assert stopped_after < 8, "the wait went on to its deadline"
    with open_store(f"sqlite:///{db}") as store:
        approval = store.approval(str(pending["id"]))
    assert approval is not None
    assert approval["status"] == "withdrawn" and approval["consumed_by"] is None
    (finished,) = [r for r in records(db, "given-up") if isinstance(r, StepFinished)]
    assert finished.status == "cancelled" and "cancelled" in (finished.error or "")
    assert ran == []
    late = cli("approve", str(pending["id"]), "--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db))  # fmt: skip
    assert late.returncode != 0, "a withdrawn approval must not take votes"


def test_an_async_step_nobody_can_approve_is_refused_in_the_awaiting_task(
    tmp_path: Path,
) -> None:
    db = tmp_path / "o.db"
    pack = write_gate_pack(tmp_path, timeout=60)
    ran: list[str] = []

    with Monitor(db=str(db), log="none", policy=str(pack)) as mon:

        @mon.step(name="launch_training", kind="train.launch")
        async def launch(config: str) -> None:
            ran.append(config)

        async def agent() -> None:
            async with mon.session("nobody"):
                await launch("big.yaml")

        with pytest.raises(CheckpointDenied, match="needs 1 reviewer"):
            asyncio.run(agent())
    assert ran == []
