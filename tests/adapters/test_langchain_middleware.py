"""OversightMiddleware in a real `create_agent` loop, blocking mode: every model and tool call
is checked, run (or refused) and recorded, and the session matches what the agent did."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Store
from langchain.agents import create_agent
from langchain_agents import (
    build_agent,
    git_workspace,
    launches,
    user,
    workspace_tools,
    write_pack,
)
from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from oversight import ConfigError, SessionHalted, StepFinished, UnknownKindError
from oversight_langchain import OversightMiddleware
from oversight_langchain.testing import ScriptedChatModel, tool_call


def thread(thread_id: str) -> dict[str, object]:
    return {"configurable": {"thread_id": thread_id}}


def tool_messages(result: dict[str, object]) -> list[ToolMessage]:
    return [m for m in result["messages"] if isinstance(m, ToolMessage)]  # type: ignore[attr-defined]


def test_allowed_calls_run_and_the_session_records_each_step_in_order(
    store: Store, workspace: Path
) -> None:
    script = [
        [tool_call("write_file", path="notes.md", content="lr=0.1 diverges")],
        [tool_call("read_file", path="notes.md")],
        [tool_call("run_command", command='python -c "print(6 * 7)"')],
        "Recorded the finding.",
    ]
    with store.monitor() as monitor:
        agent = build_agent(monitor, workspace, script, checkpointer=InMemorySaver())
        result = agent.invoke(user("Note the finding."), thread("exp-1"))
    assert (workspace / "notes.md").read_text() == "lr=0.1 diverges"
    assert [m.content for m in tool_messages(result)][1:] == ["lr=0.1 diverges", "42"]
    model = ("scripted-research-model", "model.call", "ok")
    assert store.table("exp-1") == [
        model,
        ("write_file", "file.write", "ok"),
        model,
        ("read_file", "file.read", "ok"),
        model,
        ("run_command", "shell.exec", "ok"),
        model,
    ]
    steps = store.steps("exp-1")
    assert steps[1].proposed.args == {"path": "notes.md", "content": "lr=0.1 diverges"}
    assert steps[5].proposed.args == {"command": 'python -c "print(6 * 7)"'}
    assert [s.proposed.seq for s in steps] == list(range(1, 8))
    assert store.boundaries("exp-1") == [("started", None), ("ended", "completed")]


def test_model_calls_record_the_model_and_its_token_usage(store: Store, workspace: Path) -> None:
    with store.monitor() as monitor:
        agent = build_agent(monitor, workspace, ["Nothing to do."], checkpointer=InMemorySaver())
        agent.invoke(user("Say hello to the team"), thread("exp-tokens"))
    (step,) = store.steps("exp-tokens")
    assert step.proposed.args == {
        "model": "scripted-research-model",
        "messages": 1,
        "last_message": "human: Say hello to the team",
        "tools": "read_file,write_file,run_command,launch_training",
    }
    assert step.finished is not None and step.finished.attributes == {
        "gen_ai.request.model": "scripted-research-model",
        "gen_ai.response.model": "scripted-research-model",
        "gen_ai.usage.input_tokens": 5,
        "gen_ai.usage.output_tokens": 3,
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "Say hello to the team",
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": "Nothing to do.",
    }


def test_a_model_calls_span_carries_the_chat_a_backend_shows(store: Store, workspace: Path) -> None:
    """OpenInference's chat view: the messages sent (a tool call and its result among them),
    the reply, and the token counts, on the model call's LLM span."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    script = [[tool_call("read_file", path="notes.md")], "The notes say lr=0.1."]
    (workspace / "notes.md").write_text("lr=0.1")
    with store.monitor(tracer_provider=provider) as monitor:
        agent = build_agent(monitor, workspace, script, checkpointer=InMemorySaver())
        agent.invoke(user("What do the notes say?"), thread("exp-chat"))
    second = [s for s in exporter.get_finished_spans() if s.name.startswith("chat ")][1]
    chat = dict(second.attributes or {})
    assert chat["openinference.span.kind"] == "LLM"
    assert [chat[f"llm.input_messages.{i}.message.role"] for i in range(3)] == [
        "user", "assistant", "tool"
    ]  # fmt: skip
    assert chat["llm.input_messages.0.message.content"] == "What do the notes say?"
    call = "llm.input_messages.1.message.tool_calls.0.tool_call"
    assert chat[f"{call}.function.name"] == "read_file"
    assert chat[f"{call}.function.arguments"] == '{"path": "notes.md"}'
    assert chat["llm.input_messages.2.message.content"] == "lr=0.1"
    assert chat["llm.input_messages.2.message.tool_call_id"] == chat[f"{call}.id"]
    assert chat["llm.output_messages.0.message.content"] == "The notes say lr=0.1."
    assert chat["llm.token_count.total"] == (
        chat["llm.token_count.prompt"] + chat["llm.token_count.completion"]
    )


