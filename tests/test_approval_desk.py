"""The approval desk on its own (issue 13): grants, signed votes, deadlines, claims and withdrawal,
decided against a `ReviewState` with no monitor, pipeline or agent process around it.

Every desk test runs against the in-memory review state and against a real `SQLStore` (SQLite,
and PostgreSQL when configured), so the in-memory state is held to the SQL store's behaviour.
Reviewers are registered and votes signed in-process through the same code the CLI uses
(`signing`, `cast_vote`); a ticking fake clock lets a deadline minutes away pass in a few polls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from reviewing import register_in_process

from oversight.approvals.broker import ApprovalDesk, ApprovalRequest, Outcome
from oversight.approvals.deadlines import deadline_text
from oversight.approvals.grants import grant_payload
from oversight.approvals.memory_state import InMemoryReviewState
from oversight.approvals.signing import endorsement_payload, new_private_key, public_hex, sign
from oversight.approvals.votes import cast_vote
from oversight.canonical import digest, new_id
from oversight.decide import ApprovalSpec, Proposal
from oversight.errors import StoreUnavailableError
from oversight.kinds import Kind
from oversight.store import AuditStore, RecordLog, ReviewState, SQLStore, open_store

NOT_HALTED: Callable[[], str | None] = lambda: None


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReviewState]:
    """A fresh, empty review state: in memory, or the review tables of a real SQL store."""
    if request.param == "memory":
        yield InMemoryReviewState()
        return
    url = f"sqlite:///{tmp_path / 'o.db'}" if request.param == "sqlite" else None
    with open_store(url or request.getfixturevalue("pg_url")) as store:
        yield store


# -- reviewers, calls and votes ---------------------------------------------------------------


def call(step_id: str = "st1", *, gpus: int = 8, session_id: str = "s1") -> Proposal:
    """A training launch of `gpus` GPUs for 2 hours."""
    args = {"gpus": gpus, "hours": 2}
    return Proposal(
        session_id=session_id,
        step_id=step_id,
        seq=1,
        name="launch_training",
        kind=Kind.TRAIN_LAUNCH,
        actor="agent",
        args=args,
        args_digest=digest({"name": "launch_training", "args": args}),
        flags=frozenset(),
        targets=(),
    )


class TickingClock:
    """A monotonic clock that moves `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class RecordingNotice:
    """A `Notice` that keeps what it was told: approvals waited on, and why none could be."""

    def __init__(self) -> None:
        self.waited: list[str] = []
        self.refused: list[str] = []

    def waiting(self, request: ApprovalRequest, timeout_s: float) -> None:
        self.waited.append(request.approval_id)

    def unreviewable(self, proposal: Proposal, reason: str, rule: str | None, why: str) -> None:
        self.refused.append(why)


Vote = tuple[str, str, str] | tuple[str, str, str, dict[str, Any]]
"""(reviewer, decision, reason[, edit]) cast as the request starts waiting."""


def desk(
    state: ReviewState,
    keys: dict[str, Ed25519PrivateKey],
    votes: Sequence[Vote] = (),
    **options: Any,
) -> ApprovalDesk:
    """A desk whose notifier casts `votes` (signed with `keys`) on each approval it announces."""

    def answer(request: ApprovalRequest) -> None:
        row = state.approval(request.approval_id)
        assert row is not None and row["status"] == "pending"
        for name, decision, reason, *edit in votes:
            patch = edit[0] if edit else None
            cast_vote(state, row, name, keys[name], decision, reason, args_patch=patch)

    options.setdefault("poll_s", 0.001)
    # A second per reading: a test that expects a decision and gets none ends in a few
    # hundred polls, not at a real deadline.
    options.setdefault("clock", TickingClock(1.0))
    return ApprovalDesk(state, notify=answer, **options)


def ask(
    desk_: ApprovalDesk,
    proposal: Proposal | None = None,
    spec: ApprovalSpec | None = None,
    **kw: Any,
) -> Outcome:
    kw.setdefault("halted", NOT_HALTED)
    return desk_.request(
        proposal or call(),
        spec or ApprovalSpec(timeout_s=300),
        reason="training",
        rule="gate",
        **kw,
    )


# -- the desk ---------------------------------------------------------------------------------


def test_a_trusted_quorum_approves_and_the_step_uses_the_approval(state: ReviewState) -> None:
    keys = register_in_process(state)
    votes: list[Vote] = [("alice", "approve", "ok"), ("bob", "approve", "fine")]
    outcome = ask(desk(state, keys, votes), spec=ApprovalSpec(quorum=2, timeout_s=300))
    assert (outcome.status, outcome.approvers, outcome.rejected_votes) == (
        "approved",
        ["alice", "bob"],
        [],
    )
    assert outcome.wait_ms is not None and outcome.wait_ms >= 0
    row = state.approval(str(outcome.approval_id))
    assert row is not None
    assert (row["status"], row["outcome"]) == ("approved", "approved by alice, bob")
    assert row["consumed_by"] == "st1"


def test_one_approval_does_not_meet_a_quorum_of_two(state: ReviewState) -> None:
    keys = register_in_process(state)
    votes: list[Vote] = [("alice", "approve", "ok"), ("alice", "approve", "again")]
    d = desk(state, keys, votes, clock=TickingClock(60.0))
    outcome = ask(d, spec=ApprovalSpec(quorum=2, timeout_s=300))
    assert outcome.status == "timed_out"
    assert "1/2 approvals" in outcome.reason


def test_a_vote_by_an_untrusted_key_is_rejected_and_reported(state: ReviewState) -> None:
    keys = register_in_process(state, ("alice",))
    keys["mallory"] = new_private_key()  # never registered
    votes: list[Vote] = [("mallory", "approve", "trust me"), ("alice", "approve", "ok")]
    d = desk(state, keys, votes)
    outcome = ask(d)
    assert outcome.status == "approved" and outcome.approvers == ["alice"]
    assert outcome.rejected_votes == [
        "vote by 'mallory': not a trusted reviewer with role 'approver'"
    ]


def test_a_vote_signed_with_someone_elses_key_does_not_count(state: ReviewState) -> None:
    register_in_process(state, ("alice",))
    forged = {"alice": new_private_key()}  # alice's name, another key
    d = desk(state, forged, [("alice", "approve", "ok")], clock=TickingClock(100.0))
    outcome = ask(d)
    assert outcome.status == "timed_out"
    assert outcome.rejected_votes == ["vote by 'alice': signature does not verify for this call"]


def test_a_denial_carries_the_reviewers_reason(state: ReviewState) -> None:
    keys = register_in_process(state)
    outcome = ask(desk(state, keys, [("bob", "deny", "too many GPUs")]))
    assert outcome.status == "denied"
    assert outcome.reason == "too many GPUs (bob)"
    assert outcome.approvers == ["bob"]
    row = state.approval(str(outcome.approval_id))
    assert row is not None
    assert (row["status"], row["outcome"], row["consumed_by"]) == (
        "denied",
        "too many GPUs (bob)",
        None,
    )


def test_a_deny_wins_over_an_approval_cast_before_the_quorum(state: ReviewState) -> None:
    keys = register_in_process(state)
    votes: list[Vote] = [("alice", "approve", "ok"), ("bob", "deny", "no")]
    outcome = ask(desk(state, keys, votes), spec=ApprovalSpec(quorum=2, timeout_s=300))
    assert (outcome.status, outcome.reason) == ("denied", "no (bob)")


def test_a_modification_returns_the_reviewers_edit(state: ReviewState) -> None:
    keys = register_in_process(state)
    outcome = ask(desk(state, keys, [("alice", "modify", "fewer GPUs", {"gpus": 2})]))
    assert (outcome.status, outcome.patch, outcome.approvers) == (
        "modified",
        {"gpus": 2},
        ["alice"],
    )
    assert outcome.reason == "modified by alice: fewer GPUs"
    row = state.approval(str(outcome.approval_id))
    assert row is not None and (row["status"], row["consumed_by"]) == ("modified", None)


def test_no_decision_by_the_deadline_times_out(state: ReviewState) -> None:
    keys = register_in_process(state)
    notice = RecordingNotice()
    d = desk(state, keys, clock=TickingClock(60.0), notice=notice)
    started = time.monotonic()
    outcome = ask(d, spec=ApprovalSpec(timeout_s=600))
    assert outcome.status == "timed_out"
    assert outcome.reason == "no decision within the deadline (0/1 approvals)"
    assert time.monotonic() - started < 10, "the fake clock, not the real one, ran out"
    assert notice.waited == [outcome.approval_id]
    row = state.approval(str(outcome.approval_id))
    assert row is not None and row["status"] == "timed_out"


def test_no_trusted_reviewer_for_the_role_is_unavailable_at_once(state: ReviewState) -> None:
    notice = RecordingNotice()
    outcome = ask(desk(state, {}, notice=notice))
    assert outcome.status == "unavailable"
    assert outcome.reason == "needs 1 reviewer(s) with role 'approver'; 0 registered " + (
        "(`oversight reviewer add`)"
    )
    assert notice.refused == [outcome.reason]
    assert state.approvals() == [], "nobody could answer: no approval is opened"


def test_a_quorum_larger_than_the_trusted_reviewers_is_unavailable(state: ReviewState) -> None:
    keys = register_in_process(state)
    # A row written straight into the table, endorsed by nobody trusted, is not a reviewer.
    stranger = new_private_key()
    state.add_reviewer(
        {
            "name": "eve",
            "role": "approver",
            "public_key": public_hex(stranger),
            "endorsed_by": "root",
            "endorsement": sign(stranger, endorsement_payload("eve", "approver", "x")),
        }
    )
    outcome = ask(desk(state, keys), spec=ApprovalSpec(quorum=4, timeout_s=300))
    assert outcome.status == "unavailable"
    assert "needs 4 reviewer(s)" in outcome.reason and "3 registered" in outcome.reason


def add_grant(
    state: ReviewState, key: Ed25519PrivateKey, by: str, *, max_gpu_hours: float | None
) -> str:
    row = {
        "id": new_id(),
        "kind": "train.launch",
        "session_id": None,
        "max_gpu_hours": max_gpu_hours,
        "expires_at": time.time() + 3600,
        "granted_by": by,
        "reason": "small runs are fine",
    }
    state.add_grant({**row, "signature": sign(key, grant_payload(row))})
    return str(row["id"])


def test_a_grant_covering_the_call_lets_it_run_without_a_person(state: ReviewState) -> None:
    keys = register_in_process(state, ("alice",))
    add_grant(state, keys["alice"], "alice", max_gpu_hours=4.0)  # 8 GPUs x 2 h is more than 4
    grant_id = add_grant(state, keys["alice"], "alice", max_gpu_hours=20.0)
    outcome = ask(desk(state, keys))
    assert outcome.status == "granted"
    assert outcome.approval_id == f"grant:{grant_id}"
    assert outcome.reason == f"covered by grant {grant_id} from alice (small runs are fine)"
    assert state.approvals() == []


def test_a_grant_by_an_untrusted_key_or_for_a_two_person_rule_covers_nothing(
    state: ReviewState,
) -> None:
    keys = register_in_process(state, ("alice", "bob"))
    add_grant(state, new_private_key(), "alice", max_gpu_hours=None)  # not alice's signature
    d = desk(state, keys, clock=TickingClock(100.0))
    assert ask(d, call("a")).status == "timed_out"
    add_grant(state, keys["alice"], "alice", max_gpu_hours=None)
    assert ask(d, call("b")).status == "granted"
    two_person = ask(d, call("c"), ApprovalSpec(quorum=2, timeout_s=300))
    assert two_person.status == "timed_out"


def test_not_waiting_leaves_the_approval_pending_for_later(state: ReviewState) -> None:
    keys = register_in_process(state)
    outcome = ask(desk(state, keys), wait=False)
    assert outcome.status == "pending"
    assert outcome.request is not None and outcome.request.approval_id == outcome.approval_id
    assert outcome.request.args == {"gpus": 8, "hours": 2}
    assert [r["id"] for r in state.approvals(status="pending")] == [outcome.approval_id]


def test_a_deferred_approval_is_claimed_once_its_votes_are_in(state: ReviewState) -> None:
    keys = register_in_process(state)
    d = desk(state, keys)
    first = ask(d, approval_id="ap-1", wait=False)
    assert first.status == "pending"
    row = state.approval("ap-1")
    assert row is not None
    cast_vote(state, row, "alice", keys["alice"], "approve", "go")
    claimed = ask(d, call("st1"), approval_id="ap-1", wait=False)
    assert (claimed.status, claimed.approvers) == ("approved", ["alice"])
    after = state.approval("ap-1")
    assert after is not None and after["consumed_by"] == "st1"


def test_an_approval_is_used_by_one_step_only(state: ReviewState) -> None:
    keys = register_in_process(state)
    d = desk(state, keys, [("alice", "approve", "ok")])
    assert ask(d, call("st1"), approval_id="ap-1").status == "approved"
    again = ask(d, call("st2"), approval_id="ap-1")
    assert (again.status, again.reason) == ("used", "approval ap-1 was already used by step st1")


def test_claiming_an_approval_for_a_different_call_is_refused(state: ReviewState) -> None:
    keys = register_in_process(state)
    d = desk(state, keys, [("alice", "approve", "ok")])
    assert ask(d, call("st1", gpus=1), approval_id="ap-1", wait=False).status == "approved"
    other = ask(d, call("st2", gpus=64), approval_id="ap-1")
    assert other.status == "mismatch"
    assert other.reason.startswith("approval ap-1 was given for a different call")
    elsewhere = ask(d, call("st3", gpus=1, session_id="s2"), approval_id="ap-1")
    assert elsewhere.status == "mismatch"


def test_a_cancelled_wait_is_withdrawn_and_leaves_the_approval_unused(state: ReviewState) -> None:
    keys = register_in_process(state)
    d = desk(state, keys, [("alice", "approve", "ok")])
    outcome = ask(d, cancelled=lambda: True)
    assert (outcome.status, outcome.reason) == (
        "withdrawn",
        "withdrawn: the waiting caller was cancelled",
    )
    row = state.approval(str(outcome.approval_id))
    assert row is not None and (row["status"], row["consumed_by"]) == ("withdrawn", None)


def test_a_halt_that_comes_with_the_approval_wins(state: ReviewState) -> None:
    keys = register_in_process(state)
    d = desk(state, keys, [("alice", "approve", "ok")])
    outcome = ask(d, halted=lambda: "halted by root: stop everything")
    assert (outcome.status, outcome.reason) == ("halted", "halted by root: stop everything")
    row = state.approval(str(outcome.approval_id))
    assert row is not None and (row["status"], row["consumed_by"]) == ("halted", None)


# -- the review state itself ------------------------------------------------------------------


def approval_row(approval_id: str, deadline: float) -> dict[str, Any]:
    return {
        "id": approval_id, "session_id": "s1", "step_id": "st1", "args_digest": "d",
        "kind": "train.launch", "name": "launch_training", "args": "{}", "reason": "training",
        "rule": "gate", "role": "approver", "quorum": 1, "deadline": deadline_text(deadline),
    }  # fmt: skip


def test_pending_leaves_out_approvals_past_their_deadline(state: ReviewState) -> None:
    state.create_approval(approval_row("old", time.time() - 5))
    state.create_approval(approval_row("new", time.time() + 300))
    assert [r["id"] for r in state.approvals()] == ["old", "new"]
    assert [r["id"] for r in state.approvals(status="pending")] == ["new"]


def test_closing_a_decided_approval_overwrites_it_and_use_is_once(state: ReviewState) -> None:
    state.create_approval(approval_row("ap", time.time() + 300))
    state.close_approval("ap", "approved", "approved by alice")
    state.close_approval("ap", "halted", "halted")
    row = state.approval("ap")
    assert row is not None and (row["status"], row["outcome"]) == ("halted", "halted")
    assert row["decided_at"] is not None
    assert state.consume_approval("ap", "st1") is None
    assert state.consume_approval("ap", "st2") == "st1"
    assert state.consume_approval("nope", "st3") == "(unknown approval)"
    state.close_approval("nope", "denied", "x")
    assert state.approval("nope") is None


def test_many_threads_racing_for_one_approval_let_exactly_one_win(state: ReviewState) -> None:
    state.create_approval(approval_row("ap", time.time() + 300))
    results: list[str | None] = []
    start = threading.Barrier(8)

    def claim(i: int) -> None:
        start.wait()
        results.append(state.consume_approval("ap", f"st{i}"))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winner = state.approval("ap")
    assert winner is not None
    assert results.count(None) == 1
    assert sorted(r for r in results if r is not None) == [winner["consumed_by"]] * 7


def test_a_resume_lifts_a_halt_once(state: ReviewState) -> None:
    state.halt("s1", "stop", "bob")
    state.halt("*", "stop all", "bob")
    halt_id = next(h["id"] for h in state.halts() if h["scope"] == "*")
    state.resume(halt_id, "root", "sig-1")
    state.resume(halt_id, "mallory", "sig-2")
    rows = {h["scope"]: h for h in state.halts()}
    assert (rows["*"]["resumed_by"], rows["*"]["resume_signature"]) == ("root", "sig-1")
    assert rows["s1"]["resumed_at"] is None
    assert rows["s1"]["id"] != rows["*"]["id"]


def test_votes_come_back_in_the_order_they_were_cast(state: ReviewState) -> None:
    state.create_approval(approval_row("ap", time.time() + 300))
    for name in ("alice", "bob", "carol"):
        state.add_vote(
            {"approval_id": "ap", "reviewer": name, "decision": "approve", "reason": "",
             "signature": "s", "args_patch": None}
        )  # fmt: skip
    rows = state.votes("ap")
    assert [v["reviewer"] for v in rows] == ["alice", "bob", "carol"]
    assert len({v["id"] for v in rows}) == 3 and state.votes("other") == []


def test_rows_come_back_as_copies(state: ReviewState) -> None:
    state.create_approval(approval_row("ap", time.time() + 300))
    row = state.approval("ap")
    assert row is not None
    row["status"] = "approved"
    again = state.approval("ap")
    assert again is not None and again["status"] == "pending"


def test_a_duplicate_id_is_refused_like_the_database_refuses_it(state: ReviewState) -> None:
    state.create_approval(approval_row("ap", time.time() + 300))
    with pytest.raises(StoreUnavailableError):
        state.create_approval(approval_row("ap", time.time() + 300))


def test_numbers_in_float_columns_come_back_as_floats(state: ReviewState) -> None:
    """As the database returns them: a grant signed over `8` does not verify read as `8.0`."""
    state.add_grant(
        {"id": "g", "kind": "train.launch", "session_id": None, "max_gpu_hours": 8,
         "expires_at": 4102444800, "granted_by": "alice", "reason": "", "signature": "s"}
    )  # fmt: skip
    row = state.grants()[0]
    assert (row["max_gpu_hours"], row["expires_at"]) == (8.0, 4102444800.0)
    assert isinstance(row["max_gpu_hours"], float) and isinstance(row["expires_at"], float)


def test_the_in_memory_rows_have_the_sql_stores_columns(tmp_path: Path) -> None:
    memory = InMemoryReviewState()
    with open_store(f"sqlite:///{tmp_path / 'o.db'}") as sql:
        shapes = []
        for state in (memory, sql):
            keys = register_in_process(state, ("alice",))
            add_grant(state, keys["alice"], "alice", max_gpu_hours=None)
            state.halt("s1", "stop", "root")
            outcome = ask(
                desk(state, keys, [("alice", "approve", "ok")]), spec=ApprovalSpec(grants=False)
            )
            votes = state.votes(str(outcome.approval_id))
            approval = state.approval(str(outcome.approval_id))
            assert approval is not None
            shapes.append(
                [
                    sorted(state.reviewers()[0]),
                    sorted(approval),
                    sorted(votes[0]),
                    sorted(state.grants()[0]),
                    sorted(state.halts()[0]),
                ]
            )
    assert shapes[0] == shapes[1]


def test_the_store_protocols_say_what_each_store_is() -> None:
    memory = InMemoryReviewState()
    assert isinstance(memory, ReviewState)
    assert not isinstance(memory, RecordLog) and not isinstance(memory, AuditStore)
    with open_store("sqlite://") as sql:
        assert isinstance(sql, SQLStore)
        assert isinstance(sql, AuditStore) and isinstance(sql, RecordLog)
        assert isinstance(sql, ReviewState)


def test_a_vote_wakes_a_waiting_desk_at_once() -> None:
    """The in-memory state signals votes (as PostgreSQL's NOTIFY does): a desk polling every ten
    seconds still sees a vote cast a moment after it started waiting, straight away."""
    state = InMemoryReviewState()
    keys = register_in_process(state, ("alice",))

    def answer_later(request: ApprovalRequest) -> None:
        def vote() -> None:
            time.sleep(0.1)
            row = state.approval(request.approval_id)
            assert row is not None
            cast_vote(state, row, "alice", keys["alice"], "approve", "ok")

        threading.Thread(target=vote, daemon=True).start()

    d = ApprovalDesk(state, poll_s=10.0, notify=answer_later)
    started = time.monotonic()
    outcome = ask(d)
    assert outcome.status == "approved"
    assert time.monotonic() - started < 5


def test_the_desk_and_its_helpers_need_no_database_layer() -> None:
    """The desk is typed against `ReviewState`: its modules do not import the SQL store."""
    import subprocess
    import sys

    probe = (
        "import sys, oversight.approvals.broker, oversight.approvals.state, "
        "oversight.approvals.votes; print('oversight.store.sql' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
