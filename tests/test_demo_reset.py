"""`oversight demo` run for real, as `make demo` runs it: starting over, and what it prints.

Each run is a real `oversight demo` process (non-interactive: no terminal), about 15 s. The runs
share one working folder, in order: a first run, a run after deleting `.oversight/demo.db`, a
run whose keys were deleted (it must stop at once and say how to reset), and `--reset`.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from reviewing import register_reviewers
from rich.console import Console

from oversight import Monitor
from oversight.approvals.broker import ApprovalRequest
from oversight.approvals.signing import load_private_key
from oversight.approvals.votes import cast_vote
from oversight.demo.commands import oversight_command
from oversight.demo.explain import print_autonomy
from oversight.store import open_store

VENV_BIN = Path(sys.executable).parent


def path_without_oversight() -> str:
    """PATH as a shell started outside the virtualenv has it: no `oversight` on it."""
    return os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if not shutil.which("oversight", path=d)
    )


def demo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path_without_oversight(), "OVERSIGHT_LOG": "none"}
    env.pop("OVERSIGHT_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "oversight", "demo", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    here = tmp_path_factory.mktemp("demo")
    done = {"first": demo(here)}
    (here / ".oversight" / "demo.db").unlink()
    done["after_deleting_the_store"] = demo(here)
    shutil.rmtree(here / ".oversight" / "demo-keys")
    done["after_deleting_the_keys"] = demo(here)
    done["reset"] = demo(here, "--reset")
    done["here"] = subprocess.CompletedProcess([], 0, str(here), "")
    return done


def test_the_demo_runs_again_after_its_store_was_deleted(runs) -> None:  # type: ignore[no-untyped-def]
    for name in ("first", "after_deleting_the_store"):
        assert runs[name].returncode == 0, runs[name].stderr
        assert "hash chain over" in runs[name].stdout and "intact" in runs[name].stdout


def test_a_store_without_its_keys_stops_at_once_and_says_how_to_reset(runs) -> None:  # type: ignore[no-untyped-def]
    broken = runs["after_deleting_the_keys"]
    assert broken.returncode == 2
    assert "does not hold the matching demo-reviewer key" in broken.stderr
    assert "demo --reset" in broken.stderr
    assert "workspace:" not in broken.stdout, "it must stop before the agent starts"
    reset = runs["reset"]
    assert reset.returncode == 0, reset.stderr
    assert "reset: removed .oversight/demo.db" in reset.stdout
    assert "intact" in reset.stdout


def test_the_printed_commands_work_when_oversight_is_not_on_path(runs) -> None:  # type: ignore[no-untyped-def]
    out = runs["reset"].stdout  # the last run: its store is the one still there
    ours = str(VENV_BIN / "oversight")
    assert "`oversight` is not on your PATH" in out
    assert f"source {VENV_BIN / 'activate'}" in out
    inspect = out.split("Inspect it yourself:", 1)[1]
    commands = [line.strip() for line in inspect.splitlines() if line.strip().startswith(ours)]
    assert len(commands) == 5
    here = runs["here"].stdout
    env = {**os.environ, "PATH": path_without_oversight()}
    for command in commands:
        ran = subprocess.run(
            command, shell=True, cwd=here, env=env, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert ran.returncode == 0, (command, ran.stderr)


def test_plain_oversight_is_printed_only_when_it_is_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", os.pathsep.join([str(VENV_BIN), path_without_oversight()]))
    assert oversight_command() == ("oversight", None)
    monkeypatch.setenv("PATH", path_without_oversight())
    # From the folder holding the virtualenv (where `make demo` runs): `.venv/bin/oversight`.
    monkeypatch.chdir(VENV_BIN.parent.parent)
    command, hint = oversight_command()
    assert shlex.split(command) == [f"{VENV_BIN.parent.name}/bin/oversight"]
    assert hint is not None and "not on your PATH" in hint
    assert f"source {VENV_BIN.parent.name}/bin/activate" in hint
    monkeypatch.chdir(tmp_path)
    assert shlex.split(oversight_command()[0]) == [str(VENV_BIN / "oversight")]


def test_the_demo_explains_its_scenario_with_the_reviewers_timing(runs) -> None:  # type: ignore[no-untyped-def]
    out = runs["first"].stdout
    # The scripted reviewer takes longer than the rubber-stamp threshold, and says so up front.
    assert "takes 2.5 s over each answer" in out
    assert "approvals\ngiven in under 2 s as rubber stamps, not reviews" in out
    assert "approved by demo-reviewer after" in out and "counted as a person's review" in out
    assert "is a rubber stamp, not a review" not in out and "note: approvals given" not in out
    assert "scenario 2 (substantial AI contribution)" in out
    assert "meaning: the agent ran its experiments and evaluation on its own" in out
    assert "nobody decided in time, so it did not run" in out


def test_an_approval_too_fast_to_read_is_named_as_the_reason_for_scenario_3(
    tmp_path: Path,
) -> None:
    db, keys = tmp_path / "o.db", tmp_path / "keys"
    register_reviewers(db, keys, ("alice",))
    alice = load_private_key(keys / "alice.pem")

    def approve_at_once(request: ApprovalRequest) -> None:
        with open_store(f"sqlite:///{db}") as store:
            row = store.approval(request.approval_id)
            assert row is not None
            cast_vote(store, row, "alice", alice, "approve")

    with Monitor(
        db=str(db), log="none", policy="research-default", on_approval_request=approve_at_once
    ) as mon, mon.session("quick") as session:  # fmt: skip
        mon.check("launch_training", {"config": "c.yaml", "gpus": 8}, kind="train.launch").succeed()
        mon.flush()
        records = [s.record for s in mon.store.iter_records(session.id)]
    screen = io.StringIO()
    print_autonomy(Console(file=screen, width=200), "quick", records)
    text = screen.getvalue()
    assert "scenario 3 (autonomous loop)" in text
    assert "approvals given in under 2 s count as rubber stamps, not reviews" in text
    assert "alice in 0.0 s" in text
