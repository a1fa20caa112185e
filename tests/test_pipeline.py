"""The pipeline on its own (issue 13): prepare, admit and the gate loop, with no monitor around it.

A scripted decider answers by step name; records go to an in-memory sink through the real
recorder; halts and approvals live in an in-memory review state, with votes signed by the same
code the CLI uses. Each test drives one path of `Pipeline.admit` and reads the typed records and
resolutions it produced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from reviewing import register_in_process

from oversight._halt_switch import HaltSwitch
from oversight._pipeline import Edit, Pipeline, Refuse, Run
from oversight._recorder import Recorder
from oversight._session import Session, SessionServices
from oversight._step import StepHandle
from oversight.approvals.broker import ApprovalDesk, ApprovalRequest
from oversight.approvals.memory_state import InMemoryReviewState
from oversight.approvals.votes import cast_vote
from oversight.classify import Classifier
from oversight.decide import NO_FACTS, ApprovalSpec, Proposal, SessionFacts, Verdict
from oversight.errors import (
    ApprovalPending,
    CheckpointDenied,
    CheckpointTimeout,
    ConfigError,
    SessionHalted,
)
from oversight.records import Record, StepFinished, StepProposed

GATE = ApprovalSpec(timeout_s=300)


class Script:
    """Decides by step name: `allow` unless told otherwise."""

    uses_facts = False
    uses_history = False

    def __init__(self, **verdicts: Verdict) -> None:
        self.verdicts = verdicts
        self.asked: list[str] = []

    def decide(self, proposal: Proposal, facts: SessionFacts = NO_FACTS) -> Verdict:
        self.asked.append(proposal.name)
        return self.verdicts.get(proposal.name, Verdict("allow", "fine", rule="allow-all"))


class Sink:
    """An audit log in a list; `durable` appends are remembered apart."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.durable: list[Record] = []

    def append(self, records: Sequence[Record], *, durable: bool = True) -> None:
        self.records.extend(records)
        if durable:
            self.durable.extend(records)


class Rig:
    """A pipeline, its recorder and one session, over in-memory state."""

    def __init__(self, decider: Script, *, votes: Sequence[tuple[str, str, Any]] = ()) -> None:
        self.sink = Sink()
        self.state = InMemoryReviewState()
        self.keys = register_in_process(self.state, ("alice",))
        self.votes = list(votes)
        self.recorder = Recorder(self.sink, flush_interval_s=0.01)
        self.halts = HaltSwitch(self.state, poll_interval_s=0.0)
        self.pipeline = Pipeline(
            classifier=Classifier(),
            decider=decider,
            recorder=self.recorder,
            max_arg_chars=4096,
            result_summary_chars=200,
            halts=self.halts,
            halt_after_denials=3,
            approvals=ApprovalDesk(self.state, notify=self._answer, poll_s=0.001),
        )
        self.session = Session(
            SessionServices(self.recorder, self.halts), "s1", agent=None, metadata={}
        )
        self.session.start()

    def _answer(self, request: ApprovalRequest) -> None:
        row = self.state.approval(request.approval_id)
        assert row is not None
        if self.votes:
            name, decision, patch = self.votes.pop(0)
            cast_vote(self.state, row, name, self.keys[name], decision, "", args_patch=patch)

    def propose(self, name: str, **args: Any) -> StepHandle:
        return self.pipeline.propose(self.session, name, args)

    def steps(self) -> list[StepProposed | StepFinished]:
        self.recorder.flush()
        return [r for r in self.sink.records if isinstance(r, StepProposed | StepFinished)]

    def outcome(self, step_id: str) -> StepFinished:
        return next(r for r in self.steps() if isinstance(r, StepFinished) and r.step_id == step_id)


@pytest.fixture
def rig() -> Iterator[Rig]:
    made: list[Rig] = []

    def make(decider: Script | None = None, **kw: Any) -> Rig:
        made.append(Rig(decider or Script(), **kw))
        return made[-1]

    yield make  # type: ignore[misc]
    for r in made:
        r.recorder.close()


