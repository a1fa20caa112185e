"""Telemetry: committed records become structlog events and OpenTelemetry spans, best effort."""

from __future__ import annotations

import calendar
import datetime as dt
import io
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from oversight.errors import ConfigError
from oversight.records import (
    Record,
    SessionEnded,
    SessionStarted,
    StepFinished,
    StepProposed,
    parse_record,
)
from oversight.telemetry import Telemetry
from oversight.telemetry import attributes as A
from oversight.telemetry import spans as spans_module
from oversight.telemetry import telemetry as telemetry_module

T0 = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
SID = "session-1"


def at(ms: float) -> dt.datetime:
    return T0 + dt.timedelta(milliseconds=ms)


def ns(when: dt.datetime) -> int:
    """Nanoseconds since the epoch, computed without floats."""
    return calendar.timegm(when.utctimetuple()) * 1_000_000_000 + when.microsecond * 1_000


def started(ms: float = 0, agent: str | None = "researcher", **kw: Any) -> SessionStarted:
    return SessionStarted(
        session_id=SID,
        ts=at(ms),
        agent=agent,
        pid=4242,
        host="lab-1",
        policy="research-default",
        policy_hash="p" * 64,
        oversight_version="0.1.0",
        **kw,
    )


def ended(ms: float, status: str = "completed", error: str | None = None) -> SessionEnded:
    return SessionEnded(session_id=SID, ts=at(ms), status=status, error=error, steps=3)  # type: ignore[arg-type]


def proposed(
    step_id: str,
    ms: float,
    *,
    seq: int = 1,
    kind: str = "shell.exec",
    name: str = "bash",
    args: dict[str, Any] | None = None,
    parent_id: str | None = None,
    **kw: Any,
) -> StepProposed:
    return StepProposed(
        session_id=SID,
        ts=at(ms),
        step_id=step_id,
        parent_id=parent_id,
        seq=seq,
        kind=kind,
        name=name,
        args={"command": "ls -la"} if args is None else args,
        args_digest="a" * 64,
        reason="runs a shell command",
        **kw,
    )


def finished(
    step_id: str,
    started_ms: float,
    duration_ms: float,
    *,
    seq: int = 1,
    kind: str = "shell.exec",
    status: str = "ok",
    error: str | None = None,
    summary: str | None = "total 0",
) -> StepFinished:
    return StepFinished(
        session_id=SID,
        ts=at(started_ms + duration_ms + 3),  # committed a little after the step ended
        step_id=step_id,
        seq=seq,
        kind=kind,
        status=status,  # type: ignore[arg-type]
        started_at=at(started_ms),
        duration_ms=duration_ms,
        result_digest="r" * 64,
        result_summary=summary,
        error=error,
    )


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    yield tp
    tp.shutdown()


@pytest.fixture
def traced(provider: TracerProvider) -> Iterator[Telemetry]:
    telemetry = Telemetry(log="none", tracer_provider=provider)
    yield telemetry
    telemetry.close()


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    spans = exporter.get_finished_spans()
    named = {s.name: s for s in spans}
    assert len(named) == len(spans), [s.name for s in spans]
    return named


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- structlog events -------------------------------------------------------------------------


def test_json_events_in_a_file_carry_every_record_field(tmp_path: Path) -> None:
    sink = tmp_path / "events.jsonl"
    records: list[Record] = [started(), proposed("s-1", 1), finished("s-1", 2, 5)]
    telemetry = Telemetry(log=str(sink))
    telemetry.emit(records)
    telemetry.close()

    lines = read_lines(sink)
    assert [line["event"] for line in lines] == [
        "session.started",
        "step.proposed",
        "step.finished",
    ]
    for line, record in zip(lines, records, strict=True):
        assert line["logger"] == "oversight"
        assert line["level"] == "info"
        for key, value in record.model_dump(mode="json").items():
            assert line[key] == value, key


def test_json_events_parse_back_into_the_records(tmp_path: Path) -> None:
    sink = tmp_path / "events.jsonl"
    records: list[Record] = [started(), proposed("s-1", 1, flags=["network"]), ended(9)]
    telemetry = Telemetry(log=str(sink))
    telemetry.emit(records)
    telemetry.close()

    parsed = []
    for line in read_lines(sink):
        body = {k: v for k, v in line.items() if k not in ("event", "logger", "level")}
        parsed.append(parse_record(json.dumps(body)))
    assert parsed == records


