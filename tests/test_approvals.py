"""Human approvals with real processes: an agent waits; reviewers answer from elsewhere."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reviewing import LAUNCH_AGENT, cli, finish, register_reviewers, wait_for_pending

from oversight.approvals.signing import new_private_key, sign, vote_payload
from oversight.records import Alert, StepFinished
from oversight.store import open_store

PACK = """
name: test-gate
unmatched: {{consequential: allow, other: allow}}
rules:
  - id: gate-training
    match: {{kind: [train.launch]}}
    effect: require_approval
    reason: training needs a person
    approval: {{role: approver, quorum: {quorum}, timeout_s: {timeout}}}
"""


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys)
    return db, keys, tmp_path


def start_agent(
    tmp_path: Path, db: Path, *, quorum: int = 1, timeout: float = 30
) -> subprocess.Popen[str]:
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK.format(quorum=quorum, timeout=timeout))
    script = tmp_path / "agent.py"
    script.write_text(LAUNCH_AGENT)
    return subprocess.Popen(
        [sys.executable, str(script), str(db), str(pack)], stdout=subprocess.PIPE, text=True
    )


def pending_id(db: Path) -> str:
    return str(wait_for_pending(db)["id"])


def outcome(db: Path) -> StepFinished:
    with open_store(f"sqlite:///{db}") as store:
        (done,) = [s.record for s in store.iter_records("exp", types={"step.finished"})]
    assert isinstance(done, StepFinished)
    return done


def test_an_agent_blocked_on_approval_resumes_when_a_reviewer_approves(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    agent = start_agent(tmp, db)
    approval = pending_id(db)
    listed = cli("approvals", "--db", str(db))
    assert "launch_training" in listed.stdout and "training needs a person" in listed.stdout
    done = cli(
        "approve", approval, "--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db)
    )
    assert done.returncode == 0, done.stderr
    assert "RAN configs/big.yaml" in finish(agent)
    record = outcome(db)
    assert record.status == "ok" and record.approved_by == ["alice"]


def test_a_reviewers_denial_reaches_the_agent_with_its_reason(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    agent = start_agent(tmp, db)
    approval = pending_id(db)
    cli(
        "deny",
        approval,
        "--as",
        "bob",
        "--key",
        str(keys / "bob.pem"),
        "--reason",
        "use 8 GPUs",
        "--db",
        str(db),
    )
    assert "DENIED use 8 GPUs (bob)" in finish(agent)
    assert outcome(db).status == "denied"


def test_no_answer_by_the_deadline_denies_as_timed_out(setup) -> None:  # type: ignore[no-untyped-def]
    db, _, tmp = setup
    agent = start_agent(tmp, db, timeout=0.5)
    out = finish(agent)
    assert "TIMEOUT" in out and "RAN" not in out
    assert outcome(db).status == "timed_out"


def test_a_forged_vote_row_is_ignored_and_raises_an_alert(setup) -> None:  # type: ignore[no-untyped-def]
    db, _, tmp = setup
    agent = start_agent(tmp, db, timeout=2)
    approval = pending_id(db)
    with open_store(f"sqlite:///{db}") as store:
        digest = str(store.approval(approval)["args_digest"])  # type: ignore[index]
    # The agent writes a vote itself, signed with a key of its own, as alice.
    own_key = new_private_key()
    signature = sign(own_key, vote_payload(approval, digest, "approve", "alice", ""))
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO oversight_votes (approval_id, reviewer, decision, reason, signature, created_at)"
        " VALUES (?, 'alice', 'approve', '', ?, 'now')",
        (approval, signature),
    )
    conn.commit()
    conn.close()
    out = finish(agent)
    assert "TIMEOUT" in out and "RAN" not in out
    with open_store(f"sqlite:///{db}") as store:
        alerts = [s.record for s in store.iter_records("exp", types={"alert"})]
    assert alerts and isinstance(alerts[0], Alert) and "does not verify" in alerts[0].reason


def test_quorum_needs_two_distinct_reviewers(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, tmp = setup
    agent = start_agent(tmp, db, quorum=2)
    approval = pending_id(db)
    alice = ("--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db))
    assert cli("approve", approval, *alice).returncode == 0
    assert cli("approve", approval, *alice).returncode == 0  # the same person twice is one vote
    time.sleep(0.5)
    assert agent.poll() is None, "one reviewer is not a quorum of two"
    cli("approve", approval, "--as", "bob", "--key", str(keys / "bob.pem"), "--db", str(db))
    assert "RAN" in finish(agent)
    assert outcome(db).approved_by == ["alice", "bob"]


def test_a_reviewer_row_written_into_the_database_is_not_trusted(setup) -> None:  # type: ignore[no-untyped-def]
    db, _, _ = setup
    key = new_private_key()
    from oversight.approvals.signing import public_hex

    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO oversight_reviewers VALUES ('mallory', 'admin', ?, 'root', '00', 'now')",
        (public_hex(key),),
    )
    conn.commit()
    conn.close()
    listed = cli("reviewer", "list", "--db", str(db), "--json")
    assert "mallory" not in listed.stdout.split('"rejected"')[0]
    assert "mallory" in listed.stdout and "does not verify" in listed.stdout


def test_new_reviewers_need_an_admins_endorsement(setup) -> None:  # type: ignore[no-untyped-def]
    db, keys, _ = setup
    out = cli("reviewer", "add", "eve", "--key-out", str(keys / "eve.pem"), "--db", str(db))
    assert out.returncode == 2 and "admin must endorse" in out.stderr
    out = cli(
        "reviewer", "add", "eve", "--key-out", str(keys / "eve2.pem"),
        "--as", "alice", "--key", str(keys / "alice.pem"), "--db", str(db),
    )  # fmt: skip
    assert out.returncode == 2 and "not a registered admin" in out.stderr


@pytest.mark.postgres
def test_approvals_work_on_postgresql_with_listen_notify(pg_url: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    assert (
        cli(
            "reviewer",
            "add",
            "root",
            "--role",
            "admin",
            "--key-out",
            str(keys / "root.pem"),
            "--db",
            pg_url,
        ).returncode
        == 0
    )
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK.format(quorum=1, timeout=30))
    script = tmp_path / "agent.py"
    script.write_text(LAUNCH_AGENT)
    agent = subprocess.Popen(
        [sys.executable, str(script), pg_url, str(pack)], stdout=subprocess.PIPE, text=True
    )
    end = time.monotonic() + 30
    approval = None
    while approval is None and time.monotonic() < end:
        with open_store(pg_url) as store:
            pending = store.approvals(status="pending")
        approval = str(pending[0]["id"]) if pending else None
        time.sleep(0.05)
    assert approval is not None
    done = cli("approve", approval, "--as", "root", "--key", str(keys / "root.pem"), "--db", pg_url)
    assert done.returncode == 0, done.stderr
    assert "RAN" in finish(agent)


def test_an_integration_is_notified_and_answers_with_a_signed_vote(setup) -> None:  # type: ignore[no-untyped-def]
    import threading

    from oversight import Monitor
    from oversight.approvals.broker import ApprovalRequest
    from oversight.approvals.signing import load_private_key

    db, keys, tmp = setup
    pack = tmp / "pack.yaml"
    pack.write_text(PACK.format(quorum=1, timeout=20))
    alice = load_private_key(keys / "alice.pem")
    seen: list[ApprovalRequest] = []

    def route_to_reviewer(request: ApprovalRequest) -> None:
        # A chat bot would post this; here the "reviewer" answers from another thread, signing
        # with her own key, exactly as `oversight approve` does.
        seen.append(request)

        def answer() -> None:
            payload = vote_payload(request.approval_id, request.args_digest, "approve", "alice", "")
            with open_store(f"sqlite:///{db}") as store:
                store.add_vote(
                    {
                        "approval_id": request.approval_id,
                        "reviewer": "alice",
                        "decision": "approve",
                        "reason": "",
                        "signature": sign(alice, payload),
                    }
                )

        threading.Thread(target=answer).start()

    ran: list[str] = []
    with Monitor(
        db=str(db), log="none", policy=str(pack), on_approval_request=route_to_reviewer
    ) as mon:

        @mon.step(name="launch_training", kind="train.launch")
        def launch(config: str) -> None:
            ran.append(config)

        with mon.session("notified"):
            launch("c.yaml")
    assert ran == ["c.yaml"]
    (request,) = seen
    assert request.name == "launch_training" and request.args == {"config": "c.yaml"}
    assert request.reason == "training needs a person" and request.rule == "gate-training"


def test_a_failing_notifier_does_not_approve_anything(setup, capsys) -> None:  # type: ignore[no-untyped-def]
    from oversight import CheckpointTimeout, Monitor

    db, _, tmp = setup
    pack = tmp / "pack.yaml"
    pack.write_text(PACK.format(quorum=1, timeout=0.3))

    def broken(request: object) -> None:
        raise RuntimeError("chat service down")

    with Monitor(db=str(db), log="none", policy=str(pack), on_approval_request=broken) as mon:
        with mon.session("s"), pytest.raises(CheckpointTimeout):
            mon.check("launch_training", {"config": "c.yaml"}, kind="train.launch")
    assert "chat service down" in capsys.readouterr().err
