"""The public API: Monitor, sessions, the step decorator and the low-level check API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from oversight import (
    CheckpointDenied,
    ConfigError,
    Monitor,
    Proposal,
    SessionHalted,
    StepFinished,
    StepProposed,
    UnknownKindError,
    Verdict,
)
from oversight.records import SessionEnded, SessionStarted
from oversight.testing import monitored


def test_a_session_records_start_steps_and_end_in_order() -> None:
    with monitored(policy="record-only") as run:
        mon = run.monitor

        @mon.step(kind="train.launch")
        def launch_training(config: str, gpus: int) -> str:
            return f"job-1 {config} {gpus}"

        with mon.session("exp-42", agent="research-bot"):
            assert launch_training("configs/rlhf.yaml", gpus=64) == "job-1 configs/rlhf.yaml 64"
        records = run.records("exp-42")
    assert [r.type for r in records] == [
        "session.started",
        "step.proposed",
        "step.finished",
        "session.ended",
    ]
    started, proposed, finished, ended = records
    assert isinstance(started, SessionStarted) and started.agent == "research-bot"
    assert isinstance(proposed, StepProposed)
    assert proposed.kind == "train.launch"
    assert proposed.name == "launch_training"
    assert proposed.args == {"config": "configs/rlhf.yaml", "gpus": 64}
    assert proposed.seq == 1 and proposed.write_ahead is True
    assert isinstance(finished, StepFinished)
    assert finished.status == "ok" and finished.step_id == proposed.step_id
    assert finished.result_summary == "job-1 configs/rlhf.yaml 64"
    assert isinstance(ended, SessionEnded) and ended.status == "completed" and ended.steps == 1


def test_kind_is_inferred_from_the_tool_name_and_arguments() -> None:
    with monitored(policy="record-only") as run:
        mon = run.monitor

        @mon.step
        def Bash(command: str) -> str:
            return "ok"

        @mon.step(name="Read")
        def read(file_path: str) -> str:
            return "text"

        with mon.session("s"):
            read("train.py")
            Bash("torchrun --nproc_per_node 8 train.py")
            Bash("git push origin main")
            Bash("ls -la")
        assert run.kinds("s") == ["file.read", "train.launch", "code.apply", "file.read"]
        reasons = [s.reason for s in run.steps("s")]
    assert all(reasons), "every classification explains itself"


def test_sequence_numbers_count_up_within_a_session() -> None:
    with monitored(policy="record-only") as run:

        @run.monitor.step(name="lookup")
        def lookup(q: str) -> str:
            return q

        with run.monitor.session("s"):
            for i in range(5):
                lookup(str(i))
        assert [s.seq for s in run.steps("s")] == [1, 2, 3, 4, 5]


def test_reopening_a_session_id_continues_its_sequence(tmp_path: Path) -> None:
    db = str(tmp_path / "o.db")
    for _ in range(2):
        with Monitor(db=db, policy="record-only", log="none") as mon:

            @mon.step(name="lookup")
            def lookup(q: str) -> str:
                return q

            with mon.session("resumed"):
                lookup("a")
                lookup("b")
    with monitored(db=db, policy="record-only") as run:
        assert [s.seq for s in run.steps("resumed")] == [1, 2, 3, 4]


def test_nested_steps_are_linked_to_their_parent() -> None:
    with monitored(policy="record-only") as run:
        mon = run.monitor

        @mon.step(name="submit_job", kind="shell.exec")
        def submit(script: str) -> str:
            return "42"

        @mon.step(name="launch_training", kind="train.launch")
        def launch(config: str) -> str:
            return submit(f"sbatch {config}")

        with mon.session("s"):
            launch("c.yaml")
            submit("other")
        steps = run.steps("s")
    by_name = {s.name: s for s in steps}
    outer, inner, later = steps
    assert outer.name == "launch_training" and outer.parent_id is None
    assert inner.parent_id == outer.step_id
    assert later.parent_id is None
    assert by_name["launch_training"].seq < inner.seq


def test_async_steps_in_concurrent_tasks_get_their_own_parents() -> None:
    with monitored(policy="record-only") as run:
        mon = run.monitor

        @mon.step(name="fetch", kind="tool.call")
        async def fetch(url: str) -> str:
            await asyncio.sleep(0.01)
            return url

        @mon.step(name="research", kind="tool.call")
        async def research(topic: str) -> list[str]:
            return [await fetch(f"{topic}/1"), await fetch(f"{topic}/2")]

        async def main() -> None:
            async with mon.session("async-s", agent="a"):
                await asyncio.gather(research("rl"), research("evals"))

        asyncio.run(main())
        steps = run.steps("async-s")
    parents = {s.step_id: s for s in steps if s.name == "research"}
    fetches = [s for s in steps if s.name == "fetch"]
    assert len(parents) == 2 and len(fetches) == 4
    for f in fetches:
        assert f.parent_id in parents
        topic = parents[f.parent_id].args["topic"]
        assert f.args["url"].startswith(topic)


def test_a_failing_step_is_recorded_as_error_and_the_exception_propagates() -> None:
    with monitored(policy="record-only") as run:

        @run.monitor.step(name="run_experiment", kind="experiment.run")
        def run_experiment(seed: int) -> None:
            raise RuntimeError("CUDA out of memory")

        with pytest.raises(RuntimeError, match="out of memory"), run.monitor.session("s"):
            run_experiment(1)
        (outcome,) = run.outcomes("s").values()
        ended = run.records("s")[-1]
    assert outcome.status == "error" and "CUDA out of memory" in (outcome.error or "")
    assert isinstance(ended, SessionEnded) and ended.status == "failed"


def test_steps_outside_a_session_go_to_an_implicit_session() -> None:
    with monitored(policy="record-only") as run:

        @run.monitor.step(name="lookup")
        def lookup(q: str) -> str:
            return q

        lookup("x")
        steps = run.steps()
    assert len(steps) == 1 and steps[0].session_id.startswith("implicit-")


class _DenyTrainingLaunches:
    def decide(self, proposal: Proposal, facts: object = None) -> Verdict:
        if proposal.kind == "train.launch":
            return Verdict("deny", "training needs a person", rule="no-unreviewed-training")
        if "rm -rf" in str(proposal.args):
            return Verdict("halt", "destructive command", rule="halt-on-rm")
        return Verdict("allow", "ok", rule="default")


def test_a_denied_step_does_not_run_and_the_agent_is_told_why() -> None:
    ran = []
    with monitored(policy=_DenyTrainingLaunches()) as run:

        @run.monitor.step(name="launch_training", kind="train.launch")
        def launch(config: str) -> None:
            ran.append(config)

        with run.monitor.session("s"), pytest.raises(CheckpointDenied) as info:
            launch("c.yaml")
        (proposed,) = run.steps("s")
        (outcome,) = run.outcomes("s").values()
    assert ran == []
    assert info.value.reason == "training needs a person"
    assert info.value.rule == "no-unreviewed-training"
    assert proposed.decision == "deny" and proposed.rule == "no-unreviewed-training"
    assert outcome.status == "denied"


def test_a_halt_stops_this_step_and_every_later_one() -> None:
    ran = []
    with monitored(policy=_DenyTrainingLaunches()) as run:

        @run.monitor.step(name="Bash")
        def bash(command: str) -> None:
            ran.append(command)

        with pytest.raises(SessionHalted), run.monitor.session("s"):
            with pytest.raises(SessionHalted):
                bash("rm -rf /data")
            bash("ls")
        records = run.records("s")
    assert ran == []
    assert records[-1].type == "session.ended" and records[-1].status == "halted"


def test_low_level_check_records_an_adapters_call() -> None:
    with monitored(policy="record-only") as run:
        mon = run.monitor
        with mon.session("s") as session:
            handle = mon.check("execute_bash", {"command": "python eval/run_eval.py"})
            assert handle.kind == "eval.run"
            handle.succeed({"accuracy": 0.91})
            failing = mon.check(
                "str_replace_editor", {"command": "view", "path": "a.py"}, session=session
            )
            failing.fail(FileNotFoundError("a.py"))
        outcomes = run.outcomes("s")
    assert outcomes[handle.step_id].status == "ok"
    assert outcomes[handle.step_id].result_summary == '{"accuracy":0.91}'
    assert outcomes[failing.step_id].status == "error"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda m: m.check("", {}), ConfigError),
        (lambda m: m.check("Bash", ["ls"]), ConfigError),
        (lambda m: m.check("Bash", {}, actor="robot"), ConfigError),
        (lambda m: m.check("Bash", {}, kind="training"), UnknownKindError),
        (lambda m: m.step(kind="launch"), UnknownKindError),
        (lambda m: m.session(""), ConfigError),
    ],
)
def test_invalid_api_use_raises_a_typed_error_naming_the_problem(call, error) -> None:
    with monitored(policy="record-only") as run, pytest.raises(error):
        call(run.monitor)


def test_unknown_kind_error_lists_the_accepted_kinds() -> None:
    with (
        monitored(policy="record-only") as run,
        pytest.raises(UnknownKindError, match="train.launch"),
    ):
        run.monitor.step(kind="training")


def test_generator_functions_are_refused_with_an_explanation() -> None:
    with monitored(policy="record-only") as run, pytest.raises(TypeError, match="generator"):

        @run.monitor.step
        def stream(q: str):  # type: ignore[no-untyped-def]
            yield q


def test_steps_in_threads_the_agent_starts_join_its_one_open_session() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with monitored(policy="record-only") as run:

        @run.monitor.step(name="fetch", kind="tool.call")
        def fetch(url: str) -> str:
            return url

        with run.monitor.session("threaded"), ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(fetch, [f"u{i}" for i in range(8)]))
        steps = run.steps("threaded")
    assert sorted(s.args["url"] for s in steps) == [f"u{i}" for i in range(8)]
    assert sorted(s.seq for s in steps) == list(range(1, 9))


def test_with_two_open_sessions_a_contextless_step_goes_to_an_implicit_session() -> None:
    import threading

    with monitored(policy="record-only") as run:
        mon = run.monitor
        a, b = mon.session("a"), mon.session("b")
        a.start()
        b.start()
        thread = threading.Thread(target=lambda: mon.check("lookup", {"q": 1}).succeed())
        thread.start()
        thread.join()
        a.end()
        b.end()
        assert run.steps("a") == [] and run.steps("b") == []
        (step,) = [s for s in run.steps() if s.session_id.startswith("implicit-")]
    assert step.name == "lookup"