def test_a_file_sink_appends_and_creates_its_folders(tmp_path: Path) -> None:
    sink = tmp_path / "deep" / "er" / "events.jsonl"
    first = Telemetry(log=str(sink))
    first.emit([started()])
    first.close()
    second = Telemetry(log=str(sink))
    second.emit([ended(5)])
    second.close()

    assert [line["event"] for line in read_lines(sink)] == ["session.started", "session.ended"]


def test_a_file_sink_is_line_buffered(tmp_path: Path) -> None:
    sink = tmp_path / "events.jsonl"
    telemetry = Telemetry(log=str(sink))
    telemetry.emit([started()])
    try:
        assert [line["event"] for line in read_lines(sink)] == ["session.started"]
    finally:
        telemetry.close()


def test_console_format_renders_one_readable_line_per_record(tmp_path: Path) -> None:
    sink = tmp_path / "events.log"
    telemetry = Telemetry(log=str(sink), log_format="console")
    telemetry.emit([proposed("s-1", 1, name="bash"), finished("s-1", 2, 5)])
    telemetry.close()

    lines = sink.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert "step.proposed" in lines[0] and "name=bash" in lines[0] and "step_id=s-1" in lines[0]
    assert "step.finished" in lines[1] and "status=ok" in lines[1]
    assert not lines[0].lstrip().startswith("{")
    assert "\x1b[" not in sink.read_text(encoding="utf-8")


def test_stderr_sink_writes_json_lines_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    telemetry = Telemetry()
    telemetry.emit([proposed("s-1", 1)])
    telemetry.close()

    out, err = capsys.readouterr()
    assert out == ""
    assert json.loads(err)["event"] == "step.proposed"


def test_stdout_sink_writes_json_lines_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    telemetry = Telemetry(log="stdout")
    telemetry.emit([proposed("s-1", 1)])
    telemetry.close()

    out, err = capsys.readouterr()
    assert err == ""
    assert json.loads(out)["step_id"] == "s-1"


def test_structlog_sink_goes_through_the_applications_configuration() -> None:
    telemetry = Telemetry(log="structlog")
    with structlog.testing.capture_logs() as logs:
        telemetry.emit([proposed("s-1", 1, name="bash"), finished("s-1", 2, 5)])
    telemetry.close()

    assert [e["event"] for e in logs] == ["step.proposed", "step.finished"]
    assert logs[0]["logger"] == "oversight"
    assert logs[0]["name"] == "bash"
    assert logs[0]["args"] == {"command": "ls -la"}
    assert logs[1]["status"] == "ok"
    assert all(e["log_level"] == "info" for e in logs)


def test_private_sinks_leave_the_global_structlog_configuration_alone(tmp_path: Path) -> None:
    before = structlog.get_config()
    with structlog.testing.capture_logs() as logs:
        telemetry = Telemetry(log=str(tmp_path / "events.jsonl"))
        telemetry.emit([started()])
        telemetry.close()
    assert logs == []
    assert structlog.get_config() == before


def test_none_sink_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    telemetry = Telemetry(log="none")
    with structlog.testing.capture_logs() as logs:
        telemetry.emit([started(), proposed("s-1", 1), finished("s-1", 2, 5), ended(9)])
    telemetry.close()

    assert capsys.readouterr() == ("", "")
    assert logs == []
    assert telemetry.failures == 0


def test_a_directory_as_log_sink_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="directory") as info:
        Telemetry(log=str(tmp_path))
    assert str(tmp_path) in str(info.value)
    assert "'stderr'" in str(info.value)


def test_an_unwritable_log_sink_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot open"):
        Telemetry(log=str(blocker / "events.jsonl"))


def test_an_unknown_log_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'yaml'.*'json', 'console'"):
        Telemetry(log="none", log_format="yaml")


# -- spans ------------------------------------------------------------------------------------


def nested_session() -> list[Record]:
    """A session whose first tool call starts a sub-step, then a second top-level tool call."""
    return [
        started(0),
        proposed("outer", 10, seq=1, name="run_experiment", kind="experiment.run"),
        proposed("inner", 20, seq=2, name="bash", parent_id="outer"),
        finished("inner", 25, 30, seq=2),
        finished("outer", 12, 50, seq=1, kind="experiment.run"),
        proposed("second", 70, seq=3, name="read_file", kind="file.read"),
        finished("second", 71, 4, seq=3, kind="file.read"),
        ended(100),
    ]


