"""Inspect eval logs: one session per sample, calls as the tools' own names and arguments.

The real log is a gpt-4o CTF run shipped in the `docent` package (tests/realdata.py); the
small logs built here follow inspect_ai's log schema (EvalSample messages and events).
"""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oversight.importing.formats import inspect_log
from oversight.importing.model import ImportedSession, ImportProblem

RealData = Callable[[str, str], Path]
EVAL = {
    "run_id": "RUN1",
    "task": "ctf",
    "created": "2025-03-05T21:36:35+00:00",
    "model": "openai/gpt-4o",
}


def _split(items: list[Any]) -> tuple[list[ImportedSession], list[ImportProblem]]:
    return (
        [i for i in items if isinstance(i, ImportedSession)],
        [i for i in items if isinstance(i, ImportProblem)],
    )


def _sample(sample_id: int, *, events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": sample_id,
        "epoch": 1,
        "input": "Find the flag",
        "target": "flag{x}",
        "messages": [
            {"role": "system", "content": "You are a CTF player."},
            {"role": "user", "content": "attachment://abc"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "c1", "function": "bash", "arguments": {"cmd": "attachment://cmd"}},
                    {"id": "c2", "function": "python", "arguments": {"code": "print(1)"}},
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "function": "bash", "content": "flag.txt\n"},
            {
                "role": "tool",
                "tool_call_id": "c2",
                "function": "python",
                "content": "",
                "error": {"type": "timeout", "message": "timed out"},
            },
            {"role": "user", "content": "Please proceed to the next step."},
        ],
        "events": events
        or [
            {"event": "tool", "id": "c1", "timestamp": "2025-03-05T13:37:03.38-08:00"},
            {"event": "tool", "id": "c2", "timestamp": "2025-03-05T13:37:05-08:00"},
        ],
        "scores": {"includes": {"value": "I"}},
        "attachments": {"abc": "Task: find the flag", "cmd": "ls /root"},
    }


def _eval_zip(path: Path, members: dict[str, Any]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in members.items():
            archive.writestr(name, value if isinstance(value, str) else json.dumps(value))
    return path


def test_a_real_eval_log_gives_every_sample_and_call(realdata: RealData) -> None:
    path = realdata("docent", "docent/samples/log.eval")
    assert inspect_log.sniff(path, path.read_bytes()[:65536])
    sessions, problems = _split(list(inspect_log.read(path)))
    assert problems == []
    assert len(sessions) == 15
    assert len({s.session_id for s in sessions}) == 15
    calls = [c for s in sessions for c in s.calls]
    assert Counter(c.tool for c in calls) == {"python": 55, "bash": 44, "submit": 22}
    assert all(c.ts is not None and c.call_id for c in calls)
    assert sum(c.result is not None for c in calls) >= 120
    assert all(set(c.args) == {"cmd"} for c in calls if c.tool == "bash")
    assert all(set(c.args) == {"answer"} for c in calls if c.tool == "submit")
    assert all(s.model == "openai/gpt-4o" and s.people == 0 for s in sessions)
    assert all(s.native_id.startswith("mAfeKsLqDAoArcBLPnx4jc:") for s in sessions)


def test_calls_args_results_and_times_of_a_sample(tmp_path: Path) -> None:
    path = _eval_zip(
        tmp_path / "run.eval",
        {"_journal/start.json": {"version": 2, "eval": EVAL}, "samples/7_epoch_1.json": _sample(7)},
    )
    (session,), problems = _split(list(inspect_log.read(path)))
    assert problems == []
    assert session.native_id == "RUN1:7:1"
    first, second = session.calls
    assert (first.tool, first.args, first.result, first.error) == (
        "bash",
        {"cmd": "ls /root"},
        "flag.txt\n",
        False,
    )
    assert (second.tool, second.error) == ("python", True)
    assert second.result is not None and "timed out" in second.result
    assert first.ts is not None and first.ts.isoformat() == "2025-03-05T21:37:03.380000+00:00"
    # The first user message is the task; the later one is the solver's nudge, not a person.
    assert session.metadata["input"] == "Task: find the flag"
    assert session.people == 0


def test_a_human_approver_and_typed_input_are_a_person(tmp_path: Path) -> None:
    events = [
        {"event": "tool", "id": "c1", "timestamp": "2025-03-05T10:00:01+00:00"},
        {
            "event": "approval",
            "approver": "human",
            "decision": "reject",
            "call": {"id": "c1", "function": "bash", "arguments": {}},
            "timestamp": "2025-03-05T10:00:00+00:00",
        },
        {"event": "input", "input": "try python", "timestamp": "2025-03-05T10:00:02+00:00"},
        {"event": "tool", "id": "c2", "timestamp": "2025-03-05T10:00:03+00:00"},
    ]
    log = {"version": 2, "status": "success", "eval": EVAL, "samples": [_sample(1, events=events)]}
    path = tmp_path / "log.json"
    path.write_text(json.dumps(log))
    (session,), _ = _split(list(inspect_log.read(path)))
    assert [(c.tool, c.actor, c.answer) for c in session.calls] == [
        ("bash", "agent", "denied"),
        ("user.message", "human", None),
        ("python", "agent", None),
    ]
    assert session.people == 2


def test_a_broken_sample_in_the_zip_is_a_problem_and_the_others_read(tmp_path: Path) -> None:
    path = _eval_zip(
        tmp_path / "run.eval",
        {
            "header.json": {"version": 2, "status": "success", "eval": EVAL},
            "samples/1_epoch_1.json": _sample(1),
            "samples/2_epoch_1.json": '{"id": 2, "messages": [',
            "samples/3_epoch_1.json": _sample(3),
        },
    )
    sessions, (problem,) = _split(list(inspect_log.read(path)))
    assert [s.native_id for s in sessions] == ["RUN1:1:1", "RUN1:3:1"]
    assert problem.source == path and problem.field == "samples/2_epoch_1.json"
    assert "not readable as JSON" in problem.problem


def test_a_call_without_arguments_is_a_problem_naming_its_place(tmp_path: Path) -> None:
    sample = _sample(4)
    sample["messages"][2]["tool_calls"][1]["arguments"] = "print(1)"
    path = _eval_zip(tmp_path / "r.eval", {"samples/4_epoch_1.json": sample})
    (session,), (problem,) = _split(list(inspect_log.read(path)))
    assert [c.tool for c in session.calls] == ["bash"]
    assert problem.field == "samples/4_epoch_1.json: messages[2].tool_calls[1].arguments"


def test_sniff_accepts_its_logs_and_rejects_the_other_formats(tmp_path: Path) -> None:
    assert inspect_log.sniff(tmp_path / "a.eval", b"PK\x03\x04rest")
    assert inspect_log.sniff(
        tmp_path / "a.json", json.dumps({"version": 2, "status": "success", "eval": EVAL}).encode()
    )
    assert not inspect_log.sniff(tmp_path / "a.eval", b"{}")
    assert not inspect_log.sniff(tmp_path / "a.traj", b'{"trajectory": []}')
    assert not inspect_log.sniff(tmp_path / "a.traj.json", b'{"info": {}, "messages": []}')
    assert not inspect_log.sniff(tmp_path / "o.jsonl", b'{"instance_id": "a", "history": []}')
