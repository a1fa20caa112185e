"""The file-reading commands on nasty files (issue 12, item 8): exit 1 or 2 with an error that
names the file, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from reviewing import cli as oversight

GOOD_LINE = b'{"session": "a", "tool": "Bash", "args": {"command": "ls"}}\n'
NASTY_TRACES = {
    "not-utf8": GOOD_LINE + b'{"session": "a", "tool": "Bash", "args": {"c": "\xff"}}\n',
    "deep": GOOD_LINE + b'{"session": "a", "tool": "Bash", "args": ' + b"[" * 5000 + b"]" * 5000,
    "surrogate-session": GOOD_LINE + b'{"session": "\\ud800", "tool": "Bash", "args": {}}\n',
    "huge-int": GOOD_LINE
    + b'{"session": "a", "tool": "Bash", "args": {"n": '
    + b"9" * 5000
    + b"}}",
}


@pytest.mark.parametrize("name", sorted(NASTY_TRACES))
def test_replay_names_the_file_and_line(tmp_path: Path, name: str) -> None:
    trace = tmp_path / f"{name}.jsonl"
    trace.write_bytes(NASTY_TRACES[name])
    out = oversight("replay", str(trace), "--json", timeout=60)
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr
    assert str(trace) in out.stderr and "line 2:" in out.stderr
    assert out.stdout == ""


def test_replay_prints_surrogate_args_escaped(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_bytes(b'{"session": "a", "tool": "Bash", "args": {"command": "ls \\ud800"}}\n')
    for extra in (["--json"], []):
        out = oversight("replay", str(trace), *extra, timeout=60)
        assert out.returncode == 0, out
        assert "Traceback" not in out.stderr


def test_import_dry_run_reports_bad_files(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    (folder / "session.jsonl").write_bytes(
        b'{"type": "user", "sessionId": "s", "message": {"role": "user", "content": "\\ud800"}}\n'
        b"\xff\xfe not json\n" + b"[" * 5000 + b"\n"
    )
    out = oversight("import", str(folder), "--dry-run", "--db", str(tmp_path / "o.db"), timeout=60)
    assert out.returncode in (0, 1), out
    assert "Traceback" not in out.stderr + out.stdout


def test_policy_test_with_a_nasty_cases_file(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    for data in (b"- name: x\n  tool: Bash\n  args: {c: caf\xe9}\n", b"[" * 5000 + b"]" * 5000):
        cases.write_bytes(data)
        out = oversight("policy", "test", "observe-only", str(cases), timeout=60)
        assert out.returncode in (1, 2), out
        assert "Traceback" not in out.stderr + out.stdout
        assert str(cases) in out.stderr + out.stdout


@pytest.mark.parametrize(
    "args", ['{"command": ', "[1, 2]", "[" * 5000 + "]" * 5000, '{"n": ' + "9" * 5000 + "}"]
)
def test_classify_rejects_bad_args_json(args: str) -> None:
    out = oversight("classify", "Bash", args, timeout=60)
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr
    assert "ARGS" in out.stderr


def test_classify_copes_with_surrogates() -> None:
    out = oversight("classify", "Bash", '{"command": "rm -rf /data \\ud800"}', "--json", timeout=60)
    assert out.returncode == 0, out
