"""Approvals nobody is waiting for any more: they expire at their deadline, derived on read.

An agent killed while it waits leaves its approval `pending` in the store. Past the deadline it
must not be listed as waiting, votes on it are refused with the reason, and nothing can run on
it later. An approval decided in time but not claimed yet shows as decided, not pending.
"""

from __future__ import annotations

import calendar
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from reviewing import cli, register_reviewers, write_gate_pack

from oversight import ApprovalPending, CheckpointTimeout, Monitor
from oversight.approvals.signing import load_private_key, sign, vote_payload
from oversight.approvals.votes import ApprovalClosed, cast_vote
from oversight.store import open_store

AGENT = textwrap.dedent(
    """
    import sys
    from oversight import Monitor
    mon = Monitor(db=sys.argv[1], log="none", policy=sys.argv[2])

    @mon.step(name="launch_training", kind="train.launch")
    def launch(config):
        print("RAN", config, flush=True)

    with mon.session("exp", agent="bot"):
        launch("configs/big.yaml")
    """
)


def first_pending(url: str, wait_s: float = 30) -> dict[str, Any]:
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        with open_store(url) as store:
            rows = store.approvals(status="pending")
        if rows:
            return rows[0]
        time.sleep(0.05)
    raise AssertionError("the agent never asked for approval")


def sleep_past(deadline: str) -> None:
    due = calendar.timegm(time.strptime(deadline, "%Y-%m-%dT%H:%M:%SZ"))
    time.sleep(max(due - time.time(), 0.0) + 0.2)


