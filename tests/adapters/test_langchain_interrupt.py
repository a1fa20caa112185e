"""Interrupt mode on a real LangGraph checkpointer (SQLite): a gated call pauses the run with
its pending approval; a resume claims that approval from the store, where signed votes decide.
A resume runs the approved call exactly once, and never a call other than the approved one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import Store
from langchain_agents import build_agent, launches, user, write_pack
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.checkpoint.sqlite import SqliteSaver
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from oversight import Monitor
from oversight_langchain import approval_id_for, approval_requests, resume_command
from oversight_langchain.testing import tool_call

CONFIG = {"configurable": {"thread_id": "exp-pause"}}
LAUNCH = tool_call("launch_training", config_path="configs/big.yaml", gpus=64, hours=12)
SCRIPT = [[LAUNCH], "Training is queued."]


@contextmanager
def paused_agent(
    store: Store, workspace: Path, tmp_path: Path, tracer_provider: TracerProvider | None = None
) -> Iterator[tuple[Any, Monitor]]:
    """The agent (SQLite checkpointer, test pack), with a fresh monitor: as after a restart."""
    with (
        SqliteSaver.from_conn_string(str(tmp_path / "checkpoints.db")) as saver,
        store.monitor(write_pack(tmp_path), tracer_provider) as monitor,
    ):
        agent = build_agent(monitor, workspace, SCRIPT, mode="interrupt", checkpointer=saver)
        yield agent, monitor


def start(
    store: Store, workspace: Path, tmp_path: Path, tracer_provider: TracerProvider | None = None
) -> dict[str, Any]:
    with paused_agent(store, workspace, tmp_path, tracer_provider) as (agent, _):
        result: dict[str, Any] = agent.invoke(user("Train the big model."), CONFIG)
    return result


def resume(
    store: Store, workspace: Path, tmp_path: Path, tracer_provider: TracerProvider | None = None
) -> dict[str, Any]:
    with paused_agent(store, workspace, tmp_path, tracer_provider) as (agent, _):
        result: dict[str, Any] = agent.invoke(resume_command(agent.get_state(CONFIG)), CONFIG)
    return result


def last_tool_message(result: dict[str, Any]) -> ToolMessage:
    return [m for m in result["messages"] if isinstance(m, ToolMessage)][-1]


def test_a_gated_call_pauses_the_run_with_its_pending_approval(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    result = start(store, workspace, tmp_path)
    (request,) = approval_requests(result)
    assert request["approval_id"] == approval_id_for("exp-pause", "call-0-0", "launch_training")
    assert request["tool"] == "launch_training" and request["tool_call_id"] == "call-0-0"
    assert request["args"] == {"config_path": "configs/big.yaml", "gpus": 64, "hours": 12}
    assert request["kind"] == "train.launch" and request["rule"] == "gate-training"
    assert request["reason"] == "training launches need a person" and request["quorum"] == 1
    assert launches(workspace) == []
    assert store.pending()["id"] == request["approval_id"]
    assert store.table("exp-pause")[-1] == ("launch_training", "train.launch", "deferred")


def test_resuming_after_approval_runs_the_approved_call_once(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    (request,) = approval_requests(start(store, workspace, tmp_path))
    store.vote("approve", request["approval_id"])
    result = resume(store, workspace, tmp_path)
    assert launches(workspace) == [{"config": "configs/big.yaml", "gpus": 64, "hours": 12}]
    assert last_tool_message(result).content == "queued job-1.json: 64 GPUs x 12.0 h"
    assert result["messages"][-1].content == "Training is queued."
    steps = store.steps("exp-pause")
    assert [(s.proposed.name, s.status) for s in steps] == [
        ("scripted-research-model", "ok"),
        ("launch_training", "deferred"),
        ("launch_training", "ok"),
        ("scripted-research-model", "ok"),
    ]
    assert steps[2].finished is not None and steps[2].finished.approved_by == ["alice"]
    assert steps[2].finished.approval_id == request["approval_id"]
    assert store.boundaries("exp-pause")[-1] == ("ended", "completed")


def test_the_resumed_call_links_to_the_call_that_paused_the_run(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    """Telemetry: the pause and the resume are two steps in two runs (two monitors, as after a
    restart); the resumed call's span links to the paused call's, which shows it waited."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    (request,) = approval_requests(start(store, workspace, tmp_path, provider))
    store.vote("approve", request["approval_id"])
    resume(store, workspace, tmp_path, provider)
    spans = exporter.get_finished_spans()
    paused, resumed = [s for s in spans if s.name == "execute_tool launch_training"]
    assert paused.attributes is not None and resumed.attributes is not None
    assert paused.attributes["oversight.status"] == "deferred"
    assert resumed.attributes["oversight.decided_by"] == "reviewers"
    (link,) = resumed.links
    assert link.context.span_id == paused.context.span_id
    assert link.context.trace_id == paused.context.trace_id
    assert link.attributes is not None and link.attributes["oversight.link"] == "resumes"
    # Each call was gated, so each announced its checkpoint under its own span when proposed.
    checkpoints = [s for s in spans if s.name == "checkpoint launch_training"]
    assert {c.parent.span_id for c in checkpoints if c.parent is not None} == {
        paused.context.span_id,
        resumed.context.span_id,
    }


