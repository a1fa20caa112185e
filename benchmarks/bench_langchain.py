"""Per-step cost of a real LangChain `create_agent` loop: bare, with LangChain's own
`HumanInTheLoopMiddleware` (every tool allowed), with that middleware plus OpenInference's
LangChain instrumentation writing OpenTelemetry spans to a file, and with `OversightMiddleware`
under `research-default` (which allows the same tools).

A step is one model turn and the tool call it asks for. The model is scripted and the tools are
cheap (reading small files), so the figures are the frameworks' own costs, not a model's. Each
contender is measured as what it adds to the bare loop. HITL records nothing; HITL +
OpenInference is what a team adds to keep a record of the run, so it is the record-keeping
baseline. The contenders run one agent run each in turn, many times, because this machine's
speed drifts from minute to minute: each reports its median, and what it adds is the median of
its difference from the bare run of the same round.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from benchmarks.common import header, verdict
from oversight import Monitor, Settings

TURNS = 20
"""Steps per agent run: each run is one session, opened and closed (flushed) once."""
SAMPLES = 25


@dataclass
class Contender:
    title: str
    run: Callable[[], Any]
    around: Callable[[], AbstractContextManager[object]] = nullcontext
    """Entered before each timed run and left after it, outside the timing."""


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


def _agent(root: Path, middleware: list[Any]) -> Callable[[], Any]:
    from langchain.agents import create_agent
    from langchain.agents.middleware.types import InputAgentState
    from langchain_core.runnables import RunnableConfig

    from oversight_langchain.testing import ScriptedChatModel

    agent = create_agent(ScriptedChatModel(script=_script()), _tools(root), middleware=middleware)
    question: InputAgentState = {"messages": [{"role": "user", "content": "Summarise the notes."}]}
    config: RunnableConfig = {"recursion_limit": 4 * TURNS + 10}
    return lambda: agent.invoke(question, config)


def _span_file(path: Path) -> SpanFile | None:
    try:
        return SpanFile(path)
    except ImportError:
        return None


class SpanFile:
    """OpenInference's LangChain instrumentation with spans written to a file, one JSON line each,
    through the SDK's batch processor: what a team adds to LangChain to get a record.

    The instrumentation is process-global (it hooks every LangChain callback manager), so it is
    switched on only around the traced contender's runs; `spans()` lets the benchmark check
    that no other contender's run wrote a span. The tracer provider is the traced contender's
    own, not the global one, which oversight's telemetry would pick up.
    """

    def __init__(self, path: Path) -> None:
        from openinference.instrumentation.langchain import LangChainInstrumentor
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

        self.path = path
        self._out: IO[str] = path.open("w", encoding="utf-8")
        exporter = ConsoleSpanExporter(
            out=self._out, formatter=lambda span: span.to_json(indent=None) + "\n"
        )
        self.provider = TracerProvider()
        self.provider.add_span_processor(BatchSpanProcessor(exporter))
        self._instrumentor = LangChainInstrumentor()
        self._checked = False
        # A long conversation has more message attributes than a span keeps (128 by default):
        # the SDK drops the oldest and warns on every one; the warning is noise here.
        logging.getLogger("opentelemetry.attributes").setLevel(logging.ERROR)

    @contextmanager
    def instrumented(self) -> Iterator[None]:
        # The dependency check reads package metadata: once is enough.
        self._instrumentor.instrument(tracer_provider=self.provider, skip_dep_check=self._checked)
        self._checked = True
        try:
            yield
        finally:
            self._instrumentor.uninstrument()

    def traced(self, run: Callable[[], Any]) -> Callable[[], Any]:
        """`run`, then the spans written: the record is on disk when the run returns, as
        oversight's is when its session closes."""

        def traced_run() -> Any:
            result = run()
            self.provider.force_flush()
            return result

        return traced_run

    def spans(self) -> int:
        self.provider.force_flush()
        with self.path.open(encoding="utf-8") as lines:
            return sum(1 for _ in lines)

    def close(self) -> None:
        self.provider.shutdown()
        self._out.close()


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
        otel = _span_file(root / "spans.jsonl")

        def hitl() -> Any:
            # Every tool allowed: `interrupt_on` lists no tool that needs a person.
            return HumanInTheLoopMiddleware(interrupt_on={"read_file": False})

        contenders = {
            "bare": Contender("create_agent, no middleware", _agent(root, [])),
            "hitl": Contender("+ HumanInTheLoopMiddleware (all allowed)", _agent(root, [hitl()])),
            "oversight": Contender(
                "+ OversightMiddleware (research-default)",
                _agent(root, [OversightMiddleware(monitor)]),
            ),
        }
        if otel is not None:
            contenders["hitl+oi"] = Contender(
                "+ HITL + OpenInference spans to a file",
                otel.traced(_agent(root, [hitl()])),
                otel.instrumented,
            )
        for contender in contenders.values():
            with contender.around():
                contender.run()  # warm-up: imports, compiled graph caches
        cpu: dict[str, list[float]] = {name: [] for name in contenders}
        wall: dict[str, list[float]] = {name: [] for name in contenders}
        spans: dict[str, int] = dict.fromkeys(contenders, 0)
        # One run of each in turn, SAMPLES times: drift hits every contender alike.
        for _ in range(SAMPLES):
            for name, contender in contenders.items():
                before = otel.spans() if otel else 0
                with contender.around():
                    c0, t0 = time.process_time(), time.perf_counter()
                    contender.run()
                    cpu[name].append((time.process_time() - c0) / TURNS * 1e6)
                    wall[name].append((time.perf_counter() - t0) / TURNS * 1e6)
                spans[name] += otel.spans() - before if otel else 0
        if otel is not None:
            otel.close()
        monitor.close()
    print(
        f"(median of {SAMPLES} runs of {TURNS} steps each, the contenders in alternation; "
        "'adds' is the median of each round's difference from the bare run)"
    )
    if otel is None:
        print("(no OpenInference baseline: pip install 'agent-oversight[dev]')")
    else:
        per_run = {name: count / SAMPLES for name, count in spans.items()}
        print(
            "OpenTelemetry spans written per run: "
            + ", ".join(f"{name} {count:.0f}" for name, count in per_run.items())
        )
        if per_run["hitl+oi"] == 0 or any(per_run[n] for n in per_run if n != "hitl+oi"):
            print("  MISS: only the OpenInference contender should write spans")
    for title, samples in (("CPU time of the process", cpu), ("wall time", wall)):
        # CPU time (every thread, our background writer and the span exporter included) is the
        # figure that other processes on a shared machine disturb least; wall time is what the
        # agent waits.
        _report(title, contenders, samples)


