"""Attacks on the approval desk, tried as an adversarial agent would (issue 12).

The agent can write the plain approval tables (`oversight_votes`, `oversight_approvals`) but
holds no reviewer key. Each test is the attack; it failed before the fix it names.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from reviewing import cli, register_reviewers, write_gate_pack

from oversight import ApprovalPending, CheckpointDenied, Monitor, SessionHalted
from oversight.approvals.broker import ApprovalRequest, _Tally, tally_votes
from oversight.approvals.registry import Reviewer
from oversight.approvals.signing import (
    load_private_key,
    new_private_key,
    public_hex,
    sign,
    vote_payload,
)
from oversight.approvals.votes import cast_vote
from oversight.decide import ApprovalSpec
from oversight.records import Alert, StepFinished
from oversight.store import open_store

CLAIMER = textwrap.dedent(
    """
    import sys
    from oversight import Monitor, ApprovalPending, CheckpointDenied
    db, pack, approval_id = sys.argv[1:4]
    mon = Monitor(db=db, log="none", policy=pack)
    with mon.session("graph-1"):
        try:
            handle = mon.check("launch_training", {"config": "big.yaml"}, kind="train.launch",
                               wait=False, approval_id=approval_id)
        except ApprovalPending as exc:
            print("PENDING", exc.approval_id, flush=True)
            sys.exit(0)
        except CheckpointDenied as exc:
            print("DENIED", exc.reason, flush=True)
            sys.exit(0)
        print("RAN", flush=True)
        handle.succeed("done")
    """
)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys)
    write_gate_pack(tmp_path, timeout=60)
    (tmp_path / "claimer.py").write_text(CLAIMER)
    return db, keys, tmp_path


def claim(tmp: Path, db: Path, approval_id: str) -> subprocess.CompletedProcess[str]:
    """The agent (re)claims a named approval from a fresh process, as a resumed graph would."""
    return subprocess.run(
        [sys.executable, str(tmp / "claimer.py"), str(db), str(tmp / "pack.yaml"), approval_id],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def alerts(db: Path, session: str) -> list[str]:
    with open_store(f"sqlite:///{db}") as store:
        found = [s.record for s in store.iter_records(session, types={"alert"})]
    return [a.reason for a in found if isinstance(a, Alert)]


def finished(db: Path, session: str) -> list[str]:
    with open_store(f"sqlite:///{db}") as store:
        found = [s.record for s in store.iter_records(session, types={"step.finished"})]
    return [f.status for f in found if isinstance(f, StepFinished)]


def forge_vote(db: Path, approval_id: str, digest: str, *, created_at: str) -> None:
    """The agent writes an approving vote as alice, signed with a key of its own."""
    signature = sign(new_private_key(), vote_payload(approval_id, digest, "approve", "alice", ""))
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO oversight_votes (approval_id, reviewer, decision, reason, signature,"
            " created_at) VALUES (?, 'alice', 'approve', '', ?, ?)",
            (approval_id, signature, created_at),
        )


def digest_of(db: Path, approval_id: str) -> str:
    with open_store(f"sqlite:///{db}") as store:
        row = store.approval(approval_id)
    assert row is not None
    return str(row["args_digest"])


# -- a reviewer's denials escalate ------------------------------------------------------------


def test_a_reviewers_denials_of_the_same_call_halt_the_session(setup) -> None:  # type: ignore[no-untyped-def]
    """Before: only the policy's denials were counted; a person could deny the same launch
    forever and the agent kept asking. After: the third denial halts the session."""
    db, keys, tmp = setup
    mon = Monitor(db=str(db), log="none", policy=str(tmp / "pack.yaml"))
    bob = load_private_key(keys / "bob.pem")
    with open_store(f"sqlite:///{db}") as store:

        def deny(request: ApprovalRequest) -> None:
            row = store.approval(request.approval_id)
            assert row is not None
            cast_vote(store, row, "bob", bob, "deny", "not on the shared cluster")

        mon._pipeline.approvals.notify = deny  # type: ignore[union-attr]
        outcomes: list[str] = []
        with pytest.raises(SessionHalted, match="3 times") as halted, mon.session("s"):
            for _ in range(5):
                try:
                    mon.check("launch_training", {"config": "big.yaml"}, kind="train.launch")
                except CheckpointDenied as exc:
                    outcomes.append(exc.reason)
    mon.close()
    assert len(outcomes) == 2 and all("not on the shared cluster (bob)" in o for o in outcomes)
    assert "not on the shared cluster" in halted.value.reason
    assert finished(db, "s") == ["denied", "denied", "halted"]


def test_denials_reached_by_claiming_count_too(setup) -> None:  # type: ignore[no-untyped-def]
    """Deferring (`wait=False`) and claiming later is no way around the count."""
    db, keys, tmp = setup
    mon = Monitor(db=str(db), log="none", policy=str(tmp / "pack.yaml"))
    bob = load_private_key(keys / "bob.pem")
    call: dict[str, Any] = {"config": "big.yaml"}
    with open_store(f"sqlite:///{db}") as store, mon.session("s"):
        for attempt in range(3):
            with pytest.raises(ApprovalPending) as pending:
                mon.check("launch_training", call, kind="train.launch", wait=False)
            row = store.approval(pending.value.approval_id)
            assert row is not None
            cast_vote(store, row, "bob", bob, "deny", "no")
            expected = SessionHalted if attempt == 2 else CheckpointDenied
            with pytest.raises(expected):
                mon.check(
                    "launch_training",
                    call,
                    kind="train.launch",
                    approval_id=pending.value.approval_id,
                )
    mon.close()
    assert finished(db, "s")[-1] == "halted"


# -- forged votes are alerted on every path -----------------------------------------------


def test_a_forged_vote_seen_when_claiming_raises_an_alert_every_time(setup) -> None:  # type: ignore[no-untyped-def]
    """Before: a forged vote met on the claim path (`wait=False`, then `approval_id=`) was
    ignored without a trace. After: each claim that sees it records an alert."""
    db, _, tmp = setup
    first = claim(tmp, db, "thread:1")
    assert first.stdout.strip() == "PENDING thread:1", first.stderr
    forge_vote(db, "thread:1", digest_of(db, "thread:1"), created_at="2020-01-01T00:00:00Z")
    for seen in (1, 2):
        again = claim(tmp, db, "thread:1")
        assert again.stdout.strip() == "PENDING thread:1", again.stderr
        found = alerts(db, "graph-1")
        assert len(found) == seen
        assert all("'alice'" in a and "does not verify" in a for a in found)


def test_a_forged_vote_planted_before_the_approval_is_asked_for_is_alerted(setup) -> None:  # type: ignore[no-untyped-def]
    """The agent chooses an approval id up front and plants a vote for it first."""
    db, _, tmp = setup
    mon = Monitor(db=str(db), log="none", policy=str(tmp / "pack.yaml"))
    with pytest.raises(ApprovalPending), mon.session("s"):
        digest = mon._pipeline.normalise({"config": "big.yaml"}).digest
        forge_vote(db, "planted", digest, created_at="2020-01-01T00:00:00Z")
        mon.check(
            "launch_training",
            {"config": "big.yaml"},
            kind="train.launch",
            wait=False,
            approval_id="planted",
        )
    mon.close()
    found = alerts(db, "s")
    assert len(found) == 1 and "does not verify" in found[0]


# -- malformed vote rows fail closed ------------------------------------------------------


def test_a_real_vote_given_a_naive_time_fails_closed_when_claimed(setup) -> None:  # type: ignore[no-untyped-def]
    """Before: a vote whose time had no zone made the claim raise TypeError (a traceback in the
    agent). After: that vote does not count, an alert says why, and the claim is still pending."""
    db, keys, tmp = setup
    assert claim(tmp, db, "thread:2").stdout.strip() == "PENDING thread:2"
    voted = cli("approve", "thread:2", "--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db))  # fmt: skip
    assert voted.returncode == 0, voted.stderr
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE oversight_votes SET created_at = '2020-01-01T00:00:00'")
    again = claim(tmp, db, "thread:2")
    assert "Traceback" not in again.stderr and again.returncode == 0, again.stderr
    assert again.stdout.strip() == "PENDING thread:2"
    found = alerts(db, "graph-1")
    assert len(found) == 1 and "has no time zone" in found[0] and "does not count" in found[0]


def _trusted() -> tuple[dict[str, Reviewer], Any]:
    key = new_private_key()
    return {"alice": Reviewer("alice", "approver", public_hex(key))}, key


APPROVAL = {
    "id": "a1",
    "args_digest": "d" * 64,
    "role": "approver",
    "quorum": 1,
    "deadline": "2999-01-01T00:00:00Z",
}


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"created_at": "2020-01-01T00:00:00"}, "has no time zone"),
        ({"created_at": "yesterday"}, "is not a time"),
        ({"created_at": None}, "created_at NULL is not a time"),
        ({"created_at": 1577836800}, "created_at 1577836800 is not a time"),
        ({"reviewer": None}, "reviewer is NULL"),
        ({"decision": b"approve"}, "decision is b'approve', not text"),
        ({"reason": None}, "reason is NULL"),
        ({"signature": 7}, "signature is 7, not text"),
        ({"args_patch": 3}, "args_patch is 3, not text"),
    ],
)
def test_a_malformed_vote_row_never_counts_and_says_why(change: dict[str, Any], why: str) -> None:
    """Every field of a vote row is the agent's to write: a row that is not well formed is not
    counted, however good its signature, and the reason names the field."""
    trusted, key = _trusted()
    signature = sign(key, vote_payload("a1", "d" * 64, "approve", "alice", ""))
    good = {
        "id": 1,
        "approval_id": "a1",
        "reviewer": "alice",
        "decision": "approve",
        "reason": "",
        "signature": signature,
        "created_at": "2020-01-01T00:00:00.000000Z",
        "args_patch": None,
    }
    assert tally_votes(APPROVAL, [good], trusted).status == "approved"  # the control
    outcome = tally_votes(APPROVAL, [{**good, **change}], trusted)
    assert outcome.status == "pending"
    assert len(outcome.rejected_votes) == 1 and why in outcome.rejected_votes[0]


def test_a_vote_slipped_in_under_an_earlier_id_is_still_read() -> None:
    """Votes are read by id, not by position: a row inserted under a lower id after a poll is
    read at the next one (before, the position-based read skipped it)."""
    trusted, key = _trusted()
    tally = _Tally("a1", "d" * 64, ApprovalSpec(role="approver", quorum=1), [])
    row = {
        "approval_id": "a1",
        "reviewer": "alice",
        "decision": "deny",
        "reason": "no",
        "created_at": "2020-01-01T00:00:00.000000Z",
        "args_patch": None,
    }
    forged = {**row, "id": 5, "signature": sign(new_private_key(), vote_payload("a1", "d" * 64, "deny", "alice", "no"))}  # fmt: skip
    assert tally.fold([forged], lambda: trusted) is None
    real = {**row, "id": 2, "signature": sign(key, vote_payload("a1", "d" * 64, "deny", "alice", "no"))}  # fmt: skip
    outcome = tally.fold([real, forged], lambda: trusted)
    assert outcome is not None and outcome.status == "denied"
