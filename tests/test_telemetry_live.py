"""Issue 14's "Done when", against a real OTLP/HTTP receiver that decodes the protobuf: agents in
their own processes, configured by nothing but the standard `OTEL_*` variables; a reviewer who
approves from the CLI in another process; an agent killed with SIGKILL.

- No planted secret reaches the receiver, the store or the event log, on any path (arguments,
  results, metadata, error text).
- A pending approval is visible in the backend before anyone decides it.
- The decision arrives as events on the step's span, with the reviewer.
- A killed agent's spans still sit under their session: the next monitor on the store makes the
  session's span, with the ids the exported steps already name as their parent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from otlp_receiver import Receiver, attributes
from reviewing import cli, register_reviewers, wait_for_pending, write_gate_pack

from oversight.store import open_store

SECRET = "ghp_" + "L1v3S3cr3tT0k3nAbCdEfGhIj12"
PASSWORD = "hunter2-" + "correct-horse"

GATED_AGENT = textwrap.dedent(
    f"""
    import sys
    from oversight import Monitor
    mon = Monitor(db=sys.argv[1], log=sys.argv[2], policy=sys.argv[3])
    with mon.session("live", agent="researcher", metadata={{"db_password": "{PASSWORD}"}}):
        mon.check("Read", {{"file_path": "notes.md"}}).succeed("TOKEN={SECRET} lr=0.1")
        mon.check("Bash", {{"command": "password={PASSWORD} python prep.py"}}).fail(
            RuntimeError("auth failed for {SECRET}")
        )
        step = mon.check("launch", {{"config": "big.yaml", "api_key": "{SECRET}"}},
                         kind="train.launch")
        step.succeed("started", attributes={{"run.token": "{SECRET}"}})
        print("RAN", flush=True)
    mon.close()
    """
)


def _otel_env(receiver: Receiver) -> dict[str, str]:
    return {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_SERVICE_NAME": "lab-agent",
    }


def _named(spans: list[Span], prefix: str) -> list[Span]:
    return [s for s in spans if s.name.startswith(prefix)]


def test_a_pending_approval_shows_before_it_is_decided_and_its_answer_after(
    receiver: Receiver, tmp_path: Path
) -> None:
    db, keys, events = tmp_path / "o.db", tmp_path / "keys", tmp_path / "events.jsonl"
    register_reviewers(db, keys, ("alice",))
    pack = write_gate_pack(tmp_path, timeout=120)
    agent = subprocess.Popen(
        [sys.executable, "-c", GATED_AGENT, str(db), str(events), str(pack)],
        env=_otel_env(receiver),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        approval = str(wait_for_pending(db)["id"])
        # While the agent waits: the checkpoint span is in the backend, the step's is not yet.
        spans = receiver.received(lambda got: bool(_named(got, "checkpoint launch")))
        (checkpoint,) = _named(spans, "checkpoint launch")
        assert not _named(spans, "execute_tool launch")
        waiting = attributes(checkpoint)
        assert waiting["oversight.status"] == "approval_requested"
        assert waiting["output.value"] == "approval requested: training needs a person"
        assert waiting["session.id"] == "live"
        assert waiting["oversight.rule"] == "gate-training"
        assert waiting["openinference.span.kind"] == "GUARDRAIL"

        done = cli("approve", approval, "--as", "alice", "--key", str(keys / "alice.pem"),
                   "--db", str(db))  # fmt: skip
        assert done.returncode == 0, done.stderr
        out, err = agent.communicate(timeout=60)
    finally:
        if agent.poll() is None:
            agent.kill()
    assert agent.returncode == 0 and "RAN" in out, err

    spans = receiver.received(lambda got: bool(_named(got, "invoke_agent")))
    (session,) = _named(spans, "invoke_agent")
    (launch,) = _named(spans, "execute_tool launch")
    # The checkpoint sits under the step it announced, the step under the session.
    assert checkpoint.parent_span_id == launch.span_id
    assert launch.parent_span_id == session.span_id
    assert {s.trace_id for s in spans} == {session.trace_id}
    events_of = {e.name: attributes(e) for e in launch.events}  # type: ignore[arg-type]
    assert "oversight.approval.requested" in events_of
    decided = events_of["oversight.approval.decided"]
    assert decided["oversight.approval.decision"] == "approved"
    assert decided["oversight.reviewers"] == ["alice"]
    assert decided["oversight.decided_by"] == "reviewers"
    assert decided["oversight.review_wait_ms"] > 0

    # No planted secret anywhere: every byte sent, the store, the event log.
    sent = b"".join(receiver.raw)
    for secret in (SECRET, PASSWORD):
        assert secret.encode() not in sent
        assert secret not in events.read_text()
    with open_store(f"sqlite:///{db}") as store:
        stored = " ".join(s.record.model_dump_json() for s in store.iter_records("live"))
    assert SECRET not in stored and PASSWORD not in stored
    assert "[REDACTED]" in stored


KILLED_AGENT = textwrap.dedent(
    """
    import sys, time
    from oversight import Monitor
    mon = Monitor(db=sys.argv[1], log="none", policy="record-only")
    with mon.session("doomed", agent="researcher"):
        for n in range(3):
            mon.check("Bash", {"command": f"python step{n}.py"}).succeed("ok")
        mon.check("Bash", {"command": "python long_run.py"})  # runs when it is killed
        print("READY", flush=True)
        time.sleep(600)
    """
)

NEXT_MONITOR = textwrap.dedent(
    """
    import sys
    from oversight import Monitor
    Monitor(db=sys.argv[1], log="none", policy="record-only").close()
    """
)


def _start_next_monitor(db: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", NEXT_MONITOR, str(db)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_a_killed_agents_spans_stay_under_their_session(receiver: Receiver, tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    env = _otel_env(receiver)
    agent = subprocess.Popen(
        [sys.executable, "-c", KILLED_AGENT, str(db)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert agent.stdout is not None
        assert agent.stdout.readline().strip() == "READY"
        # Its three finished steps are exported while it runs (a second between exports).
        receiver.received(lambda got: len(_named(got, "execute_tool Bash")) == 3)
    finally:
        agent.send_signal(signal.SIGKILL)
        agent.wait(timeout=30)
        if agent.stdout is not None:
            agent.stdout.close()
    assert not _named([s for _, s in receiver.spans()], "invoke_agent")

    # The next monitor on this store, anywhere on this host, makes the session's span.
    _start_next_monitor(db, env)
    spans = receiver.received(lambda got: bool(_named(got, "invoke_agent")))
    (session,) = _named(spans, "invoke_agent researcher")
    steps = _named(spans, "execute_tool Bash")
    assert len(steps) == 4
    assert {s.parent_span_id for s in steps} == {session.span_id}
    assert {s.trace_id for s in steps} == {session.trace_id}
    assert session.status.code == Status.STATUS_CODE_ERROR
    assert attributes(session)["oversight.status"] == "interrupted"
    (running,) = [s for s in steps if "long_run" in attributes(s)["input.value"]]
    assert attributes(running)["oversight.status"] == "interrupted"

    # Made once: a third monitor finds nothing left to make.
    _start_next_monitor(db, env)
    assert len(_named([s for _, s in receiver.spans()], "invoke_agent")) == 1


def test_only_notes_of_gone_processes_on_this_store_are_claimed_and_only_once(
    tmp_path: Path,
) -> None:
    from oversight.telemetry.open_sessions import OpenSessionNotes

    notes = OpenSessionNotes("sqlite:///a.db", tmp_path)
    notes.opened("mine-still-running")  # this process: alive
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(gone.stdout)
    for store, session in (("sqlite:///a.db", "killed"), ("sqlite:///b.db", "elsewhere")):
        OpenSessionNotes(store, tmp_path).opened(session)
        path = OpenSessionNotes(store, tmp_path)._path(session)
        path.write_text(path.read_text().replace(str(os.getpid()), str(dead_pid)))
    (tmp_path / "garbage.json").write_text("{not json")
    assert [n.session_id for n in notes.abandoned()] == ["killed"]
    assert list(notes.abandoned()) == []  # claimed: a second monitor finds nothing
    notes.closed("mine-still-running")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["garbage.json", OpenSessionNotes("sqlite:///b.db", tmp_path)._path("elsewhere").name]
    )
