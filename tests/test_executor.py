"""`oversight run` and `run_command`: a step is decided, then runs with only what its decision
grants. Each test checks an effect on a real workspace, a real bare remote and the real store.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reviewing import cli, register_reviewers
from sandboxing import needs_bwrap

from oversight import Monitor
from oversight.executor import run_command
from oversight.records import StepFinished
from oversight.store import open_store

pytestmark = needs_bwrap


@pytest.fixture
def repo() -> Iterator[tuple[Path, Path]]:
    """A workspace with evaluation code and one unpushed commit, and its bare remote; under
    /var/tmp, as the sandbox gives each step its own /tmp."""
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="oversight-run-", dir="/var/tmp"))
    ws, remote = root / "ws", root / "remote.git"
    env = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b"}  # fmt: skip
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    ws.mkdir()
    (ws / "evaluate.py").write_text("def accuracy(p, r):\n    return sum(p == r) / len(r)\n")
    (ws / "model.py").write_text("x = 1\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "one"],
                 ["remote", "add", "origin", str(remote)], ["push", "-q", "origin", "main"]):  # fmt: skip
        subprocess.run(["git", *args], cwd=ws, env=env, check=True)
    (ws / "model.py").write_text("x = 2\n")
    subprocess.run(["git", "commit", "-qam", "two"], cwd=ws, env=env, check=True)
    try:
        yield ws, remote
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _remote_head(remote: Path) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(remote), "rev-parse", "main"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def _oversight_run(ws: Path, db: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "oversight", "run", "--db", str(db), *args],
        cwd=ws, capture_output=True, text=True, timeout=120, env=env or dict(os.environ),
        check=False,
    )  # fmt: skip


def test_a_step_runs_sandboxed_and_its_exit_code_and_output_come_back(
    repo: tuple[Path, Path], tmp_path: Path
) -> None:
    ws, _ = repo
    done = _oversight_run(ws, tmp_path / "o.db", "--", "sh", "-c", "cat model.py; exit 3")
    assert done.returncode == 3, done.stderr
    assert "x = 2" in done.stdout
    assert "sandboxed: no network, no GPU" in done.stderr


def test_an_allowed_push_still_cannot_reach_the_remote(
    repo: tuple[Path, Path], tmp_path: Path
) -> None:
    """observe-only allows everything: the boundary, not the classifier, stops the push."""
    ws, remote = repo
    before = _remote_head(remote)
    done = _oversight_run(
        ws, tmp_path / "o.db", "--policy", "observe-only", "--", "git push origin HEAD:main"
    )
    assert done.returncode != 0
    assert _remote_head(remote) == before


def test_an_allowed_edit_of_evaluation_code_leaves_it_unchanged(
    repo: tuple[Path, Path], tmp_path: Path
) -> None:
    ws, _ = repo
    original = (ws / "evaluate.py").read_bytes()
    for command in (
        "echo 'def accuracy(p, r): return 1.0' > evaluate.py",
        "sed -i 's/sum/max/' evaluate.py",
        "rm -f evaluate.py",
        "mv model.py evaluate.py",
    ):
        _oversight_run(ws, tmp_path / "o.db", "--policy", "observe-only", "--", command)
        assert (ws / "evaluate.py").read_bytes() == original, command
    # ordinary work in the workspace still happens
    done = _oversight_run(ws, tmp_path / "o.db", "--", "echo notes > notes.md")
    assert done.returncode == 0 and (ws / "notes.md").read_text() == "notes\n"


def test_what_the_step_was_granted_is_in_the_chain(repo: tuple[Path, Path], tmp_path: Path) -> None:
    ws, _ = repo
    db = tmp_path / "o.db"
    _oversight_run(ws, db, "--session", "s1", "--", "ls")
    with open_store(f"sqlite:///{db}") as store:
        (finished,) = [s.record for s in store.iter_records("s1", types={"step.finished"})]
        assert store.verify().ok
    assert isinstance(finished, StepFinished) and finished.attributes is not None
    granted = finished.attributes["sandbox"]
    assert granted["network"] == "none" and granted["gpu"] is False
    assert any(p.endswith("evaluate.py") for p in granted["read_only"])


def test_without_bubblewrap_a_consequential_step_fails_closed_with_the_hint(
    repo: tuple[Path, Path], tmp_path: Path
) -> None:
    ws, _ = repo
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("git", "sh", "bash", "ls"):
        found = subprocess.run(
            ["which", tool], capture_output=True, text=True, check=True
        ).stdout.strip()
        (bare / tool).symlink_to(found)
    env = {**os.environ, "PATH": str(bare)}
    done = _oversight_run(ws, tmp_path / "o.db", "--", "touch made-it", env=env)
    assert done.returncode == 126
    assert "apt-get install bubblewrap" in done.stderr
    assert not (ws / "made-it").exists()


def test_an_approved_push_gets_its_remote(repo: tuple[Path, Path], tmp_path: Path) -> None:
    """research-default gates the push; once a person approves it, it runs with write access
    to exactly its own remote."""
    ws, remote = repo
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys)
    before = _remote_head(remote)

    def approve_when_asked() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open_store(f"sqlite:///{db}") as store:
                pending = store.approvals(status="pending")
            if pending:
                done = cli(
                    "approve", str(pending[0]["id"]), "--as", "alice",
                    "--key", str(keys / "alice.pem"), "--db", str(db),
                )  # fmt: skip
                assert done.returncode == 0, done.stderr
                return
            time.sleep(0.2)

    reviewer = threading.Thread(target=approve_when_asked)
    reviewer.start()
    monitor = Monitor(db=str(db), policy="research-default", log="none")
    try:
        with monitor.session("push"):
            done = run_command(monitor, "git push origin HEAD:main", cwd=ws, timeout=60)
    finally:
        monitor.close()
        reviewer.join()
    assert done.sandboxed and done.exit_code == 0, done.stderr
    assert _remote_head(remote) != before
    assert [str(p) for p in done.capabilities.writable] == [str(remote)]
    assert done.capabilities.network == "none"


def test_a_decorated_tool_runs_its_command_with_its_own_steps_grant(
    repo: tuple[Path, Path], tmp_path: Path
) -> None:
    from oversight.executor import run_in_step

    ws, _ = repo
    original = (ws / "evaluate.py").read_bytes()
    monitor = Monitor(db=str(tmp_path / "o.db"), policy="observe-only", log="none")

    @monitor.step(name="bash")
    def shell(command: str) -> int:
        return run_in_step(monitor, command, cwd=ws, timeout=30).exit_code

    with monitor.session("tools"):
        assert shell("echo changed > evaluate.py") != 0
        assert shell("echo fine > scratch.txt") == 0
    monitor.close()
    assert (ws / "evaluate.py").read_bytes() == original
    with open_store(f"sqlite:///{tmp_path / 'o.db'}") as store:
        finished = [s.record for s in store.iter_records("tools", types={"step.finished"})]
    assert all(f.attributes and f.attributes["sandbox"]["network"] == "none" for f in finished)


def test_run_in_step_outside_a_decided_step_is_refused(repo: tuple[Path, Path]) -> None:
    from oversight.errors import ConfigError
    from oversight.executor import run_in_step

    ws, _ = repo
    monitor = Monitor(db=str(ws.parent / "o.db"), policy="observe-only", log="none")
    try:
        with pytest.raises(ConfigError, match="run_command"):
            run_in_step(monitor, "touch x", cwd=ws)
    finally:
        monitor.close()
    assert not (ws / "x").exists()


@pytest.mark.parametrize(
    ("pack", "kind", "approved", "gpu"),
    [
        ("research-default", "experiment.run", False, False),
        ("lab-compute", "experiment.run", False, True),
        ("research-default", "train.launch", False, False),
        ("research-default", "train.launch", True, True),
    ],
)
def test_a_pack_says_which_steps_may_use_the_gpus(
    repo: tuple[Path, Path], pack: str, kind: str, approved: bool, gpu: bool
) -> None:
    from oversight.classify import Classification, Classifier
    from oversight.executor import step_capabilities
    from oversight.kinds import parse_kind
    from oversight.policy import load_policy

    ws, _ = repo
    caps = step_capabilities(
        section=load_policy(pack).capabilities,
        paths=Classifier().paths,
        store_url="sqlite:////nonexistent/o.db",
        workspace=ws,
        classification=Classification(parse_kind(kind), "r"),
        approved_by_person=approved,
    )
    assert caps.gpu is gpu
    assert caps.network == "none"


def test_a_step_cannot_erase_the_notes_of_known_stores(
    repo: tuple[Path, Path], tmp_path: Path
) -> None:
    """The notes that stop a fresh store replacing a deleted one sit apart from the store, and
    a sandboxed step sees neither them nor the spilled records beside them."""
    ws, _ = repo
    state = ws.parent / "state"  # under /var/tmp: visible to a step unless hidden
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    db = tmp_path / "o.db"
    assert _oversight_run(ws, db, "--", "true", env=env).returncode == 0
    notes = state / "agent-oversight" / "stores"
    assert [p.suffix for p in notes.iterdir()] == [".json"]
    done = _oversight_run(
        ws, db, "--policy", "observe-only", "--",
        f"ls {notes}; rm -rf {state}/agent-oversight; echo gone", env=env,
    )  # fmt: skip
    assert "gone" in done.stdout, done.stderr
    assert ".json" not in done.stdout, "the step could not even list them"
    assert [p.suffix for p in notes.iterdir()] == [".json"], "the notes are still there"
