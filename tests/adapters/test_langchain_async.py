"""The same middleware under `ainvoke`: async model and tool hooks, parallel tool calls as
asyncio tasks, and a reviewer's wait that does not stop the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from conftest import Store
from langchain_agents import build_agent, launches, user, write_pack
from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from oversight_langchain import approval_requests, resume_command
from oversight_langchain.testing import tool_call


def test_an_async_agent_is_checked_and_recorded_like_a_sync_one(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    (workspace / "old.log").write_text("x")
    script = [
        [
            tool_call("write_file", path="a.txt", content="A"),
            tool_call("run_command", command="rm old.log"),
        ],
        [tool_call("read_file", path="a.txt")],
        "Done.",
    ]
    with store.monitor(write_pack(tmp_path)) as monitor:
        agent = build_agent(monitor, workspace, script, checkpointer=InMemorySaver())
        result = asyncio.run(
            agent.ainvoke(user("Go."), {"configurable": {"thread_id": "exp-async"}})
        )
    assert (workspace / "old.log").exists() and (workspace / "a.txt").read_text() == "A"
    assert [m.content for m in result["messages"] if isinstance(m, ToolMessage)][-1] == "A"
    table = store.table("exp-async")
    assert sorted(table[1:3]) == [
        ("run_command", "file.write", "denied"),
        ("write_file", "file.write", "ok"),
    ]
    assert table[0][1] == table[3][1] == table[5][1] == "model.call"
    assert table[4] == ("read_file", "file.read", "ok")
    assert store.boundaries("exp-async") == [("started", None), ("ended", "completed")]


def test_other_calls_of_the_turn_run_while_one_waits_for_a_reviewer(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    script = [
        [
            tool_call("launch_training", config_path="configs/a.yaml", gpus=8, hours=1),
            tool_call("write_file", path="notes.md", content="launched"),
        ],
        "Done.",
    ]
    seen_write_while_waiting: list[bool] = []

    def reviewer() -> None:
        approval = store.pending()
        end = time.monotonic() + 20
        while not (workspace / "notes.md").exists() and time.monotonic() < end:
            time.sleep(0.02)
        seen_write_while_waiting.append((workspace / "notes.md").exists())
        store.vote("approve", str(approval["id"]))

    with store.monitor(write_pack(tmp_path)) as monitor:
        agent = build_agent(monitor, workspace, script, checkpointer=InMemorySaver())
        thread = threading.Thread(target=reviewer, daemon=True)
        thread.start()
        asyncio.run(agent.ainvoke(user("Go."), {"configurable": {"thread_id": "exp-wait"}}))
        thread.join(60)
    assert seen_write_while_waiting == [True]
    assert len(launches(workspace)) == 1


def test_an_async_run_pauses_and_resumes_in_interrupt_mode(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    script = [[tool_call("launch_training", config_path="c.yaml", gpus=8, hours=1)], "Queued."]
    config = {"configurable": {"thread_id": "exp-async-pause"}}
    with store.monitor(write_pack(tmp_path)) as monitor:
        agent = build_agent(
            monitor, workspace, script, mode="interrupt", checkpointer=InMemorySaver()
        )
        paused = asyncio.run(agent.ainvoke(user("Go."), config))
        (request,) = approval_requests(paused)
        assert launches(workspace) == []
        store.vote("approve", request["approval_id"])
        done = asyncio.run(agent.ainvoke(resume_command(paused), config))
    assert done["messages"][-1].content == "Queued." and len(launches(workspace)) == 1
