"""The terminal prompt: a person at the agent's own terminal answers, with a passphrase-locked key.

The agent runs as a real process whose controlling terminal is a pseudo-terminal this test types
into, exactly as a person would.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import subprocess
import sys
import termios
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reviewing import cli, register_reviewers

from oversight import Monitor, Settings
from oversight.approvals.terminal import TerminalReviewer
from oversight.errors import ConfigError
from oversight.records import StepFinished
from oversight.store import open_store

PACK = """
name: gate
unmatched: {consequential: allow, other: allow}
rules:
  - id: gate-training
    match: {kind: [train.launch]}
    effect: require_approval
    reason: training needs a person
    approval: {role: approver, quorum: 1, timeout_s: 60}
"""

AGENT = textwrap.dedent(
    """
    import sys
    from oversight import Monitor, CheckpointDenied
    mon = Monitor(db=sys.argv[1], log="none", policy=sys.argv[2])

    @mon.step(name="launch_training", kind="train.launch")
    def launch(config, gpus=8):
        print("RAN", config, gpus, flush=True)

    with mon.session("exp"):
        try:
            launch("big.yaml", gpus=64)
        except CheckpointDenied as exc:
            print("DENIED", exc.reason, flush=True)
    print("AGENT DONE", flush=True)
    """
)


class Terminal:
    """An agent process with a pseudo-terminal as its controlling terminal."""

    def __init__(self, argv: list[str], env: dict[str, str], *, cwd: Path | None = None) -> None:
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # noqa: PLW1509
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 30) -> str:
        end = time.monotonic() + timeout
        while text not in self.seen:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"never saw {text!r}; terminal showed:\n{self.seen}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the agent exited and closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"terminal closed before {text!r}:\n{self.seen}")
                self.seen += chunk.decode("utf-8", "replace")
        return self.seen

    def expect_after(self, marker: str, text: str, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while True:
            tail = self.seen.split(marker, 1)[1] if marker in self.seen else ""
            if text in tail:
                return
            self.expect(marker, timeout=max(end - time.monotonic(), 0.01))
            ready, _, _ = select.select([self.master], [], [], max(end - time.monotonic(), 0))
            if not ready:
                raise AssertionError(f"never saw {text!r} after {marker!r}:\n{self.seen}")
            self.seen += os.read(self.master, 4096).decode("utf-8", "replace")

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self) -> int:
        return self.proc.wait(timeout=60)


@pytest.fixture
def agent_env(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys, ())
    added = subprocess.run(
        [sys.executable, "-m", "oversight", "reviewer", "add", "carol", "--passphrase",
         "--key-out", str(keys / "carol.pem"), "--as", "root", "--key", str(keys / "root.pem"),
         "--db", str(db)],
        input="open sesame\nopen sesame\n", capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert b"ENCRYPTED PRIVATE KEY" in (keys / "carol.pem").read_bytes()
    (tmp_path / "pack.yaml").write_text(PACK)
    (tmp_path / "agent.py").write_text(AGENT)
    env = {**os.environ, "OVERSIGHT_PROMPT_REVIEWER": f"carol:{keys / 'carol.pem'}"}
    return db, tmp_path, env


_RUNNING: list[Terminal] = []


@pytest.fixture(autouse=True)
def _stop_agents() -> Iterator[None]:
    yield
    while _RUNNING:
        term = _RUNNING.pop()
        if term.proc.poll() is None:
            term.proc.kill()
            term.proc.wait(timeout=30)
        with contextlib.suppress(OSError):
            os.close(term.master)


def run_agent(db: Path, tmp: Path, env: dict[str, str]) -> Terminal:
    term = Terminal([sys.executable, str(tmp / "agent.py"), str(db), str(tmp / "pack.yaml")], env)
    _RUNNING.append(term)
    return term


def finished(db: Path) -> StepFinished:
    with open_store(f"sqlite:///{db}") as store:
        done = [r.record for r in store.iter_records("exp", types={"step.finished"})]
    assert isinstance(done[-1], StepFinished)
    return done[-1]


def test_the_person_at_the_terminal_approves_with_their_passphrase(agent_env) -> None:  # type: ignore[no-untyped-def]
    db, tmp, env = agent_env
    term = run_agent(db, tmp, env)
    screen = term.expect("[a/d/m/s]")
    assert "launch_training" in screen and "training needs a person" in screen
    term.type("a")
    term.expect("passphrase for carol.pem")
    term.type("wrong guess")
    term.expect("(1/3)")
    # Wait for the prompt again: like getpass, it discards anything typed before it asks.
    term.expect_after("(1/3)", "passphrase for carol.pem")
    term.type("open sesame")
    term.expect("AGENT DONE")
    assert term.close() == 0
    assert "RAN big.yaml 64" in term.seen
    assert "open sesame" not in term.seen, "the passphrase must not be echoed"
    assert finished(db).approved_by == ["carol"]


def test_deny_and_modify_at_the_terminal(agent_env) -> None:  # type: ignore[no-untyped-def]
    db, tmp, env = agent_env
    term = run_agent(db, tmp, env)
    term.expect("[a/d/m/s]")
    term.type("m")
    term.expect("> ")
    term.type("nodes=2")
    term.expect("not NAME=VALUE")
    term.type("gpus=8")
    term.type("")
    term.expect("note (optional)")
    term.type("start small")
    term.expect("passphrase")
    term.type("open sesame")
    term.expect("AGENT DONE")
    assert term.close() == 0
    assert "RAN big.yaml 8" in term.seen
    done = finished(db)
    assert done.status == "ok" and done.approved_by == ["carol"]

    term = run_agent(db, tmp, env)
    term.expect("[a/d/m/s]")
    term.type("d")
    term.expect("reason")
    term.type("not before the review meeting")
    term.expect("passphrase")
    term.type("open sesame")
    term.expect("AGENT DONE")
    assert term.close() == 0
    assert "DENIED not before the review meeting (carol)" in term.seen


def test_skipping_leaves_the_step_to_other_reviewers(agent_env) -> None:  # type: ignore[no-untyped-def]
    db, tmp, env = agent_env
    term = run_agent(db, tmp, env)
    term.expect("[a/d/m/s]")
    term.type("s")
    term.expect("skipped")
    with open_store(f"sqlite:///{db}") as store:
        (pending,) = store.approvals(status="pending")
    keys = tmp / "keys"
    done = subprocess.run(
        [sys.executable, "-m", "oversight", "deny", str(pending["id"]), "--as", "carol",
         "--key", str(keys / "carol.pem"), "--reason", "from my laptop", "--db", str(db)],
        input="open sesame\n", capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    term.expect("AGENT DONE")
    assert term.close() == 0
    assert "DENIED from my laptop" in term.seen


def test_the_prompt_refuses_a_key_without_a_passphrase(tmp_path: Path) -> None:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys, ("alice",))
    with pytest.raises(ConfigError, match="has no passphrase"):
        TerminalReviewer(f"sqlite:///{db}", "alice", keys / "alice.pem")
    bad = Settings.from_env(prompt_reviewer="alice")
    with pytest.raises(ConfigError, match="NAME:KEYFILE"):
        Monitor(db=str(db), log="none", settings=bad)


def test_without_a_terminal_the_prompt_is_skipped_with_a_warning(tmp_path: Path) -> None:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys, ())
    script = tmp_path / "no_tty.py"
    script.write_text(
        f"from oversight import Monitor\nMonitor(db={str(db)!r}, log='none').close()\nprint('ok')\n"
    )
    env = {**os.environ, "OVERSIGHT_PROMPT_REVIEWER": f"root:{keys / 'root.pem'}"}
    done = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        start_new_session=True,  # no controlling terminal
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "no terminal" in done.stderr
    listed = cli("reviewer", "list", "--db", str(db))
    assert "root" in listed.stdout


def test_enter_at_the_prompt_decides_nothing_and_asks_again(agent_env) -> None:  # type: ignore[no-untyped-def]
    db, tmp, env = agent_env
    term = run_agent(db, tmp, env)
    term.expect("[a/d/m/s]")
    term.type("")
    term.expect("type a, d, m or s")
    with open_store(f"sqlite:///{db}") as store:
        (pending,) = store.approvals(status="pending")
        assert store.votes(str(pending["id"])) == []
    term.type("d")
    term.expect("reason")
    term.type("")
    term.expect("passphrase")
    term.type("open sesame")
    term.expect("AGENT DONE")
    assert term.close() == 0
    assert "DENIED denied at the terminal (carol)" in term.seen


def test_the_interactive_demo_asks_about_this_runs_launch_and_enter_does_not_deny(
    tmp_path: Path,
) -> None:
    """`oversight demo` in a terminal: the person answers the training launch. A launch left
    pending by an earlier run (killed before its deadline) is never asked about; the prompt
    shows its `[y/n/s]`, and Enter asks again instead of denying."""
    from oversight import ApprovalPending
    from oversight.demo.keys import demo_reviewer_key

    db = tmp_path / ".oversight" / "demo.db"
    db.parent.mkdir()
    demo_reviewer_key(db)
    earlier = {"config": "configs/old.yaml", "gpus": 8, "hours": 1}
    with (
        Monitor(db=str(db), log="none", policy="research-default") as mon,
        mon.session("earlier-run"),
        pytest.raises(ApprovalPending) as stale,
    ):
        mon.check("launch_training", earlier, kind="train.launch", wait=False)
    env = {**os.environ, "COLUMNS": "200"}
    term = Terminal([sys.executable, "-m", "oversight", "demo", "--pace", "0"], env, cwd=tmp_path)
    _RUNNING.append(term)
    screen = term.expect("[y/n/s]", timeout=90)
    asked = screen.split("Checkpoint:", 1)[1]
    assert "configs/base.yaml" in asked and '"gpus": 64' in asked
    assert "configs/old.yaml" not in screen
    term.type("")
    term.expect("type y to approve, n to deny, or s to skip")
    term.expect_after("type y to approve", "[y/n/s]")
    term.type("y")
    term.expect("Inspect it yourself:", timeout=90)
    assert term.close() == 0
    assert "launch_training (train.launch): approved by demo-reviewer" in term.seen
    with open_store(f"sqlite:///{db}") as store:
        assert store.votes(stale.value.approval_id) == []
