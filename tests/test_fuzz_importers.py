"""Every transcript reader, on broken input, yields sessions and problems and never raises:
deep nesting, binary, truncated and wrongly typed records, surrogates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oversight.importing.detect import formats
from oversight.importing.model import ImportedSession, ImportProblem

DEEP = "[" * 6_000 + "]" * 6_000
NASTY_LINES = [
    DEEP,
    '{"type": "assistant", "message": ' + DEEP + "}",
    '{"type": "user", "message": {"content": [{"type": "tool_result", "content": ' + DEEP + "}]}}",
    '{"payload": {"type": "function_call", "arguments": "' + "[" * 3000 + '"}}',
    '{"type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"'
    + ("[" * 3000).replace('"', '\\"')
    + '"}}',
    '{"action": "run", "args": {"command": 5}, "observation": null}',
    '{"trajectory": [{"action": ' + DEEP + "}]}",
    '{"messages": "not a list", "history": {"x": 1}}',
    '{"text": "\\ud800 lone surrogate", "role": "\\udfff"}',
    '{"truncated": ',
    "\x00\x01\x02 binary",
    "9" * 5000,
]


KEYS = (
    "type", "message", "content", "payload", "action", "args", "tool_calls", "name",
    "arguments", "role", "timestamp", "sessionId", "uuid", "id",
)  # fmt: skip
"""Keys the readers look at, so generated records reach their deeper code."""


def _consume(path: Path) -> list[object]:
    out: list[object] = []
    for fmt in formats():
        for got in fmt.read(path):
            assert isinstance(got, (ImportedSession, ImportProblem)), (fmt.name, got)
            out.append(got)
    return out


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".traj", ".eval"])
def test_each_reader_survives_every_nasty_line(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"session{suffix}"
    path.write_text("\n".join(NASTY_LINES) + "\n", encoding="utf-8", errors="surrogatepass")
    _consume(path)
    for line in NASTY_LINES:
        single = tmp_path / f"one{suffix}"
        single.write_text(line, encoding="utf-8", errors="surrogatepass")
        _consume(single)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(KEYS),
                inner,
                max_size=5,
            )
        ),
        max_leaves=30,
    )
)
def test_readers_take_arbitrary_json_records(tmp_path: Path, record: object) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps({"type": "user", "x": record}) + "\n")
    _consume(path)