# -- prepare is pure, admit records -------------------------------------------------------------


def test_prepare_decides_without_recording_and_admit_records(rig: Any) -> None:
    r = rig()
    handle = r.pipeline.prepare(r.session, "lookup", {"q": "attention"})
    assert handle.verdict.decision == "allow" and not r.pipeline.may_block(handle)
    r.recorder.flush()
    assert [x for x in r.sink.records if isinstance(x, StepProposed)] == []
    admitted = r.pipeline.admit(handle)
    assert admitted is handle and handle.decided_by == "policy"
    proposed = [x for x in r.steps() if isinstance(x, StepProposed)]
    assert [(p.name, p.decision, p.args) for p in proposed] == [
        ("lookup", "allow", {"q": "attention"})
    ]


def test_the_decision_is_resolved_into_typed_records(rig: Any) -> None:
    deny = Verdict("deny", "no pushes", rule="no-push")
    r = rig(Script(push=deny))
    allowed = r.pipeline.prepare(r.session, "lookup", {})
    assert r.pipeline._resolve(allowed, True, None, (), None) == Run(reviewed=False)
    denied = r.pipeline.prepare(r.session, "push", {})
    assert r.pipeline._resolve(denied, True, None, (), None) == Refuse(
        "denied", "no pushes", reviewed=False, counts_as_denial=True
    )
    edited = r.pipeline._checked_edit(allowed, {"q": "x"}, ["alice"])
    assert edited == Refuse(
        "denied",
        "alice's edit names argument(s) the call does not have: ['q']",
        reviewed=True,
        cites_rule=False,
    )
    with_arg = r.pipeline.prepare(r.session, "lookup", {"q": "a"})
    assert r.pipeline._checked_edit(with_arg, {"q": "b"}, ["alice"]) == Edit({"q": "b"}, ["alice"])


def test_a_decider_that_answers_nonsense_fails_closed(rig: Any) -> None:
    class Broken(Script):
        def decide(self, proposal: Proposal, facts: SessionFacts = NO_FACTS) -> Verdict:
            return "allow"  # type: ignore[return-value]

    r = rig(Broken())
    with pytest.raises(ConfigError, match="returned 'allow'"):
        r.propose("lookup")


# -- refusals ---------------------------------------------------------------------------------


def test_a_policy_denial_is_recorded_durably_with_who_decided(rig: Any) -> None:
    r = rig(Script(push=Verdict("deny", "no pushes", rule="no-push")))
    with pytest.raises(CheckpointDenied) as denied:
        r.propose("push", remote="origin")
    assert denied.value.rule == "no-push"
    finished = r.outcome(denied.value.step_id)
    assert (finished.status, finished.decided_by, finished.error) == (
        "denied",
        "policy",
        "no pushes",
    )
    assert finished in r.sink.durable


def test_gated_without_a_desk_is_denied_as_no_reviewers(rig: Any) -> None:
    r = rig(Script(train=Verdict("require_approval", "training", rule="gate", approval=GATE)))
    r.pipeline.approvals = None
    with pytest.raises(CheckpointDenied, match="no approval channel") as denied:
        r.propose("train")
    assert r.outcome(denied.value.step_id).decided_by == "no_reviewers"


def test_repeated_denials_halt_the_session_in_the_review_state(rig: Any) -> None:
    r = rig(Script(push=Verdict("deny", "no pushes", rule="no-push")))
    for _ in range(2):
        with pytest.raises(CheckpointDenied):
            r.propose("push", remote="origin")
    with pytest.raises(SessionHalted, match="proposed 3 times"):
        r.propose("push", remote="origin")
    # Halted for every process using the store, not only for this session object.
    assert [h["scope"] for h in r.state.halts()] == ["s1"]
    with pytest.raises(SessionHalted):
        r.propose("lookup")