def listed(url: str, *flags: str) -> list[dict[str, Any]]:
    done = cli("approvals", "--json", *flags, "--db", url)
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def test_an_approval_whose_agent_was_killed_expires_at_its_deadline(
    store_url: str, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    register_reviewers(store_url, keys, ("alice",))
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    agent = subprocess.Popen(
        [sys.executable, str(script), store_url, str(write_gate_pack(tmp_path, timeout=3))],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        row = first_pending(store_url)
    finally:
        os.kill(agent.pid, signal.SIGKILL)
        agent.communicate(timeout=30)
    assert agent.returncode == -signal.SIGKILL
    approval_id = str(row["id"])
    # Killed before its deadline: still open, and listed as waiting.
    assert [r["id"] for r in listed(store_url)] == [approval_id]

    sleep_past(str(row["deadline"]))
    assert listed(store_url) == []
    plain = cli("approvals", "--db", store_url)
    assert "no approvals waiting for a reviewer" in plain.stdout
    (shown,) = listed(store_url, "--all")
    assert shown["status"] == "timed_out" and shown["open"] is False
    assert f"expired at {row['deadline']}" in shown["note"]
    assert "the step was not run" in shown["note"]

    alice = ("--as", "alice", "--key", str(keys / "alice.pem"), "--db", store_url)
    for vote in (
        ("approve", approval_id),
        ("deny", approval_id, "--reason", "too late"),
        ("modify", approval_id, "--set", "config=small.yaml"),
    ):
        refused = cli(*vote, *alice)
        assert refused.returncode == 2, refused.stdout
        assert f"approval {approval_id} expired at {row['deadline']}" in refused.stderr
        assert "the step was not run" in refused.stderr
        assert "recorded" not in refused.stdout
    with open_store(store_url) as store:
        assert store.votes(approval_id) == []


def test_a_vote_cast_after_the_deadline_never_runs_the_step(store_url: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    register_reviewers(store_url, keys, ("alice",))
    pack = write_gate_pack(tmp_path, timeout=1)
    ran: list[str] = []
    with Monitor(db=store_url, log="none", policy=str(pack)) as mon, mon.session("g"):
        with pytest.raises(ApprovalPending) as pending:
            mon.check("launch_training", {"config": "a"}, kind="train.launch", wait=False)
        approval_id = pending.value.approval_id
        with open_store(store_url) as store:
            row = store.approval(approval_id)
            assert row is not None
            sleep_past(str(row["deadline"]))
            alice = load_private_key(keys / "alice.pem")
            with pytest.raises(ApprovalClosed, match="expired at"):
                cast_vote(store, row, "alice", alice, "approve")
            # An integration that writes its signed vote straight into the store, too late.
            payload = vote_payload(approval_id, str(row["args_digest"]), "approve", "alice", "")
            store.add_vote(
                {
                    "approval_id": approval_id,
                    "reviewer": "alice",
                    "decision": "approve",
                    "reason": "",
                    "signature": sign(alice, payload),
                }
            )
        for wait in (False, True):
            with pytest.raises(CheckpointTimeout):
                handle = mon.check(
                    "launch_training",
                    {"config": "a"},
                    kind="train.launch",
                    wait=wait,
                    approval_id=approval_id,
                )
                ran.append("a")
                handle.succeed()
    assert ran == []


def test_an_approval_decided_in_time_shows_as_decided_until_its_agent_claims_it(
    tmp_path: Path,
) -> None:
    db = tmp_path / "o.db"
    keys = tmp_path / "keys"
    register_reviewers(db, keys, ("alice",))
    pack = write_gate_pack(tmp_path, timeout=2)
    url = f"sqlite:///{db}"
    with Monitor(db=str(db), log="none", policy=str(pack)) as mon, mon.session("g"):
        with pytest.raises(ApprovalPending) as pending:
            mon.check("launch_training", {"config": "a"}, kind="train.launch", wait=False)
        approval_id = pending.value.approval_id
        alice = ("--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db))
        assert cli("approve", approval_id, *alice).returncode == 0
        # Decided: no longer waiting for a reviewer, but not run yet either.
        assert listed(url) == []
        (shown,) = listed(url, "--all")
        assert shown["status"] == "approved" and "not claimed yet" in shown["note"]
        assert shown["stored_status"] == "pending"

        with open_store(url) as store:
            row = store.approval(approval_id)
        assert row is not None
        sleep_past(str(row["deadline"]))
        (shown,) = listed(url, "--all")
        assert shown["status"] == "approved" and shown["open"] is False
        late = cli("deny", approval_id, *alice)
        assert late.returncode == 2 and "already approved" in late.stderr
        # Approved before its deadline, so the agent coming back later may still run it, once.
        handle = mon.check(
            "launch_training", {"config": "a"}, kind="train.launch", approval_id=approval_id
        )
        handle.succeed()
        assert handle.approved_by == ["alice"]
    (shown,) = listed(url, "--all")
    assert shown["status"] == "approved" and shown["consumed_by"] == handle.step_id


def test_the_pending_query_leaves_out_approvals_past_their_deadline(store_url: str) -> None:
    now = time.time()
    with open_store(store_url) as store:
        for approval_id, deadline in (("past", now - 1), ("future", now + 60)):
            store.create_approval(
                {
                    "id": approval_id,
                    "session_id": "s",
                    "step_id": f"step-{approval_id}",
                    "args_digest": "d",
                    "kind": "train.launch",
                    "name": "launch_training",
                    "args": "{}",
                    "reason": "r",
                    "rule": None,
                    "role": "approver",
                    "quorum": 1,
                    "deadline": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(deadline)),
                }
            )
        assert [r["id"] for r in store.approvals(status="pending")] == ["future"]
        assert sorted(r["id"] for r in store.approvals()) == ["future", "past"]


def test_a_deadline_is_never_stored_earlier_than_the_wait_ends(tmp_path: Path) -> None:
    """Deadlines are stored in whole seconds, rounded up: an approval asked for just after a
    second begins, with a sub-second timeout, is not expired the moment it is created."""
    db = tmp_path / "o.db"
    register_reviewers(db, tmp_path / "keys", ("alice",))
    pack = write_gate_pack(tmp_path, timeout=0.5)
    with Monitor(db=str(db), log="none", policy=str(pack)) as mon, mon.session("g"):
        time.sleep(1.05 - time.time() % 1.0)  # just after a second begins
        asked = time.time()
        with pytest.raises(ApprovalPending) as pending:
            mon.check("launch_training", {"config": "a"}, kind="train.launch", wait=False)
        with open_store(f"sqlite:///{db}") as store:
            row = store.approval(pending.value.approval_id)
    assert row is not None
    assert calendar.timegm(time.strptime(str(row["deadline"]), "%Y-%m-%dT%H:%M:%SZ")) >= asked + 0.5