def test_a_refused_call_does_not_run_and_the_model_reads_why(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    (workspace / "results.csv").write_text("run,acc\n1,0.9\n")
    script = [[tool_call("run_command", command="rm results.csv")], "I will keep the results."]
    with store.monitor(write_pack(tmp_path)) as monitor:
        agent = build_agent(monitor, workspace, script, checkpointer=InMemorySaver())
        result = agent.invoke(user("Clean up."), thread("exp-deny"))
    assert (workspace / "results.csv").exists()
    (refusal,) = tool_messages(result)
    assert refusal.status == "error" and refusal.name == "run_command"
    assert "deleting files is not allowed in this workspace" in str(refusal.content)
    assert "rule no-deleting" in str(refusal.content)
    assert result["messages"][-1].content == "I will keep the results."
    assert store.table("exp-deny")[1] == ("run_command", "file.write", "denied")
    assert store.boundaries("exp-deny")[-1] == ("ended", "completed")


def test_a_push_waits_for_a_reviewer_in_another_process_and_then_runs(
    store: Store, workspace: Path
) -> None:
    origin = git_workspace(workspace)
    script = [[tool_call("run_command", command="git push -q origin main")], "Pushed."]
    with store.monitor() as monitor:
        agent = build_agent(monitor, workspace, script, checkpointer=InMemorySaver())
        join = store.answer_when_asked("approve")
        agent.invoke(user("Publish the commit."), thread("exp-push"))
        join()
    pushed = subprocess.run(
        ["git", "log", "--oneline", "main"], cwd=origin, capture_output=True, text=True, check=True
    )
    assert "initial" in pushed.stdout
    push = store.steps("exp-push")[1]
    assert push.proposed.decision == "require_approval"
    assert push.proposed.kind == "code.apply" and push.proposed.rule == "gate-code-apply"
    assert isinstance(push.finished, StepFinished)
    assert push.finished.status == "ok" and push.finished.approved_by == ["alice"]


def test_a_reviewers_denial_reaches_the_model_and_nothing_runs(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    script = [
        [tool_call("launch_training", config_path="configs/big.yaml", gpus=64, hours=12)],
        "Understood.",
    ]
    with store.monitor(write_pack(tmp_path)) as monitor:
        agent = build_agent(monitor, workspace, script, checkpointer=InMemorySaver())
        join = store.answer_when_asked("deny", "--reason", "use 8 GPUs")
        result = agent.invoke(user("Train it."), thread("exp-denied"))
        join()
    assert launches(workspace) == []
    (refusal,) = tool_messages(result)
    assert refusal.status == "error" and "use 8 GPUs" in str(refusal.content)
    assert store.table("exp-denied")[1] == ("launch_training", "train.launch", "denied")


def test_a_reviewers_edit_is_what_runs_and_the_model_is_told(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    script = [
        [tool_call("launch_training", config_path="configs/big.yaml", gpus=64, hours=12)],
        "Launched.",
    ]
    with store.monitor(write_pack(tmp_path)) as monitor:
        agent = build_agent(monitor, workspace, script, checkpointer=InMemorySaver())
        join = store.answer_when_asked("modify", "--set", "gpus=8", "--reason", "8 is enough")
        result = agent.invoke(user("Train it."), thread("exp-edit"))
        join()
    assert launches(workspace) == [{"config": "configs/big.yaml", "gpus": 8, "hours": 12}]
    (message,) = tool_messages(result)
    assert "alice edited this call" in str(message.content)
    assert "queued job-1.json: 8 GPUs" in str(message.content)
    original, edited = store.steps("exp-edit")[1:3]
    assert original.status == "modified" and original.proposed.args["gpus"] == 64
    assert edited.proposed.modifies == original.proposed.step_id
    assert edited.proposed.args["gpus"] == 8 and edited.status == "ok"


def test_parallel_calls_in_one_turn_are_each_checked_and_recorded(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    (workspace / "old.log").write_text("x")
    script = [
        [
            tool_call("write_file", path="a.txt", content="A"),
            tool_call("run_command", command="rm old.log"),
            tool_call("write_file", path="b.txt", content="B"),
        ],
        "Done.",
    ]
    with store.monitor(write_pack(tmp_path)) as monitor:
        agent = build_agent(monitor, workspace, script, checkpointer=InMemorySaver())
        result = agent.invoke(user("Write both, tidy up."), thread("exp-parallel"))
    assert (workspace / "a.txt").read_text() == "A" and (workspace / "b.txt").read_text() == "B"
    assert (workspace / "old.log").exists()
    statuses = {m.tool_call_id: m.status for m in tool_messages(result)}
    assert statuses == {"call-0-0": "success", "call-0-1": "error", "call-0-2": "success"}
    tools = sorted(row for row in store.table("exp-parallel") if row[1] != "model.call")
    assert tools == [
        ("run_command", "file.write", "denied"),
        ("write_file", "file.write", "ok"),
        ("write_file", "file.write", "ok"),
    ]


def test_a_tool_that_raises_fails_its_step_and_ends_the_session_as_failed(
    store: Store, workspace: Path
) -> None:
    script = [[tool_call("read_file", path="missing.txt")], "unreachable"]
    with store.monitor() as monitor:
        agent = build_agent(monitor, workspace, script, checkpointer=InMemorySaver())
        with pytest.raises(FileNotFoundError):
            agent.invoke(user("Read it."), thread("exp-crash"))
    assert store.table("exp-crash")[-1] == ("read_file", "file.read", "error")
    ((_, _), (ended, status)) = store.boundaries("exp-crash")
    assert (ended, status) == ("ended", "failed")


def test_tampering_with_oversight_halts_the_run_and_the_session(
    store: Store, workspace: Path
) -> None:
    script = [[tool_call("run_command", command=f"rm -f {store.db}")], "unreachable"]
    with store.monitor() as monitor:
        agent = build_agent(monitor, workspace, script, checkpointer=InMemorySaver())
        with pytest.raises(SessionHalted):
            agent.invoke(user("Free some disk space."), thread("exp-halt"))
    assert store.db.exists()
    assert store.table("exp-halt")[-1] == ("run_command", "oversight.tamper", "halted")
    assert store.boundaries("exp-halt")[-1] == ("ended", "halted")


def test_the_session_is_the_thread_and_each_run_without_one_gets_its_own(
    store: Store, workspace: Path
) -> None:
    with store.monitor() as monitor:
        agent = build_agent(monitor, workspace, ["Hi.", "Hi again."], checkpointer=InMemorySaver())
        agent.invoke(user("Hello"), thread("exp-thread"))
        agent.invoke(user("Hello again"), thread("exp-thread"))
        bare = build_agent(monitor, workspace, ["Hi."])
        bare.invoke(user("Hello"))
        bare.invoke(user("Hello"))
        monitor.flush()
        sessions = [row.session_id for row in monitor.store.sessions()]
    assert [s.proposed.seq for s in store.steps("exp-thread")] == [1, 2]
    assert store.boundaries("exp-thread") == [("started", None), ("ended", "completed")] * 2
    fresh = [s for s in sessions if s != "exp-thread"]
    assert len(fresh) == 2 and fresh[0] != fresh[1]


def test_a_declared_tool_kind_is_gated_and_no_answer_by_the_deadline_refuses_it(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    script = [[tool_call("write_file", path="job.yaml", content="gpus: 64")], "Gave up."]
    with store.monitor(write_pack(tmp_path, timeout_s=0.5)) as monitor:
        middleware = OversightMiddleware(monitor, tool_kinds={"write_file": "train.launch"})
        agent = create_agent(
            ScriptedChatModel(script=script), workspace_tools(workspace), middleware=[middleware]
        )
        result = agent.invoke(user("Submit the job."))
    assert not (workspace / "job.yaml").exists()
    (refusal,) = tool_messages(result)
    assert refusal.status == "error" and "no reviewer approved it in time" in str(refusal.content)
    (session,) = {s.proposed.session_id for s in store.steps_of_all()}
    assert store.table(session)[1] == ("write_file", "train.launch", "timed_out")


def test_a_bad_mode_or_kind_is_refused_naming_what_is_accepted(store: Store) -> None:
    with store.monitor() as monitor:
        with pytest.raises(ConfigError, match="'pause'"):
            OversightMiddleware(monitor, mode="pause")  # type: ignore[arg-type]
        with pytest.raises(UnknownKindError, match="'training'.*train.launch"):
            OversightMiddleware(monitor, tool_kinds={"submit": "training"})


def test_without_the_extra_the_import_says_what_to_install() -> None:
    script = "import sys; sys.modules['langgraph'] = None; import oversight_langchain"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert "pip install 'agent-oversight[langchain]'" in done.stderr


def test_decorated_functions_a_tool_calls_are_recorded_as_its_children(
    store: Store, workspace: Path
) -> None:
    from langchain_core.tools import tool

    with store.monitor() as monitor:

        @monitor.step(kind="file.read")
        def load_notes(path: str) -> str:
            return (workspace / path).read_text()

        @tool
        def summarise(path: str) -> str:
            """Summarise a notes file."""
            return load_notes(path)[:10]

        (workspace / "n.md").write_text("lr=0.1 diverges")
        model = ScriptedChatModel(script=[[tool_call("summarise", path="n.md")], "done"])
        agent = create_agent(model, [summarise], middleware=[OversightMiddleware(monitor)])
        agent.invoke(user("Summarise."), thread("nested"))
    steps = {s.proposed.name: s.proposed for s in store.steps("nested")}
    assert steps["load_notes"].parent_id == steps["summarise"].step_id
