"""A waiting agent says, in one line a person can read, what waits and how to answer it; the JSON
event stream goes to a file beside the store instead of the agent's stderr."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from reviewing import cli, register_reviewers
from test_terminal_prompt import _stop_agents, agent_env, run_agent  # noqa: F401 - fixtures

from oversight import CheckpointDenied, Monitor, Settings
from oversight.approvals.broker import ApprovalRequest
from oversight.approvals.notice import db_option
from oversight.approvals.signing import load_private_key
from oversight.approvals.votes import cast_vote
from oversight.errors import ConfigError
from oversight.store import open_store

PACK = """
name: gate
unmatched: {consequential: allow, other: allow}
rules:
  - id: gate-training
    match: {kind: [train.launch]}
    effect: require_approval
    reason: training needs a person
    approval: {role: approver, quorum: 1, timeout_s: 900}
"""

# No `log=`: the defaults are what a new user gets.
AGENT = textwrap.dedent(
    """
    import sys
    from oversight import Monitor
    mon = Monitor(db=sys.argv[1], policy=sys.argv[2])

    @mon.step(name="launch_training", kind="train.launch")
    def launch(config: str, gpus: int) -> None:
        print("RAN", config, gpus, flush=True)

    with mon.session("exp", agent="bot"):
        launch("configs/big.yaml", gpus=64)
    """
)


class Lines:
    """Everything a process writes to one pipe, line by line, read as it comes."""

    def __init__(self, pipe: object) -> None:
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._reader.start()

    def _read(self, pipe: object) -> None:
        for line in pipe:  # type: ignore[attr-defined]
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, prefix: str, timeout: float = 30) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = [line for line in self.lines if line.startswith(prefix)]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"never saw a line starting {prefix!r}; saw {self.lines}")

    def done(self) -> list[str]:
        self._reader.join(timeout=30)
        return self.lines


@pytest.fixture
def gated(tmp_path: Path) -> tuple[Path, Path, Path]:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    (tmp_path / "pack.yaml").write_text(PACK)
    return db, keys, tmp_path / "pack.yaml"


def test_a_waiting_step_prints_one_line_whose_command_answers_it(
    gated: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    db, keys, pack = gated
    register_reviewers(db, keys, ("alice",))
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    agent = subprocess.Popen(
        [sys.executable, str(script), str(db), str(pack)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    err = Lines(agent.stderr)
    line = err.wait_for("oversight: waiting")
    assert "launch_training (train.launch)" in line and '"configs/big.yaml"' in line
    assert "training needs a person [rule gate-training]" in line
    assert "waiting up to 15 min" in line
    with open_store(f"sqlite:///{db}") as store:
        (pending,) = store.approvals(status="pending")
    assert f"approval {pending['id']}" in line

    # The person copies the command from the line, fills in who they are, and runs it.
    command = re.search(r"answer: (oversight approve .+?) \(or oversight deny", line)
    assert command is not None, line
    argv = shlex.split(command.group(1).replace("NAME", "alice").replace("KEYFILE", str(keys / "alice.pem")))  # fmt: skip
    assert argv[argv.index("--db") + 1] == str(db.resolve())
    done = cli(*argv[1:])
    assert done.returncode == 0, done.stderr

    assert agent.wait(timeout=60) == 0
    assert agent.stdout is not None
    assert "RAN configs/big.yaml 64" in agent.stdout.read()
    agent.stdout.close()
    stderr = err.done()
    assert agent.stderr is not None
    agent.stderr.close()
    assert [x for x in stderr if x.startswith("oversight:")] == [line], stderr
    assert not [x for x in stderr if x.lstrip().startswith("{")], "JSON events flooded stderr"
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert "step.proposed" in [e["event"] for e in events]


def test_a_step_nobody_can_approve_says_so_and_how_to_register_one(
    gated: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _, pack = gated
    with (
        Monitor(db=str(db), log="none", policy=str(pack)) as mon,
        mon.session("s"),
        pytest.raises(CheckpointDenied, match="0 registered"),
    ):
        mon.check("launch_training", {"config": "c.yaml"}, kind="train.launch")
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith('oversight: denied — launch_training (train.launch) "c.yaml"')
    assert "training needs a person [rule gate-training]" in line
    assert "needs 1 reviewer(s) with role 'approver'; 0 registered" in line
    assert (
        f"oversight reviewer add NAME --role admin --key-out NAME.pem --db {db.resolve()}" in line
    )


def approve_from_another_thread(db: Path, keys: Path) -> Callable[[ApprovalRequest], None]:
    alice = load_private_key(keys / "alice.pem")

    def route(request: ApprovalRequest) -> None:
        def answer() -> None:
            with open_store(f"sqlite:///{db}") as store:
                row = store.approval(request.approval_id)
                assert row is not None
                cast_vote(store, row, "alice", alice, "approve", "")

        threading.Thread(target=answer).start()

    return route


def test_the_notice_is_off_with_oversight_notice_none(
    gated: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, keys, pack = gated
    register_reviewers(db, keys, ("alice",))
    quiet = Settings.from_env({"OVERSIGHT_NOTICE": "none"})
    route = approve_from_another_thread(db, keys)
    with (
        Monitor(
            db=str(db), log="none", policy=str(pack), settings=quiet, on_approval_request=route
        ) as mon,
        mon.session("s"),
    ):
        mon.check("launch_training", {"config": "c.yaml"}, kind="train.launch").succeed()
    assert capsys.readouterr().err == ""
    with pytest.raises(ConfigError, match="OVERSIGHT_NOTICE='loud'"):
        Settings.from_env({"OVERSIGHT_NOTICE": "loud"})


def test_the_terminal_prompt_asks_instead_of_printing_a_notice(agent_env) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    db, tmp, env = agent_env
    term = run_agent(db, tmp, env)
    term.expect("[a/d/m/s]")
    term.type("a")
    term.expect("passphrase for carol.pem")
    term.type("open sesame")
    term.expect("AGENT DONE")
    assert term.close() == 0
    assert "RAN big.yaml 64" in term.seen
    assert "oversight: waiting" not in term.seen


def test_json_events_go_to_a_file_beside_the_store_and_to_stderr_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Monitor(db=str(tmp_path / "o.db"), policy="record-only") as mon, mon.session("s"):
        mon.check("Read", {"file_path": "a.py"}).succeed("text")
    assert capsys.readouterr().err == ""
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events] == [
        "session.started",
        "step.proposed",
        "step.finished",
        "session.ended",
    ]

    on_stderr = Settings.from_env({"OVERSIGHT_LOG": "stderr"})
    monitor = Monitor(db=str(tmp_path / "p.db"), policy="record-only", settings=on_stderr)
    with monitor as mon, mon.session("s"):
        mon.check("Read", {"file_path": "a.py"}).succeed("text")
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(x)["event"] for x in lines][:2] == ["session.started", "step.proposed"]


def test_a_monitor_that_records_nothing_creates_no_event_file(tmp_path: Path) -> None:
    Monitor(db=str(tmp_path / "o.db"), policy="record-only").close()
    assert not (tmp_path / "events.jsonl").exists()


def test_the_event_file_sits_beside_a_sqlite_store_and_in_dot_oversight_otherwise() -> None:
    assert Settings(db="/data/runs/o.db").event_log() == "/data/runs/events.jsonl"
    assert Settings().event_log() == ".oversight/events.jsonl"
    assert Settings(db="postgresql+psycopg://u:p@db/o").event_log() == ".oversight/events.jsonl"
    assert Settings(db="sqlite:///:memory:").event_log() == ".oversight/events.jsonl"
    assert Settings(db="/x/o.db", log="none").event_log() == "none"


def test_a_database_password_is_never_printed_in_a_notice() -> None:
    shown = db_option("postgresql+psycopg://alice:hunter2@db.internal/oversight")
    assert "hunter2" not in shown and "db.internal/oversight" in shown
    assert db_option("sqlite:///.oversight/oversight.db") == ""