def test_a_halt_in_the_store_stops_the_next_step_before_it_is_decided(rig: Any) -> None:
    r = rig()
    r.state.halt("*", "incident", "ops")
    with pytest.raises(SessionHalted, match="incident"):
        r.pipeline.propose(r.session, "train", {"config": "a.yaml"}, declared=None)
    assert [h["scope"] for h in r.state.halts()] == ["*"]  # not written again


# -- people -----------------------------------------------------------------------------------


def test_an_approved_step_runs_and_records_its_reviewer(rig: Any) -> None:
    gate = Verdict("require_approval", "training", rule="gate", approval=GATE)
    r = rig(Script(train=gate), votes=[("alice", "approve", None)])
    handle = r.propose("train", config="a.yaml")
    assert handle.call(lambda: "started") == "started"
    finished = r.outcome(handle.step_id)
    assert (finished.status, finished.decided_by, finished.reviewers) == (
        "ok",
        "reviewers",
        ["alice"],
    )


def test_an_edit_is_a_new_call_decided_again_and_spends_the_first_approval(rig: Any) -> None:
    gate = Verdict("require_approval", "training", rule="gate", approval=GATE)
    r = rig(Script(train=gate), votes=[("alice", "modify", {"config": "small.yaml"})])
    handle = r.propose("train", config="big.yaml")
    # The edit is approved by its author's signature; the edited call is what runs.
    assert handle.call_args == {"config": "small.yaml"}
    assert handle.modified_by == ["alice"] and handle.modifies is not None
    first = r.outcome(handle.modifies)
    assert (first.status, first.decided_by) == ("modified", "reviewers")
    approval = r.state.approval(str(first.approval_id))
    assert approval is not None and approval["consumed_by"] == handle.step_id


def test_an_edit_the_call_does_not_take_is_refused_by_the_system(rig: Any) -> None:
    gate = Verdict("require_approval", "training", rule="gate", approval=GATE)
    r = rig(Script(train=gate), votes=[("alice", "modify", {"gpus": 64})])
    with pytest.raises(CheckpointDenied, match="does not have") as denied:
        r.propose("train", config="big.yaml")
    assert denied.value.rule is None
    assert r.outcome(denied.value.step_id).decided_by == "system"


def test_wait_false_defers_and_a_short_deadline_times_out(rig: Any) -> None:
    quick = ApprovalSpec(timeout_s=0.05)
    r = rig(Script(train=Verdict("require_approval", "t", rule="gate", approval=quick)))
    with pytest.raises(ApprovalPending) as pending:
        r.pipeline.propose(r.session, "train", {"config": "a"}, wait=False)
    assert r.outcome(pending.value.step_id).decided_by == "waiting"
    with pytest.raises(CheckpointTimeout):
        r.propose("train", config="b")


# -- running the call -------------------------------------------------------------------------


def test_call_records_a_failure_and_reraises(rig: Any) -> None:
    r = rig()
    handle = r.propose("lookup", q="a")

    def boom() -> None:
        raise ValueError("no such paper")

    with pytest.raises(ValueError):
        handle.call(boom)
    finished = r.outcome(handle.step_id)
    assert (finished.status, finished.error) == ("error", "ValueError: no such paper")


def test_acall_records_a_cancelled_task_as_cancelled(rig: Any) -> None:
    r = rig()
    handle = r.propose("lookup", q="a")

    async def slow() -> None:
        await asyncio.sleep(10)

    async def main() -> None:
        task = asyncio.ensure_future(handle.acall(slow))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert r.outcome(handle.step_id).status == "cancelled"


def test_a_handle_used_as_a_context_manager_reports_its_block(rig: Any) -> None:
    r = rig()
    with r.propose("lookup", q="a") as ok:
        pass
    with pytest.raises(KeyError), r.propose("lookup", q="b") as failed:
        raise KeyError("missing")
    assert r.outcome(ok.step_id).status == "ok"
    assert r.outcome(failed.step_id).status == "error"