def test_resuming_before_anyone_decides_pauses_again_and_runs_nothing(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    (first,) = approval_requests(start(store, workspace, tmp_path))
    (again,) = approval_requests(resume(store, workspace, tmp_path))
    assert again["approval_id"] == first["approval_id"]
    assert launches(workspace) == []
    store.vote("approve", first["approval_id"])
    resume(store, workspace, tmp_path)
    assert len(launches(workspace)) == 1


def test_resuming_after_a_denial_tells_the_model_and_runs_nothing(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    (request,) = approval_requests(start(store, workspace, tmp_path))
    store.vote("deny", request["approval_id"], "alice", "--reason", "use 8 GPUs")
    result = resume(store, workspace, tmp_path)
    assert launches(workspace) == []
    refusal = last_tool_message(result)
    assert refusal.status == "error" and "use 8 GPUs" in str(refusal.content)
    assert store.table("exp-pause")[2] == ("launch_training", "train.launch", "denied")


def test_a_reviewers_edit_is_what_runs_on_resume(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    (request,) = approval_requests(start(store, workspace, tmp_path))
    store.vote("modify", request["approval_id"], "alice", "--set", "gpus=8")
    resume(store, workspace, tmp_path)
    assert launches(workspace) == [{"config": "configs/big.yaml", "gpus": 8, "hours": 12}]


def test_replaying_the_paused_checkpoint_does_not_run_the_approved_call_twice(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    (request,) = approval_requests(start(store, workspace, tmp_path))
    store.vote("approve", request["approval_id"])
    resume(store, workspace, tmp_path)
    with paused_agent(store, workspace, tmp_path) as (agent, _):
        paused = next(s for s in agent.get_state_history(CONFIG) if s.interrupts)
        replay = agent.invoke(resume_command(paused), paused.config)
    assert len(launches(workspace)) == 1
    refusal = last_tool_message(replay)
    assert refusal.status == "error" and "already used" in str(refusal.content)
    assert store.table("exp-pause")[-2] == ("launch_training", "train.launch", "denied")


def test_a_resume_whose_state_was_edited_to_other_arguments_is_refused(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    (request,) = approval_requests(start(store, workspace, tmp_path))
    store.vote("approve", request["approval_id"])
    with paused_agent(store, workspace, tmp_path) as (agent, _):
        asked = next(
            m
            for m in reversed(agent.get_state(CONFIG).values["messages"])
            if isinstance(m, AIMessage)
        )
        bigger = {**asked.tool_calls[0], "args": {**asked.tool_calls[0]["args"], "gpus": 512}}
        agent.update_state(
            CONFIG, {"messages": [asked.model_copy(update={"tool_calls": [bigger]})]},
            as_node="model",
        )  # fmt: skip
        result = agent.invoke(None, CONFIG)
    assert launches(workspace) == []
    refusal = last_tool_message(result)
    assert refusal.status == "error" and "different call" in str(refusal.content)


RESUME_ELSEWHERE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from langgraph.checkpoint.sqlite import SqliteSaver
    from langchain_agents import build_agent, launches
    from oversight import Monitor
    from oversight_langchain import resume_command
    from oversight_langchain.testing import tool_call

    db, checkpoints, pack, workspace = sys.argv[2:6]
    script = [[tool_call("launch_training", config_path="configs/big.yaml", gpus=64, hours=12)],
              "Training is queued."]
    config = {"configurable": {"thread_id": "exp-pause"}}
    with SqliteSaver.from_conn_string(checkpoints) as saver, \\
            Monitor(db=db, policy=pack, log="none") as monitor:
        agent = build_agent(monitor, Path(workspace), script, mode="interrupt", checkpointer=saver)
        result = agent.invoke(resume_command(agent.get_state(config)), config)
    print(json.dumps({"last": result["messages"][-1].content, "launches": launches(Path(workspace))}))
    """
)


def test_a_run_paused_in_one_process_resumes_in_another(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    (request,) = approval_requests(start(store, workspace, tmp_path))
    store.vote("approve", request["approval_id"])
    script = tmp_path / "resume.py"
    script.write_text(RESUME_ELSEWHERE)
    done = subprocess.run(
        [
            sys.executable, str(script), str(Path(__file__).parent), str(store.db),
            str(tmp_path / "checkpoints.db"), str(tmp_path / "pack.yaml"), str(workspace),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["last"] == "Training is queued." and len(out["launches"]) == 1
    assert store.boundaries("exp-pause")[-1] == ("ended", "completed")


def test_interrupt_mode_lets_allowed_calls_run_without_pausing(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    model_script = [[tool_call("write_file", path="plan.md", content="sweep lr")], "Planned."]
    with (
        SqliteSaver.from_conn_string(str(tmp_path / "checkpoints.db")) as saver,
        store.monitor(write_pack(tmp_path)) as monitor,
    ):
        agent = build_agent(monitor, workspace, model_script, mode="interrupt", checkpointer=saver)
        result = agent.invoke(user("Plan."), {"configurable": {"thread_id": "exp-free"}})
    assert approval_requests(result) == [] and (workspace / "plan.md").exists()


def test_parallel_gated_calls_are_each_decided_and_resumed_on_their_own(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    turn = [
        tool_call("launch_training", config_path="small.yaml", gpus=8, hours=1),
        tool_call("launch_training", config_path="big.yaml", gpus=512, hours=48),
    ]
    config = {"configurable": {"thread_id": "exp-two"}}
    with (
        SqliteSaver.from_conn_string(str(tmp_path / "checkpoints.db")) as saver,
        store.monitor(write_pack(tmp_path)) as monitor,
    ):
        agent = build_agent(
            monitor, workspace, [turn, "Done."], mode="interrupt", checkpointer=saver
        )
        result = agent.invoke(user("Train both."), config)
        assert approval_requests(result) and launches(workspace) == []
        small = approval_id_for("exp-two", "call-0-0", "launch_training")
        big = approval_id_for("exp-two", "call-0-1", "launch_training")
        store.vote("approve", small)
        store.vote("deny", big, "alice", "--reason", "512 GPUs needs a compute request")
        for _ in range(3):  # each resume re-checks every paused call
            if not approval_requests(result):
                break
            result = agent.invoke(resume_command(agent.get_state(config)), config)
    assert launches(workspace) == [{"config": "small.yaml", "gpus": 8, "hours": 1}]
    answers = {m.tool_call_id: m for m in result["messages"] if isinstance(m, ToolMessage)}
    assert answers["call-0-0"].status == "success"
    assert "compute request" in str(answers["call-0-1"].content)
