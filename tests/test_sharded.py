"""Replay and import across processes give exactly what one process gives (real transcripts)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from reviewing import cli

from oversight._sharded import import_folders, import_sharded, replay_sharded, sessions_by_cost
from oversight.classify import Classifier
from oversight.importing.run import ImportReport, import_files, recognised_files
from oversight.policy import load_policy
from oversight.replay import replay
from oversight.store import open_store

LOG = ("docent", "docent/samples/log.eval")


@pytest.fixture
def real_trace(realdata: Callable[[str, str], Path], tmp_path: Path) -> Path:
    """The real Inspect log as a trace, three times over as three runs (distinct session ids),
    so every worker has sessions of its own."""
    log = realdata(*LOG)
    trace = tmp_path / "t.jsonl"
    out = cli("import", str(log), "--as-trace", str(trace))
    assert out.returncode == 0, out.stderr
    lines = trace.read_text(encoding="utf-8").splitlines()
    copies = []
    for run in ("a", "b", "c"):
        for text in lines:
            line = json.loads(text)
            line["session"] = f"{run}:{line['session']}"
            copies.append(json.dumps(line))
    trace.write_text("\n".join(copies) + "\n", encoding="utf-8")
    return trace


def _as_json(steps: list, sessions: dict) -> tuple[list, dict, list]:  # type: ignore[type-arg]
    return (
        [s.to_json() for s in steps],
        {k: v.to_json() for k, v in sessions.items()},
        list(sessions),
    )


@pytest.mark.parametrize("jobs", [2, 3])
def test_sharded_replay_is_the_single_process_replay(real_trace: Path, jobs: int) -> None:
    one = replay(real_trace, Classifier(), decider=load_policy("research-default"))
    many = replay_sharded(
        real_trace, Classifier(), decider=load_policy("research-default"), jobs=jobs
    )
    assert _as_json(*many) == _as_json(*one)


def test_workers_take_whole_sessions_the_most_expensive_first(real_trace: Path) -> None:
    from oversight.replay import read_trace

    lines = dict(read_trace(real_trace))
    sessions = sessions_by_cost(lines)
    assert sorted(n for numbers in sessions for n in numbers) == sorted(lines)
    for numbers in sessions:
        assert numbers == sorted(numbers)  # each session's lines in file order
        assert len({lines[n].session for n in numbers}) == 1  # and only its own
    # a call costs about itself (64) plus the text it carries
    costs = [
        sum(64 + sum(len(v) for v in lines[n].args.values() if isinstance(v, str)) for n in numbers)
        for numbers in sessions
    ]
    assert costs == sorted(costs, reverse=True) and costs[0] > costs[-1]


def test_sharded_replay_reports_a_bad_line_as_one_process_does(tmp_path: Path) -> None:
    trace = tmp_path / "bad.jsonl"
    trace.write_text('{"session": "s", "tool": "Bash", "args": {}}\n{oops\n', encoding="utf-8")
    from oversight.errors import TraceFormatError

    with pytest.raises(TraceFormatError, match="line 2"):
        replay_sharded(trace, Classifier(), jobs=2)


def test_replay_cli_gives_the_same_answer_on_one_or_two_processes(real_trace: Path) -> None:
    one = cli("replay", str(real_trace), "--json", "--jobs", "1", "--policy", "research-default")
    two = cli("replay", str(real_trace), "--json", "--jobs", "2", "--policy", "research-default")
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    assert json.loads(one.stdout) == json.loads(two.stdout)


def test_sharded_import_stores_what_one_process_stores_and_stays_idempotent(
    realdata: Callable[[str, str], Path], tmp_path: Path
) -> None:
    folder = tmp_path / "logs"
    for run in ("a", "b", "c"):
        (folder / run).mkdir(parents=True)
        shutil.copy(realdata(*LOG), folder / run / "ctf.eval")
    files = recognised_files([folder], None, ImportReport())
    assert [len(g) for g in import_folders(files)] == [1, 1, 1]
    one_url, many_url = f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'many.db'}"
    with open_store(one_url) as store:
        import_files(files, store, ImportReport())
    report = ImportReport()
    import_sharded(files, many_url, report, classifier=Classifier(), jobs=2)
    # the three copies are one run (the same Inspect run id): stored once, found twice more
    assert (report.sessions_new, report.calls_added) == (15, 121)
    assert report.sessions_unchanged == 30
    with open_store(one_url) as a, open_store(many_url) as b:
        kinds_a = sorted((r.record.session_id, r.record.kind) for r in a.iter_records()
                         if r.record.type == "step.proposed")  # fmt: skip
        kinds_b = sorted((r.record.session_id, r.record.kind) for r in b.iter_records()
                         if r.record.type == "step.proposed")  # fmt: skip
        assert kinds_a == kinds_b and b.verify().ok
    again = ImportReport()
    import_sharded(files, many_url, again, classifier=Classifier(), jobs=2)
    assert again.calls_added == 0 and again.sessions_unchanged == 45