def _report(title: str, contenders: dict[str, Contender], samples: dict[str, list[float]]) -> None:
    median = {name: statistics.median(times) for name, times in samples.items()}
    # What a contender adds: the median of its difference from the bare run of the same round,
    # which the machine's drift from round to round cancels out of.
    added = {
        name: statistics.median(t - b for t, b in zip(times, samples["bare"], strict=True))
        for name, times in samples.items()
    }
    print(f"{title}:")
    for name, contender in contenders.items():
        line = f"  {contender.title:<42} {median[name]:9.1f} µs/step"
        if name != "bare":
            line += f"   adds {added[name]:7.1f} µs"
        if name == "oversight":
            line += "  (checks and records 2 calls per step)"
        print(line)
    for baseline, label, target in (
        ("hitl", "ours/HITL", "target <= 1.0: "),
        ("hitl+oi", "ours/(HITL+OpenInference)", ""),
    ):
        if baseline not in added:
            continue
        if added[baseline] > 0:
            ratio = added["oversight"] / added[baseline]
            mark = f"{target}{verdict(ratio <= 1.0)}" if target else ""
            print(f"  ratio {label + ' added cost':<36} {ratio:9.2f} x   {mark}".rstrip())
        else:
            print(f"  ratio {label} added cost: n/a (the machine was too noisy; run again)")


if __name__ == "__main__":
    main()
