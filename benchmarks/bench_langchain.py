"""Per-step cost of a real LangChain `create_agent` loop: bare, with LangChain's own
`HumanInTheLoopMiddleware` (every tool allowed), and with `OversightMiddleware` under
`research-default` (which allows the same tools).

A step is one model turn and the tool call it asks for. The model is scripted and the tools are
cheap (reading small files), so the figures are the frameworks' own costs, not a model's. Both
middlewares are measured as what they add to the bare loop; the ratio is ours over LangChain's.
The contenders run one agent run each in turn, many times, and each reports its median,
because this machine's speed drifts from minute to minute.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import header, verdict
from oversight import Monitor, Settings

TURNS = 20
"""Steps per agent run: each run is one session, opened and closed (flushed) once."""
SAMPLES = 15

Contender = Callable[[], Any]


def _tools(root: Path) -> list[Any]:
    from langchain_core.tools import tool

    @tool
    def read_file(path: str) -> str:
        """Read a text file."""
        return (root / path).read_text()

    return [read_file]


def _script() -> list[Any]:
    from oversight_langchain.testing import tool_call

    return [[tool_call("read_file", path=f"notes/{i % 4}.md")] for i in range(TURNS)] + ["Done."]


def _agent(root: Path, middleware: list[Any]) -> Contender:
    from langchain.agents import create_agent
    from langchain.agents.middleware.types import InputAgentState
    from langchain_core.runnables import RunnableConfig

    from oversight_langchain.testing import ScriptedChatModel

    agent = create_agent(ScriptedChatModel(script=_script()), _tools(root), middleware=middleware)
    question: InputAgentState = {"messages": [{"role": "user", "content": "Summarise the notes."}]}
    config: RunnableConfig = {"recursion_limit": 4 * TURNS + 10}
    return lambda: agent.invoke(question, config)


def main() -> None:
    try:
        from langchain.agents.middleware import HumanInTheLoopMiddleware

        from oversight_langchain import OversightMiddleware
    except ImportError:
        print("langchain benchmark skipped: pip install 'agent-oversight[langchain]'")
        return
    header(
        "LangChain create_agent loop, per step (one scripted model turn + one tool call); "
        "durable SQLite store, structlog JSON on"
    )
    with tempfile.TemporaryDirectory() as tmpdir:
        root = Path(tmpdir)
        (root / "notes").mkdir()
        for i in range(4):
            (root / "notes" / f"{i}.md").write_text(f"note {i}: lr=0.{i + 1}\n" * 20)
        monitor = Monitor(
            settings=Settings.from_env(
                db=str(root / "oversight.db"),
                log=str(root / "events.jsonl"),
                policy="research-default",
            )
        )
        contenders = {
            "bare": _agent(root, []),
            # Every tool allowed: `interrupt_on` lists no tool that needs a person.
            "hitl": _agent(root, [HumanInTheLoopMiddleware(interrupt_on={"read_file": False})]),
            "oversight": _agent(root, [OversightMiddleware(monitor)]),
        }
        for run in contenders.values():
            run()  # warm-up: imports, compiled graph caches
        cpu: dict[str, list[float]] = {name: [] for name in contenders}
        wall: dict[str, list[float]] = {name: [] for name in contenders}
        # One run of each in turn, SAMPLES times: drift hits every contender alike.
        for _ in range(SAMPLES):
            for name, run in contenders.items():
                c0, t0 = time.process_time(), time.perf_counter()
                run()
                cpu[name].append((time.process_time() - c0) / TURNS * 1e6)
                wall[name].append((time.perf_counter() - t0) / TURNS * 1e6)
        monitor.close()
    print(f"(median of {SAMPLES} runs of {TURNS} steps each, the contenders in alternation)")
    for title, samples in (("CPU time of the process", cpu), ("wall time", wall)):
        # CPU time (every thread, our background writer included) is the figure that other
        # processes on a shared machine disturb least; wall time is what the agent waits.
        median = {name: statistics.median(times) for name, times in samples.items()}
        hitl_added = median["hitl"] - median["bare"]
        ours_added = median["oversight"] - median["bare"]
        print(f"{title}:")
        print(f"  create_agent, no middleware              {median['bare']:9.1f} µs/step")
        print(
            f"  + HumanInTheLoopMiddleware (all allowed) {median['hitl']:9.1f} µs/step   "
            f"adds {hitl_added:7.1f} µs"
        )
        print(
            f"  + OversightMiddleware (research-default) {median['oversight']:9.1f} µs/step   "
            f"adds {ours_added:7.1f} µs  (checks and records 2 calls per step)"
        )
        if hitl_added > 0:
            ratio = ours_added / hitl_added
            print(
                f"  ratio ours/HITL added cost               {ratio:9.2f} x   "
                f"target <= 1.0: {verdict(ratio <= 1.0)}"
            )
        else:
            print("  ratio ours/HITL added cost: n/a (the machine was too noisy; run again)")


if __name__ == "__main__":
    main()