def test_a_session_with_nested_steps_is_one_trace_rooted_at_invoke_agent(
    traced: Telemetry, exporter: InMemorySpanExporter
) -> None:
    traced.emit(nested_session())

    spans = by_name(exporter)
    assert set(spans) == {
        "invoke_agent researcher",
        "execute_tool run_experiment",
        "execute_tool bash",
        "execute_tool read_file",
    }
    root = spans["invoke_agent researcher"]
    outer, inner = spans["execute_tool run_experiment"], spans["execute_tool bash"]
    second = spans["execute_tool read_file"]
    assert root.parent is None
    assert root.kind is SpanKind.INTERNAL
    assert outer.parent is not None and outer.parent.span_id == root.context.span_id
    assert second.parent is not None and second.parent.span_id == root.context.span_id
    assert inner.parent is not None and inner.parent.span_id == outer.context.span_id
    assert len({s.context.trace_id for s in spans.values()}) == 1
    assert all(s.status.status_code is StatusCode.UNSET for s in spans.values())


def test_span_times_come_from_the_records(
    traced: Telemetry, exporter: InMemorySpanExporter
) -> None:
    traced.emit(nested_session())

    spans = by_name(exporter)
    root, outer = spans["invoke_agent researcher"], spans["execute_tool run_experiment"]
    inner = spans["execute_tool bash"]
    assert (root.start_time, root.end_time) == (ns(at(0)), ns(at(100)))
    # A step spans from its proposal to the end of its run: started_at + duration_ms.
    assert (outer.start_time, outer.end_time) == (ns(at(10)), ns(at(62)))
    assert (inner.start_time, inner.end_time) == (ns(at(20)), ns(at(55)))


