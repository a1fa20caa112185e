"""Approvals and alerts in telemetry (issue 14, items 3 and 5): a gated step's span carries the
request and the people's answer as events (who, what, how long), a forged vote is an alert event,
and a session whose steps were refused is an error in trace lists, with input and output on its
span. A real monitor and store, a reviewer's vote signed in-process as the CLI signs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from reviewing import register_in_process

from oversight import CheckpointDenied, Monitor
from oversight.approvals.broker import ApprovalRequest
from oversight.approvals.signing import new_private_key
from oversight.approvals.votes import cast_vote

PACK = """
name: gate-and-deny
unmatched: {consequential: allow, other: allow}
rules:
  - id: gate-training
    match: {kind: [train.launch]}
    effect: require_approval
    reason: training needs a person
    approval: {role: approver, quorum: 1, timeout_s: 60}
  - id: no-deploy
    match: {kind: [deploy]}
    effect: deny
    reason: deployments are made by people
"""


def _spans(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {s.name: s for s in exporter.get_finished_spans()}


def test_a_gated_steps_span_shows_the_request_the_answer_and_a_forged_vote(
    tmp_path: Path,
) -> None:
    (tmp_path / "pack.yaml").write_text(PACK)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    holder: dict[str, Any] = {}

    def answer(request: ApprovalRequest) -> None:
        store = holder["mon"].store
        row = store.approval(request.approval_id)
        cast_vote(store, row, "mallory", keys["mallory"], "approve", "trust me")  # never endorsed
        cast_vote(store, row, "alice", keys["alice"], "approve", "small run, fine")

    mon = Monitor(
        db=str(tmp_path / "o.db"),
        log="none",
        policy=str(tmp_path / "pack.yaml"),
        tracer_provider=provider,
        on_approval_request=answer,
    )
    holder["mon"] = mon
    keys = register_in_process(mon.store, ("alice",))
    keys["mallory"] = new_private_key()  # a key nobody endorsed
    with mon.session("s1", agent="researcher"):
        mon.check("launch", {"config": "small.yaml"}, kind="train.launch").succeed("started")
        with pytest.raises(CheckpointDenied):
            mon.check("ship", {"env": "prod"}, kind="deploy")
    mon.close()

    spans = _spans(exporter)
    launch = spans["execute_tool launch"]
    events = {e.name: dict(e.attributes or {}) for e in launch.events}
    assert "oversight.approval.requested" in events
    decided = events["oversight.approval.decided"]
    assert decided["oversight.approval.decision"] == "approved"
    assert decided["oversight.decided_by"] == "reviewers"
    assert list(decided["oversight.reviewers"]) == ["alice"]
    assert isinstance(decided["oversight.review_wait_ms"], int)  # whole milliseconds
    alert = next(e for e in launch.events if e.name == "oversight.alert")
    assert "mallory" in str((alert.attributes or {})["oversight.alert.reason"])

    ship = spans["execute_tool ship"]
    assert ship.status.status_code == StatusCode.ERROR
    assert not [e for e in ship.events if e.name.startswith("oversight.approval")]

    session = spans["invoke_agent researcher"]
    assert session.status.status_code == StatusCode.ERROR
    assert session.status.description == "1 step(s) refused"
    attrs = dict(session.attributes or {})
    assert '"agent":"researcher"' in str(attrs["input.value"])
    assert '"refused":1' in str(attrs["output.value"])


def test_a_model_calls_token_usage_is_counted_under_openinference_names(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with (
        Monitor(db=str(tmp_path / "o.db"), log="none", tracer_provider=provider) as mon,
        mon.session("s2", agent="researcher"),
        mon.check("chat", {"model": "gpt-x", "messages": "2 messages"}, kind="model.call") as step,
    ):
        usage = {"gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30}
        step.succeed("the reply", attributes=usage)
    attrs = dict(_spans(exporter)["chat gpt-x"].attributes or {})
    assert attrs["llm.token_count.prompt"] == 120
    assert attrs["llm.token_count.completion"] == 30
    assert attrs["llm.token_count.total"] == 150
    assert attrs["llm.model_name"] == "gpt-x"
