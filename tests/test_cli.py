"""The `oversight` command line, run as a user runs it: a real subprocess."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
from pathlib import Path

import pytest
from reviewing import cli as oversight

from oversight import Monitor, SessionHalted


@pytest.fixture
def recorded_db(tmp_path: Path) -> Path:
    db = tmp_path / "o.db"
    with Monitor(db=str(db), policy="record-only", log="none") as mon:

        @mon.step(name="Bash")
        def bash(command: str) -> str:
            return "ok"

        @mon.step(name="launch_training", kind="train.launch")
        def launch(config: str, gpus: int) -> str:
            return "job-7"

        with mon.session("exp-1", agent="research-bot"):
            bash("python experiments/sweep.py")
            bash("git push origin main")
            launch("configs/rlhf.yaml", gpus=64)
    return db


def test_sessions_lists_recorded_sessions(recorded_db: Path) -> None:
    out = oversight("sessions", "--db", str(recorded_db), "--json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    assert row["session_id"] == "exp-1" and row["agent"] == "research-bot"
    assert row["steps"] == 3 and row["status"] == "completed"
    table = oversight("sessions", "--db", str(recorded_db))
    assert "exp-1" in table.stdout and "research-bot" in table.stdout


def test_show_prints_a_timeline_with_kinds_and_reasons(recorded_db: Path) -> None:
    out = oversight("show", "exp-1", "--db", str(recorded_db))
    assert out.returncode == 0, out.stderr
    for expected in ("experiment.run", "code.apply", "train.launch", "launch_training", "job-7"):
        assert expected in out.stdout
    as_json = json.loads(oversight("show", "exp-1", "--db", str(recorded_db), "--json").stdout)
    assert [s["proposed"]["kind"] for s in as_json["steps"]] == [
        "experiment.run",
        "code.apply",
        "train.launch",
    ]


def test_show_of_an_unknown_session_fails_clearly(recorded_db: Path) -> None:
    out = oversight("show", "nope", "--db", str(recorded_db))
    assert out.returncode == 2
    assert "no session 'nope'" in out.stderr


def test_verify_passes_on_an_intact_store_and_fails_naming_the_edited_record(
    recorded_db: Path,
) -> None:
    ok = oversight("verify", "--db", str(recorded_db))
    assert ok.returncode == 0 and "intact" in ok.stdout
    conn = sqlite3.connect(recorded_db)
    conn.execute(
        "UPDATE oversight_records SET body = replace(body, 'configs/rlhf.yaml', 'configs/tiny.yaml') "
        "WHERE type = 'step.proposed' AND kind = 'train.launch'"
    )
    conn.commit()
    seq = conn.execute(
        "SELECT seq FROM oversight_records WHERE kind = 'train.launch' AND type = 'step.proposed'"
    ).fetchone()[0]
    conn.close()
    bad = oversight("verify", "--db", str(recorded_db), "--json")
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["ok"] is False and report["first_problem"]["seq"] == seq


def test_export_writes_records_with_their_chain_hashes(recorded_db: Path, tmp_path: Path) -> None:
    out = oversight("export", "exp-1", "--db", str(recorded_db))
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert lines[0]["record"]["type"] == "session.started"
    assert all(len(line["hash"]) == 64 for line in lines)
    assert all(
        a["hash"] == b["prev_hash"]
        for a, b in itertools.pairwise(lines)
        if b["seq"] == a["seq"] + 1
    )


def test_export_as_trace_round_trips_through_replay(recorded_db: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    out = oversight("export", "exp-1", "--db", str(recorded_db), "--as-trace", "-o", str(trace))
    assert out.returncode == 0, out.stderr
    replayed = oversight("replay", str(trace), "--json")
    assert replayed.returncode == 0, replayed.stderr
    doc = json.loads(replayed.stdout)
    assert [s["kind"] for s in doc["steps"]] == ["experiment.run", "code.apply", "train.launch"]
    assert doc["sessions"]["exp-1"]["steps"] == 3


def test_replay_classifies_each_line_in_input_order(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    lines = [
        {
            "session": "a",
            "tool": "Bash",
            "args": {"command": "torchrun --nproc_per_node 8 train.py"},
        },
        {
            "session": "a",
            "tool": "Read",
            "args": {"file_path": "train.py"},
            "approval": {"decision": "approve", "by": "alice", "auto": False, "latency_s": 30},
        },
        {
            "session": "b",
            "tool": "execute_bash",
            "args": {"command": "twine upload dist/*"},
            "ts": "2026-10-01T12:00:00Z",
            "actor": "agent",
        },
        {"session": "b", "tool": "launch_job", "args": {"x": 1}, "kind": "train.launch"},
    ]
    trace.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    out = oversight("replay", str(trace), "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [(s["index"], s["session"], s["kind"]) for s in doc["steps"]] == [
        (0, "a", "train.launch"),
        (1, "a", "file.read"),
        (2, "b", "deploy"),
        (3, "b", "train.launch"),
    ]
    assert all(s["reason"] for s in doc["steps"])
    assert doc["sessions"]["a"]["human_approvals"] == 1
    assert set(doc["sessions"]) == {"a", "b"}


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('{"session": "a", "args": {}}', "line 2: tool"),
        ('{"session": "a", "tool": "Bash", "args": []}', "line 2: args"),
        ('{"session": "a", "tool": "Bash", "args": {}, "kind": "training"}', "line 2: kind"),
        (
            '{"session": "a", "tool": "Bash", "args": {}, "approval": {"decision": "maybe", "by": "x", "auto": false}}',
            "line 2: approval.decision",
        ),
        ("[1, 2]", "line 2: expected a JSON object"),
    ],
)
def test_replay_names_the_bad_line_and_problem(tmp_path: Path, bad_line: str, message: str) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text(
        '{"session": "a", "tool": "Bash", "args": {"command": "ls"}}\n' + bad_line + "\n"
    )
    out = oversight("replay", str(trace), "--json")
    assert out.returncode == 2
    assert message in out.stderr
    assert out.stdout == "", "nothing is printed half-way"


def test_a_store_that_is_not_a_database_is_reported_not_overwritten(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database\n" * 100)
    out = oversight("sessions", "--db", str(bogus))
    assert out.returncode == 2
    assert str(bogus) in out.stderr
    assert bogus.read_text().startswith("these are my notes")


def test_an_error_naming_a_long_path_stays_on_one_line(tmp_path: Path) -> None:
    """Piped stderr (a CI log, `2> errors.txt`) gets the error as one line, however long the
    path it names: a line broken at 160 columns split words with a stray space and lost `grep`."""
    folder = tmp_path / ("a-folder-with-a-rather-long-name-" * 6)
    folder.mkdir()
    bogus = folder / "notes.db"
    bogus.write_text("these are my notes, not a database\n" * 100)
    out = oversight("sessions", "--db", str(bogus))
    assert out.returncode == 2
    error = out.stderr.rstrip("\n")
    assert len(error) > 200 and "\n" not in error, out.stderr
    assert str(bogus) in error

def test_classify_explains_a_single_call() -> None:
    out = oversight(
        "classify", "Bash", '{"command": "nohup torchrun --nproc_per_node 8 train.py &"}', "--json"
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["kind"] == "train.launch" and "background" in doc["flags"]


def test_demo_runs_offline_and_points_to_the_store(tmp_path: Path) -> None:
    out = oversight("demo", "--db", str(tmp_path / "demo.db"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr + out.stdout
    for expected in (
        "train.launch",
        "code.apply",
        "protected_target",
        "oversight verify",
        "What the agent experienced at its checkpoints",
        "Bash (code.apply): approved by demo-reviewer",
        "Edit (file.write): denied",
        "changing the evaluation metric",
        "launch_training (train.launch): nobody decided in time, so it did not run",
    ):
        assert expected in out.stdout
    listed = json.loads(oversight("sessions", "--db", str(tmp_path / "demo.db"), "--json").stdout)
    assert listed[0]["agent"] == "research-bot" and listed[0]["status"] == "completed"
    assert oversight("verify", "--db", str(tmp_path / "demo.db")).returncode == 0


def test_version_prints_the_package_version() -> None:
    from oversight import __version__

    out = oversight("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"agent-oversight {__version__}"


def _help(*command: str) -> str:
    """`oversight COMMAND --help` at 80 columns, rendered in-process (one process per page
    would spend most of the time importing)."""
    from typer.testing import CliRunner

    from oversight.cli import app

    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, (command, result.output)
    return result.output


def _every_command() -> list[tuple[str, ...]]:
    import typer

    from oversight.cli import app

    def walk(command: object, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        children = getattr(command, "commands", {})
        return [path] + [p for name, c in children.items() for p in walk(c, (*path, name))]

    return walk(typer.main.get_command(app), ())


def test_help_shows_flags_as_flags_and_fits_80_columns() -> None:
    commands = _every_command()
    assert (
        ("show",) in commands and ("policy", "test") in commands and ("reviewer", "add") in commands
    )
    for command in commands:
        text = _help(*command)
        assert "<bool>" not in text, (command, text)
        assert max(len(line) for line in text.splitlines()) <= 80, (command, text)
    assert re.search(r"^  --all\s+Show every step", _help("show"), re.MULTILINE)


def test_the_command_list_shows_each_summary_whole() -> None:
    listing = _help().split("Commands:", 1)[1]
    assert "..." not in listing
    assert "why it was gated." in " ".join(listing.split())


def test_report_says_where_it_wrote_the_chart_by_default(recorded_db: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    out = oversight("report", "exp-1", "--db", str(recorded_db), cwd=workdir)
    assert out.returncode == 0, out.stderr
    chart = workdir / "oversight-report-exp-1.svg"
    assert chart.is_file()
    assert f"chart written to {chart}" in out.stdout


def test_show_states_why_a_session_was_halted_and_that_the_halt_is_in_force(
    tmp_path: Path,
) -> None:
    db = tmp_path / "o.db"
    with Monitor(db=str(db), policy="record-only", log="none") as mon:

        @mon.step(name="Bash")
        def bash(command: str) -> str:
            return "ok"

        with pytest.raises(SessionHalted), mon.session("exp-h", agent="bot"):
            bash("ls")
            mon.halt("loss diverged", session_id="exp-h", by="alice")
            bash("python train.py")
    out = oversight("show", "exp-h", "--db", str(db))
    assert out.returncode == 0, out.stderr
    assert "status=halted" in out.stdout
    assert "halted: loss diverged" in out.stdout
    assert (
        "halt in force on this session" in out.stdout and "(by alice): loss diverged" in out.stdout
    )
    doc = json.loads(oversight("show", "exp-h", "--db", str(db), "--json").stdout)
    assert doc["halt"]["reason"] == "loss diverged" and doc["ended"]["error"] == "loss diverged"


def test_starting_the_cli_does_not_load_the_classifier() -> None:
    """Commands that only read the store or vote (`sessions`, `approvals`, `halt`) start without
    the classifier, its rules and tree-sitter (about a fifth of a second); those that classify
    load it themselves."""
    import subprocess
    import sys

    code = (
        "import sys, oversight.cli, oversight.store, oversight.approvals.state; "
        "print(sorted(m for m in ('oversight.classify.classifier', 'oversight.replay', "
        "'oversight.importing.run', 'oversight.policy.cases', 'tree_sitter') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
    assert oversight("classify", "Bash", '{"command": "torchrun train.py"}').returncode == 0
