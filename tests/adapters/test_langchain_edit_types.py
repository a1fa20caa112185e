"""A reviewer's edit of a LangChain tool call is checked against the tool's own `args_schema`
before it runs: an edit that does not fit reaches the model as a refusal, and nothing runs."""

from __future__ import annotations

from pathlib import Path

from conftest import Store
from langchain_agents import build_agent, launches, user, write_pack
from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from oversight_langchain.testing import tool_call


def test_an_edit_that_does_not_fit_the_tools_schema_is_refused_before_the_tool_runs(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    script = [
        [tool_call("launch_training", config_path="configs/big.yaml", gpus=64, hours=12)],
        "Understood.",
    ]
    with store.monitor(write_pack(tmp_path)) as monitor:
        agent = build_agent(monitor, workspace, script, checkpointer=InMemorySaver())
        join = store.answer_when_asked("modify", "--set", 'gpus="eight"')
        result = agent.invoke(user("Train it."), {"configurable": {"thread_id": "exp-bad-edit"}})
        join()
    assert launches(workspace) == []
    (refusal,) = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert refusal.status == "error"
    assert "alice's edit does not fit the call: gpus='eight' is not a valid int" in str(
        refusal.content
    )
    launch = store.steps("exp-bad-edit")[1]
    assert launch.proposed.name == "launch_training" and launch.status == "denied"
