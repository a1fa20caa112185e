"""`oversight show` on long sessions: a page by default, every step on request, and a quiet
stop when the reader of its output goes away (`| head`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from reviewing import cli as oversight

from oversight.canonical import new_id, utc_now
from oversight.records import (
    Record,
    SessionEnded,
    SessionStarted,
    StepFinished,
    StepProposed,
)
from oversight.store import open_store

ROW = re.compile(r"^\s*(\d+)\s+\d\d:\d\d:\d\d\.\d{3}\s", re.MULTILINE)


def build_store(
    path: Path,
    steps: int,
    *,
    session: str = "long",
    unfinished: frozenset[int] = frozenset(),
    nested_under: dict[int, int] | None = None,
    ended: bool = True,
) -> Path:
    """A real store holding one session of `steps` steps, written in bulk through the store
    API. Steps in `unfinished` have no outcome; `nested_under` maps a step to its parent."""
    now = utc_now()
    proposal = StepProposed(
        session_id=session, step_id="-", seq=0, kind="shell.exec", name="Bash",
        args={"command": "echo"}, args_digest="d", reason="a shell command", ts=now,
    )  # fmt: skip
    outcome = StepFinished(
        session_id=session, step_id="-", seq=0, kind="shell.exec", status="ok",
        started_at=now, duration_ms=1.0, ts=now,
    )  # fmt: skip
    parents = nested_under or {}
    with open_store(f"sqlite:///{path}") as store:
        store.append(
            [SessionStarted(session_id=session, agent="bot", pid=1, host="elsewhere",
                            oversight_version="test")]
        )  # fmt: skip
        batch: list[Record] = []
        for n in range(1, steps + 1):
            parent = f"s{parents[n]}" if n in parents else None
            batch.append(
                proposal.model_copy(
                    update={"id": new_id(), "step_id": f"s{n}", "seq": n, "parent_id": parent}
                )
            )
            if n not in unfinished:
                batch.append(
                    outcome.model_copy(
                        update={"id": new_id(), "step_id": f"s{n}", "seq": n,
                                "result_summary": f"output of step {n}"}
                    )
                )  # fmt: skip
            if len(batch) >= 20_000:
                store.append(batch, durable=False)
                batch = []
        if ended:
            batch.append(SessionEnded(session_id=session, status="completed", steps=steps))
        store.append(batch)
    return path


def shown_steps(stdout: str) -> list[int]:
    return [int(n) for n in ROW.findall(stdout)]


@pytest.fixture(scope="module")
def two_thousand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("show") / "o.db", 2000)


@pytest.fixture(scope="module")
def hundred_thousand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("show-big") / "o.db", 100_000)


def test_a_long_session_shows_its_first_200_steps_and_says_how_to_see_the_rest(
    two_thousand: Path,
) -> None:
    out = oversight("show", "long", "--db", str(two_thousand))
    assert out.returncode == 0, out.stderr
    assert shown_steps(out.stdout) == list(range(1, 201))
    assert "output of step 200" in out.stdout and "output of step 201" not in out.stdout
    assert "showing steps 1-200 of 2000" in out.stdout
    assert "next: --offset 200" in out.stdout and "last: --offset 1800" in out.stdout
    assert "every step: --all" in out.stdout


def test_offset_and_limit_choose_the_page(two_thousand: Path) -> None:
    out = oversight("show", "long", "--db", str(two_thousand), "--offset", "1990", "--limit", "5")
    assert out.returncode == 0, out.stderr
    assert shown_steps(out.stdout) == [1991, 1992, 1993, 1994, 1995]
    assert "showing steps 1991-1995 of 2000" in out.stdout
    assert "previous: --offset 1985" in out.stdout


def test_all_prints_every_step_in_order(two_thousand: Path) -> None:
    out = oversight("show", "long", "--db", str(two_thousand), "--all")
    assert out.returncode == 0, out.stderr
    assert shown_steps(out.stdout) == list(range(1, 2001))
    assert "steps: 2000 ok" in out.stdout
    assert "showing steps" not in out.stdout


def test_an_offset_past_the_end_says_how_many_steps_there_are(two_thousand: Path) -> None:
    out = oversight("show", "long", "--db", str(two_thousand), "--offset", "5000")
    assert out.returncode == 0, out.stderr
    assert shown_steps(out.stdout) == []
    assert "no steps after the first 5000: the session has 2000" in out.stdout


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--limit", "0", "--limit must be at least 1"), ("--offset", "-1", "must not be negative")],
)
def test_a_bad_page_is_refused(two_thousand: Path, option: str, value: str, message: str) -> None:
    out = oversight("show", "long", "--db", str(two_thousand), option, value)
    assert out.returncode == 2
    assert message in out.stderr


def test_json_is_paged_the_same_way_and_says_so(two_thousand: Path) -> None:
    out = oversight("show", "long", "--db", str(two_thousand), "--json", "--offset", "10", "--limit", "3")  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert (doc["total_steps"], doc["offset"], doc["limit"]) == (2000, 10, 3)
    assert [s["proposed"]["seq"] for s in doc["steps"]] == [11, 12, 13]
    assert all(s["finished"]["status"] == "ok" for s in doc["steps"])
    every = json.loads(
        oversight("show", "long", "--db", str(two_thousand), "--json", "--all").stdout
    )
    assert len(every["steps"]) == 2000 and every["limit"] is None


def test_a_page_knows_the_depth_of_steps_whose_parents_are_on_earlier_pages(
    tmp_path: Path,
) -> None:
    db = build_store(tmp_path / "o.db", 300, nested_under={250: 3, 251: 250})
    doc = json.loads(
        oversight(
            "show", "long", "--db", str(db), "--json", "--offset", "249", "--limit", "3"
        ).stdout
    )
    assert [(s["proposed"]["seq"], s["depth"]) for s in doc["steps"]] == [
        (250, 1),
        (251, 2),
        (252, 0),
    ]


def test_a_step_without_an_outcome_in_a_page_is_interrupted_once_the_session_ended(
    tmp_path: Path,
) -> None:
    db = build_store(tmp_path / "o.db", 500, unfinished=frozenset({7}))
    doc = json.loads(oversight("show", "long", "--db", str(db), "--json", "--limit", "10").stdout)
    statuses = {s["proposed"]["seq"]: s["status"] for s in doc["steps"]}
    assert statuses[7] == "interrupted"
    assert {status for seq, status in statuses.items() if seq != 7} == {"ok"}


@pytest.mark.slow
def test_a_hundred_thousand_step_session_shows_one_page(hundred_thousand: Path) -> None:
    out = oversight("show", "long", "--db", str(hundred_thousand))
    assert out.returncode == 0, out.stderr
    assert shown_steps(out.stdout) == list(range(1, 201))
    assert "showing steps 1-200 of 100000" in out.stdout
    assert "last: --offset 99800" in out.stdout
    last = oversight("show", "long", "--db", str(hundred_thousand), "--offset", "99800")
    assert shown_steps(last.stdout) == list(range(99801, 100001))


@pytest.mark.slow
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_closed_pipe_ends_show_all_quietly(hundred_thousand: Path, as_json: bool) -> None:
    """`oversight show S --all | head`: once head has its lines and exits, show stops at its
    next write with the exit code a shell gives a process ended by SIGPIPE, and no traceback,
    instead of rendering the other 99,990 steps."""
    command = [sys.executable, "-m", "oversight", "show", "long", "--db", str(hundred_thousand)]
    command += ["--all"] + (["--json"] if as_json else [])
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    head = [proc.stdout.readline() for _ in range(10)]
    proc.stdout.close()
    try:
        code = proc.wait(timeout=120)
    finally:
        proc.kill()
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert all(head), head
    assert code == 141, stderr
    assert stderr == ""
