"""OversightCallbackHandler on plain runnables, tools and a LangGraph agent: every chain,
model and tool run is recorded; with block=True a refused tool call raises before it runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Store
from langchain.agents import create_agent
from langchain_agents import launches, user, workspace_tools, write_pack
from langchain_core.language_models import FakeListLLM
from langchain_core.runnables import RunnableLambda

from oversight import CheckpointDenied
from oversight_langchain import OversightCallbackHandler, OversightNotEnforcedWarning
from oversight_langchain.testing import ScriptedChatModel, tool_call


def tools_by_name(workspace: Path) -> dict[str, object]:
    return {t.name: t for t in workspace_tools(workspace)}


def only_session(store: Store) -> str:
    with store.monitor(None) as monitor:
        (session,) = monitor.store.sessions()
    return session.session_id


def test_a_chain_records_its_runs_and_its_model_call_in_one_session(store: Store) -> None:
    model = ScriptedChatModel(script=["Use a learning rate of 0.01."], model_name="scripted-x")
    chain = RunnableLambda(lambda q: f"Question: {q}", name="format_question") | model
    with store.monitor(None) as monitor:
        handler = OversightCallbackHandler(monitor)
        answer = chain.invoke("which lr?", {"callbacks": [handler], "run_name": "suggest_lr"})
    assert answer.content == "Use a learning rate of 0.01."
    session = only_session(store)
    assert session.startswith("langchain-run-")
    assert store.table(session) == [
        ("suggest_lr", "tool.call", "ok"),
        ("format_question", "tool.call", "ok"),
        ("scripted-x", "model.call", "ok"),
    ]
    model_step = store.steps(session)[2]
    assert model_step.finished is not None and model_step.finished.attributes is not None
    assert model_step.finished.attributes["gen_ai.usage.output_tokens"] == 6
    chat = model_step.finished.attributes
    assert chat["llm.input_messages.0.message.role"] == "user"
    assert chat["llm.input_messages.0.message.content"] == "Question: which lr?"
    assert chat["llm.output_messages.0.message.content"] == "Use a learning rate of 0.01."
    assert store.boundaries(session) == [("started", None), ("ended", "completed")]


def test_a_failing_chain_fails_its_step_and_its_session(store: Store) -> None:
    def explode(_: str) -> str:
        raise ValueError("bad input")

    with store.monitor(None) as monitor:
        handler = OversightCallbackHandler(monitor)
        with pytest.raises(ValueError, match="bad input"):
            RunnableLambda(explode, name="parse").invoke("x", {"callbacks": [handler]})
    session = only_session(store)
    assert store.table(session) == [("parse", "tool.call", "error")]
    assert store.boundaries(session)[-1] == ("ended", "failed")


def test_tool_runs_are_classified_and_recorded_with_their_outcome(
    store: Store, workspace: Path
) -> None:
    tools = tools_by_name(workspace)
    with store.monitor() as monitor:
        handler = OversightCallbackHandler(monitor)
        tools["write_file"].invoke(  # type: ignore[attr-defined]
            {"path": "a.txt", "content": "A"}, {"callbacks": [handler]}
        )
    assert (workspace / "a.txt").read_text() == "A"
    session = only_session(store)
    assert store.table(session) == [("write_file", "file.write", "ok")]
    assert store.steps(session)[0].proposed.args == {"path": "a.txt", "content": "A"}


def test_block_true_refuses_a_gated_tool_call_before_it_runs(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    tools = tools_by_name(workspace)
    (workspace / "results.csv").write_text("acc\n0.9\n")
    with store.monitor(write_pack(tmp_path)) as monitor:
        handler = OversightCallbackHandler(monitor, block=True)
        assert handler.raise_error is True
        with pytest.raises(CheckpointDenied, match="deleting files is not allowed"):
            tools["run_command"].invoke(  # type: ignore[attr-defined]
                {"command": "rm results.csv"}, {"callbacks": [handler]}
            )
    assert (workspace / "results.csv").exists()
    session = only_session(store)
    assert store.table(session) == [("run_command", "file.write", "denied")]
    assert store.boundaries(session)[-1] == ("ended", "failed")


def test_block_true_waits_for_a_reviewer_and_runs_what_was_approved(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    tools = tools_by_name(workspace)
    with store.monitor(write_pack(tmp_path)) as monitor:
        handler = OversightCallbackHandler(monitor, block=True)
        join = store.answer_when_asked("approve")
        tools["launch_training"].invoke(  # type: ignore[attr-defined]
            {"config_path": "c.yaml", "gpus": 8, "hours": 1}, {"callbacks": [handler]}
        )
        join()
    assert len(launches(workspace)) == 1
    (step,) = store.steps(only_session(store))
    assert step.finished is not None and step.finished.approved_by == ["alice"]


def test_block_false_cannot_stop_a_refused_call_and_says_so(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    tools = tools_by_name(workspace)
    (workspace / "results.csv").write_text("acc\n0.9\n")
    with store.monitor(write_pack(tmp_path)) as monitor:
        handler = OversightCallbackHandler(monitor)
        with pytest.warns(OversightNotEnforcedWarning, match="runs anyway"):
            tools["run_command"].invoke(  # type: ignore[attr-defined]
                {"command": "rm results.csv"}, {"callbacks": [handler]}
            )
    assert not (workspace / "results.csv").exists()
    # The record tells the truth: the policy said deny, nobody enforced it, the call ran.
    assert store.table(only_session(store)) == [("run_command", "file.write", "ok")]
    (step,) = store.steps(only_session(store))
    assert step.proposed.decision == "deny" and step.proposed.enforced is False


def test_an_agent_run_records_its_model_and_tool_calls_under_its_thread(
    store: Store, workspace: Path
) -> None:
    model = ScriptedChatModel(script=[[tool_call("write_file", path="n.md", content="x")], "ok"])
    agent = create_agent(model, workspace_tools(workspace))
    with store.monitor() as monitor:
        handler = OversightCallbackHandler(monitor)
        agent.invoke(
            user("Write it."), {"callbacks": [handler], "configurable": {"thread_id": "t-cb"}}
        )
    rows = store.table("t-cb")
    assert rows[0] == ("LangGraph", "tool.call", "ok")
    calls = [row for row in rows if row[1] != "tool.call"]
    assert calls == [
        ("scripted-research-model", "model.call", "ok"),
        ("write_file", "file.write", "ok"),
        ("scripted-research-model", "model.call", "ok"),
    ]
    assert all(status == "ok" for _, _, status in rows)
    assert store.boundaries("t-cb") == [("started", None), ("ended", "completed")]


def test_a_completion_model_call_is_recorded_with_its_prompt(store: Store) -> None:
    llm = FakeListLLM(responses=["0.03"])
    with store.monitor(None) as monitor:
        handler = OversightCallbackHandler(monitor)
        assert llm.invoke("Best lr?", {"callbacks": [handler]}) == "0.03"
    (step,) = store.steps(only_session(store))
    assert step.proposed.kind == "model.call" and step.status == "ok"
    assert step.proposed.args == {"model": "FakeListLLM", "prompts": 1, "last_prompt": "Best lr?"}