def test_the_session_span_carries_agent_and_conversation_attributes(
    traced: Telemetry, exporter: InMemorySpanExporter
) -> None:
    session = started(0, metadata={"task": "ablation"})
    traced.emit([session, ended(100)])

    root = attrs(by_name(exporter)["invoke_agent researcher"])
    assert root[A.GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert root[A.GEN_AI_AGENT_NAME] == "researcher"
    assert root[A.GEN_AI_CONVERSATION_ID] == SID
    assert root[A.OPENINFERENCE_SPAN_KIND] == "AGENT"
    assert root[A.SESSION_ID] == SID
    assert root[A.OVERSIGHT_RECORD_ID] == session.id
    assert root[A.OVERSIGHT_POLICY_HASH] == "p" * 64
    assert root[A.OVERSIGHT_STATUS] == "completed"
    assert root[A.OVERSIGHT_STEPS] == 3
    assert json.loads(root[A.METADATA]) == {"task": "ablation"}


def test_a_tool_span_carries_gen_ai_openinference_and_oversight_attributes(
    traced: Telemetry, exporter: InMemorySpanExporter
) -> None:
    step = proposed(
        "inner",
        20,
        seq=2,
        name="bash",
        parent_id="outer",
        args={"command": "rm -rf /tmp/x", "cwd": "/work"},
        flags=["destructive", "network"],
        targets=["/tmp/x"],
        write_ahead=True,
        decision="require_approval",
        rule="shell-destructive",
        policy_hash="p" * 64,
        decision_reason="deletes files",
    )
    outcome = finished("inner", 25, 30, seq=2, summary="removed 3 files")
    traced.emit([started(0), proposed("outer", 10), step, outcome])

    span = by_name(exporter)["execute_tool bash"]
    assert span.kind is SpanKind.INTERNAL
    assert attrs(span) == {
        A.GEN_AI_OPERATION_NAME: "execute_tool",
        A.GEN_AI_TOOL_NAME: "bash",
        A.GEN_AI_TOOL_CALL_ID: "inner",
        A.GEN_AI_TOOL_TYPE: "function",
        A.GEN_AI_AGENT_NAME: "researcher",
        A.GEN_AI_CONVERSATION_ID: SID,
        A.OPENINFERENCE_SPAN_KIND: "TOOL",
        A.SESSION_ID: SID,
        A.TOOL_NAME: "bash",
        A.INPUT_VALUE: '{"command":"rm -rf /tmp/x","cwd":"/work"}',
        A.INPUT_MIME_TYPE: "application/json",
        A.OUTPUT_VALUE: "removed 3 files",
        A.OUTPUT_MIME_TYPE: "text/plain",
        A.OVERSIGHT_KIND: "shell.exec",
        A.OVERSIGHT_SEQ: 2,
        A.OVERSIGHT_STEP_ID: "inner",
        A.OVERSIGHT_PARENT_ID: "outer",
        A.OVERSIGHT_ACTOR: "agent",
        A.OVERSIGHT_ARGS_DIGEST: "a" * 64,
        A.OVERSIGHT_DECISION: "require_approval",
        A.OVERSIGHT_RULE: "shell-destructive",
        A.OVERSIGHT_POLICY_HASH: "p" * 64,
        A.OVERSIGHT_DECISION_REASON: "deletes files",
        A.OVERSIGHT_REASON: "runs a shell command",
        A.OVERSIGHT_FLAGS: ("destructive", "network"),
        A.OVERSIGHT_TARGETS: ("/tmp/x",),
        A.OVERSIGHT_WRITE_AHEAD: True,
        A.OVERSIGHT_RECORD_ID: step.id,
        A.OVERSIGHT_OUTCOME_RECORD_ID: outcome.id,
        A.OVERSIGHT_STATUS: "ok",
        A.OVERSIGHT_RESULT_DIGEST: "r" * 64,
    }


def test_a_model_call_becomes_a_chat_client_span_named_for_the_model(
    traced: Telemetry, exporter: InMemorySpanExporter
) -> None:
    call = proposed(
        "m-1",
        10,
        kind="model.call",
        name="openai.chat.completions.create",
        args={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    )
    traced.emit([started(0), call, finished("m-1", 10, 900, kind="model.call", summary="hello")])

    span = by_name(exporter)["chat gpt-4o"]
    span_attrs = attrs(span)
    assert span.kind is SpanKind.CLIENT
    assert span_attrs[A.GEN_AI_OPERATION_NAME] == "chat"
    assert span_attrs[A.GEN_AI_REQUEST_MODEL] == "gpt-4o"
    assert span_attrs[A.LLM_MODEL_NAME] == "gpt-4o"
    assert span_attrs[A.OPENINFERENCE_SPAN_KIND] == "LLM"
    assert span_attrs[A.OUTPUT_VALUE] == "hello"
    assert A.GEN_AI_TOOL_NAME not in span_attrs and A.GEN_AI_TOOL_CALL_ID not in span_attrs


def test_a_model_call_without_a_model_argument_is_named_for_the_call(
    traced: Telemetry, exporter: InMemorySpanExporter
) -> None:
    call = proposed("m-1", 10, kind="model.call", name="local_llm", args={"prompt": "hi"})
    traced.emit([call, finished("m-1", 10, 5, kind="model.call")])

    span = by_name(exporter)["chat local_llm"]
    assert A.GEN_AI_REQUEST_MODEL not in attrs(span)


@pytest.mark.parametrize("status", ["error", "denied", "halted", "timed_out"])
def test_a_failed_or_refused_step_has_status_error(
    traced: Telemetry, exporter: InMemorySpanExporter, status: str
) -> None:
    outcome = finished("s-1", 2, 0, status=status, error="policy says no", summary=None)
    traced.emit([started(0), proposed("s-1", 1), outcome])

    span = by_name(exporter)["execute_tool bash"]
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == f"{status}: policy says no"
    assert attrs(span)[A.ERROR_TYPE] == status
    assert attrs(span)[A.OVERSIGHT_ERROR] == "policy says no"
    assert A.OUTPUT_VALUE not in attrs(span)


@pytest.mark.parametrize("status", ["ok", "cancelled"])
def test_a_step_that_ran_or_was_cancelled_leaves_status_unset(
    traced: Telemetry, exporter: InMemorySpanExporter, status: str
) -> None:
    traced.emit([proposed("s-1", 1), finished("s-1", 2, 5, status=status)])

    span = by_name(exporter)["execute_tool bash"]
    assert span.status.status_code is StatusCode.UNSET
    assert A.ERROR_TYPE not in attrs(span)


@pytest.mark.parametrize("status", ["failed", "halted"])
def test_a_failed_or_halted_session_has_status_error(
    traced: Telemetry, exporter: InMemorySpanExporter, status: str
) -> None:
    traced.emit([started(0), ended(100, status=status, error="budget exceeded")])

    root = by_name(exporter)["invoke_agent researcher"]
    assert root.status.status_code is StatusCode.ERROR
    assert root.status.description == f"{status}: budget exceeded"
    assert attrs(root)[A.OVERSIGHT_ERROR] == "budget exceeded"


def test_an_interrupted_step_is_ended_with_error_on_close(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    telemetry = Telemetry(log="none", tracer_provider=provider)
    telemetry.emit([started(0), proposed("s-1", 1)])
    assert exporter.get_finished_spans() == ()

    telemetry.close()

    spans = by_name(exporter)
    for span in (spans["execute_tool bash"], spans["invoke_agent researcher"]):
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "interrupted: no outcome recorded"
        assert attrs(span)[A.OVERSIGHT_STATUS] == "interrupted"
    assert spans["execute_tool bash"].parent is not None


def test_ending_a_session_interrupts_its_unfinished_steps(
    traced: Telemetry, exporter: InMemorySpanExporter
) -> None:
    traced.emit([started(0), proposed("s-1", 1), ended(100)])

    step = by_name(exporter)["execute_tool bash"]
    assert step.status.status_code is StatusCode.ERROR
    assert step.end_time == ns(at(100))


def test_an_outcome_whose_proposal_was_not_seen_still_becomes_a_span(
    traced: Telemetry, exporter: InMemorySpanExporter
) -> None:
    traced.emit([finished("late", 40, 10, status="error", error="boom")])

    (span,) = exporter.get_finished_spans()
    assert span.name == "execute_tool"
    assert (span.start_time, span.end_time) == (ns(at(40)), ns(at(50)))
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[A.OVERSIGHT_STEP_ID] == "late"
    assert attrs(span)[A.SESSION_ID] == SID


def test_an_outcome_without_proposal_is_parented_to_its_open_session(
    traced: Telemetry, exporter: InMemorySpanExporter
) -> None:
    traced.emit([started(0), finished("late", 40, 10), ended(100)])

    spans = by_name(exporter)
    late = spans["execute_tool"]
    assert late.parent is not None
    assert late.parent.span_id == spans["invoke_agent researcher"].context.span_id


def test_a_child_proposed_after_its_parent_ended_is_still_parented_to_it(
    traced: Telemetry, exporter: InMemorySpanExporter
) -> None:
    traced.emit(
        [
            proposed("outer", 1, name="spawn"),
            finished("outer", 1, 2),
            proposed("inner", 5, name="bash", parent_id="outer"),
            finished("inner", 5, 2),
        ]
    )

    spans = by_name(exporter)
    inner = spans["execute_tool bash"]
    assert inner.parent is not None
    assert inner.parent.span_id == spans["execute_tool spawn"].context.span_id
    assert inner.context.trace_id == spans["execute_tool spawn"].context.trace_id


def test_repeated_records_do_not_repeat_spans(
    traced: Telemetry, exporter: InMemorySpanExporter
) -> None:
    records: list[Record] = [started(0), proposed("s-1", 1), finished("s-1", 2, 5), ended(9)]
    traced.emit(records)
    traced.emit(records)

    assert len(exporter.get_finished_spans()) == 2


def test_a_huge_argument_is_truncated_in_span_attributes_but_not_in_the_log(
    provider: TracerProvider, exporter: InMemorySpanExporter, tmp_path: Path
) -> None:
    sink = tmp_path / "events.jsonl"
    huge = "x" * 100_000
    telemetry = Telemetry(log=str(sink), tracer_provider=provider)
    telemetry.emit(
        [proposed("s-1", 1, args={"content": huge}, targets=[huge]), finished("s-1", 2, 5)]
    )
    telemetry.close()

    span_attrs = attrs(by_name(exporter)["execute_tool bash"])
    input_value = span_attrs[A.INPUT_VALUE]
    assert len(input_value) <= A.MAX_ATTRIBUTE_CHARS
    assert input_value.startswith('{"content":"xxx')
    assert input_value.endswith("more chars]")
    (target,) = span_attrs[A.OVERSIGHT_TARGETS]
    assert len(target) <= A.MAX_ATTRIBUTE_CHARS
    assert read_lines(sink)[0]["args"]["content"] == huge


def test_span_state_is_dropped_once_spans_end(provider: TracerProvider) -> None:
    failures: list[Exception] = []
    recorder = spans_module.SpanRecorder(provider, failures.append, ended_memory=10)
    recorder.handle(started(0))
    for i in range(100):
        recorder.handle(proposed(f"s-{i}", i, seq=i))
        recorder.handle(finished(f"s-{i}", i, 1, seq=i))
    assert recorder.open_spans == 1
    recorder.handle(ended(200))

    assert recorder.open_spans == 0
    assert len(recorder._ended_steps) == 10
    assert failures == []


# -- choosing a tracer provider ----------------------------------------------------------------


def test_without_a_tracer_provider_no_span_work_is_done(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_recorder(*args: object, **kwargs: object) -> None:
        raise AssertionError("a span recorder was built without a tracer provider")

    monkeypatch.setattr(telemetry_module, "SpanRecorder", no_recorder)
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)
    telemetry = Telemetry(log="none")
    telemetry.emit([started(0), proposed("s-1", 1), finished("s-1", 2, 5), ended(9)])
    telemetry.close()

    assert telemetry.failures == 0
    assert capsys.readouterr() == ("", "")


def test_a_global_sdk_tracer_provider_is_used_when_none_is_passed(
    monkeypatch: pytest.MonkeyPatch, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    telemetry = Telemetry(log="none")
    telemetry.emit([proposed("s-1", 1), finished("s-1", 2, 5)])
    telemetry.close()

    assert [s.name for s in exporter.get_finished_spans()] == ["execute_tool bash"]


def test_a_global_sdk_tracer_provider_set_up_later_is_picked_up(
    monkeypatch: pytest.MonkeyPatch, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    telemetry = Telemetry(log="none")
    telemetry.emit([proposed("early", 1), finished("early", 2, 5)])
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    telemetry.emit([proposed("later", 10, name="python"), finished("later", 11, 5)])
    telemetry.close()

    assert [s.name for s in exporter.get_finished_spans()] == ["execute_tool python"]


# -- never breaking the agent ------------------------------------------------------------------


class RaisingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        raise ConnectionError("collector unreachable")


class RaisingProcessor(SpanProcessor):
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        raise RuntimeError("processor exploded")


def test_a_raising_exporter_does_not_reach_the_caller(tmp_path: Path) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RaisingExporter()))
    sink = tmp_path / "events.jsonl"
    telemetry = Telemetry(log=str(sink), tracer_provider=provider)

    telemetry.emit([started(0), proposed("s-1", 1), finished("s-1", 2, 5), ended(9)])
    telemetry.close()

    assert len(read_lines(sink)) == 4


def test_span_errors_are_counted_and_reported_at_most_once_a_minute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(RaisingProcessor())
    sink = tmp_path / "events.jsonl"
    telemetry = Telemetry(log=str(sink), tracer_provider=provider)

    telemetry.emit([proposed("s-1", 1), finished("s-1", 2, 5)])
    telemetry.emit([proposed("s-2", 3), finished("s-2", 4, 5)])
    telemetry.close()

    assert telemetry.failures == 2
    assert len(read_lines(sink)) == 4
    err = capsys.readouterr().err
    assert err.count("oversight: telemetry error") == 1
    assert "processor exploded" in err


def test_a_failure_warning_is_repeated_after_a_minute(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(telemetry_module, "_clock", lambda: clock[0])
    provider = TracerProvider()
    provider.add_span_processor(RaisingProcessor())
    telemetry = Telemetry(log="none", tracer_provider=provider)

    for i, advance in enumerate([0, 30, 31]):
        clock[0] += advance
        telemetry.emit([proposed(f"s-{i}", i), finished(f"s-{i}", i, 1)])

    assert telemetry.failures == 3
    assert capsys.readouterr().err.count("oversight: telemetry error") == 2


class BrokenStream(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError("disk full")


def test_a_failing_log_sink_does_not_stop_spans(
    monkeypatch: pytest.MonkeyPatch, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    monkeypatch.setattr(sys, "stdout", BrokenStream())
    telemetry = Telemetry(log="stdout", tracer_provider=provider)

    telemetry.emit([proposed("s-1", 1), finished("s-1", 2, 5)])

    assert telemetry.failures == 2
    assert [s.name for s in exporter.get_finished_spans()] == ["execute_tool bash"]


def test_emit_never_raises_on_records_it_cannot_read(
    traced: Telemetry, capsys: pytest.CaptureFixture[str]
) -> None:
    not_records: Any = 42

    traced.emit(not_records)

    assert traced.failures == 1
    assert "telemetry error" in capsys.readouterr().err


def test_close_closes_the_log_file_and_later_emits_are_dropped(tmp_path: Path) -> None:
    sink = tmp_path / "events.jsonl"
    telemetry = Telemetry(log=str(sink))
    telemetry.emit([started()])
    telemetry.close()
    telemetry.close()

    telemetry.emit([ended(5)])

    assert telemetry.failures == 0
    assert [line["event"] for line in read_lines(sink)] == ["session.started"]
