"""Property-based fuzzing of `read_trace` and `replay_lines` (issue 12, item 8).

Every line of any file either becomes a TraceLine or a TraceFormatError naming its line, and
whatever `read_trace` accepts replays without raising: lone surrogates, deep nesting, huge
numbers, NaN and Infinity included.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from oversight.classify import Classifier
from oversight.errors import TraceFormatError
from oversight.normalise import normalise_call
from oversight.replay import read_trace, replay_lines

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
TEXT = st.text(st.one_of(st.characters(), SURROGATES), max_size=20)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**30, max_value=10**60),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=20,
)
TOOLS = st.sampled_from(["Bash", "Write", "Read", "launch_training", "run", "Edit"])
COMMANDS = st.sampled_from(
    ["ls", "rm -rf /data", "python train.py", "git push", "curl x | sh", "cat ~/.ssh/id_rsa"]
)


def nested(depth: int, leaf: Any = "ls") -> Any:
    value = leaf
    for i in range(depth):
        value = {"k": value} if i % 2 else [value]
    return value


@st.composite
def trace_objects(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly valid lines with some fields dropped, retyped or filled with odd values."""
    line: dict[str, Any] = {
        "session": draw(st.one_of(st.sampled_from(["a", "b"]), TEXT)),
        "tool": draw(st.one_of(TOOLS, TEXT)),
        "args": draw(
            st.one_of(
                st.fixed_dictionaries({"command": st.one_of(COMMANDS, TEXT)}),
                st.dictionaries(TEXT, JSON_VALUES, max_size=5),
                st.builds(lambda d: {"x": nested(d)}, st.integers(0, 400)),
            )
        ),
    }
    optional = {
        "actor": st.one_of(st.sampled_from(["agent", "human"]), JSON_VALUES),
        "ts": st.one_of(st.just("2025-01-01T00:00:00Z"), JSON_VALUES),
        "kind": st.one_of(st.sampled_from(["shell", "file.write", "deploy"]), JSON_VALUES),
        "approval": st.one_of(
            st.fixed_dictionaries(
                {
                    "decision": st.sampled_from(["approve", "deny", "modify"]),
                    "by": TEXT,
                    "auto": st.booleans(),
                }
            ),
            JSON_VALUES,
        ),
        "outcome": st.one_of(
            st.fixed_dictionaries(
                {"status": st.sampled_from(["ok", "error", "denied", "modified", "interrupted"])}
            ),
            JSON_VALUES,
        ),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            line[key] = draw(strategy)
    for key in draw(st.sets(st.sampled_from(sorted(line)), max_size=2)):
        if draw(st.booleans()):
            del line[key]
        else:
            line[key] = draw(JSON_VALUES)
    return line


def encoded(value: Any) -> bytes:
    """JSON as a trace writer would write it; lone surrogates as `\\udXXX` escapes."""
    return json.dumps(value, ensure_ascii=True).encode("ascii")


LINES = st.one_of(
    trace_objects().map(encoded),
    JSON_VALUES.map(encoded),
    st.binary(max_size=60),
    trace_objects().map(encoded).flatmap(lambda b: st.integers(0, len(b)).map(lambda n: b[:n])),
    st.just(b"[" * 5000 + b"]" * 5000),
    st.just(b'{"session": "a", "tool": "Bash", "args": ' + b'{"a":' * 6000 + b"1" + b"}" * 6001),
    st.just(b'{"session": "a", "tool": "Bash", "args": {"n": ' + b"9" * 5000 + b"}}"),
    st.just(b'{"session": "a", "tool": "Bash", "args": {"n": NaN, "m": -Infinity}}'),
    st.just(b'{"session": "a", "tool": "Bash", "args": {"c": "\xff\xfe ls"}}'),
)


def read_all(path: Path) -> tuple[list[Any], TraceFormatError | None]:
    accepted: list[Any] = []
    try:
        for item in read_trace(path):
            accepted.append(item)  # noqa: PERF402 - keep what came before an error
    except TraceFormatError as exc:
        return accepted, exc
    return accepted, None


@FUZZ
@given(lines=st.lists(LINES, min_size=1, max_size=6))
def test_every_line_is_read_or_named_and_what_is_read_replays(
    tmp_path: Path, lines: list[bytes]
) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(b"\n".join(line.replace(b"\n", b" ") for line in lines) + b"\n")
    accepted, error = read_all(path)
    if error is not None:
        assert 1 <= error.line <= len(lines)
        assert str(error).startswith(f"line {error.line}: ")
        assert str(error).encode("utf-8"), "the message itself must be printable"
        assert [n for n, _ in accepted] == [n for n in range(1, error.line) if lines[n - 1].strip()]
    steps, sessions = replay_lines(accepted)
    assert len(steps) == len(accepted)
    for step in steps:
        json.dumps(step.to_json(), ensure_ascii=False).encode("utf-8")
        json.dumps(step.args, ensure_ascii=False).encode("utf-8")
    for session in sessions.values():
        json.dumps(session.to_json(), ensure_ascii=False).encode("utf-8")


@FUZZ
@given(args=st.dictionaries(TEXT, JSON_VALUES, max_size=6))
def test_digest_of_any_args_is_deterministic_and_shown_args_are_utf8(args: dict[str, Any]) -> None:
    first = normalise_call(args, max_chars=200)
    again = normalise_call(json.loads(json.dumps(args)), max_chars=200)
    assert first.digest == again.digest
    json.dumps(first.stored, ensure_ascii=False).encode("utf-8")


def test_surrogates_keep_calls_apart() -> None:
    """A lone surrogate is digested as itself: not as U+FFFD, nor as the text `\\ud800`."""
    digests = {
        normalise_call({"command": text}, max_chars=100).digest
        for text in ["ls \ud800", "ls \udc00", "ls \ufffd", "ls \\ud800", "ls ?"]
    }
    assert len(digests) == 5
    shown = normalise_call({"command": "ls \ud800", "k\udfff": 1}, max_chars=100).stored
    assert shown == {"command": "ls \\ud800", "k\\udfff": 1}


def test_the_measured_bad_lines_are_named(tmp_path: Path) -> None:
    cases = {
        b'{"session": "a", "tool": "Bash", "args": {"c": "\xff"}}': "line 1: not UTF-8 text",
        b'{"session": "a", "tool": "Bash", "args": ' + b"[" * 5000 + b"]" * 5000 + b"}": (
            "line 1: not readable: JSON nested too deeply"
        ),
        b'{"session": "a", "tool": "Bash", "args": {"n": ' + b"9" * 5000 + b"}}": (
            "line 1: not readable: Exceeds the limit"
        ),
        b'{"session": "\\ud800", "tool": "Bash", "args": {}}': "line 1: session: a lone surrogate",
        b'{"session": "a", "tool": "Bash", "args": {}, "approval": {"by": "\\udfff"}}': (
            "line 1: approval.by: a lone surrogate"
        ),
    }
    for data, message in cases.items():
        path = tmp_path / "t.jsonl"
        path.write_bytes(data + b"\n")
        _, error = read_all(path)
        assert error is not None and str(error).startswith(message), (data[:60], error)


def test_surrogates_nan_and_deep_args_replay(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    lines = [
        {"session": "a", "tool": "Bash", "args": {"command": "rm -rf /data \ud800", "\udc00": 1}},
        {"session": "a", "tool": "Bash", "args": {"n": math.nan, "x": nested(900)}},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    accepted, error = read_all(path)
    assert error is None and len(accepted) == 2
    steps, _ = replay_lines(accepted)
    plain = Classifier().classify("Bash", {"command": "rm -rf /data"})
    assert steps[0].kind == plain.kind.value, "a surrogate does not hide what the call does"
    assert steps[0].args["command"] == "rm -rf /data \\ud800"
    again, _ = replay_lines(accepted)
    assert [s.args_digest for s in steps] == [s.args_digest for s in again]
