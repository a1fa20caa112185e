"""Import's fast paths give exactly what the plain ones gave: JSON read by pydantic-core's parser
where it agrees with `json.loads` (and by `json.loads` where it does not), JSONL lines read as
bytes yet numbered as text mode numbers them, the Python syntax walk that skips leaves, and the
weight by which sharded import orders its folders."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oversight._sharded import import_folders
from oversight.classify.python_code import RULE_NODES, _walk
from oversight.importing.detect import format_named
from oversight.importing.model import (
    ImportProblem,
    json_object,
    line_object,
    loads,
    read_json,
    text_lines,
)
from oversight.importing.run import ImportedFile, size_of

TRICKY = [
    '{"a": 1}',
    '{"a": "\\ud800 lone surrogate"}',  # json.loads reads it; pydantic-core refuses
    '"\\udc00\\ud800"',
    "[" * 300 + "]" * 300,  # deeper than pydantic-core's 200
    "[" * 3000 + "]" * 3000,  # deeper than json.loads goes
    "\ufeff{}",
    "NaN",
    '{"n": [Infinity, -Infinity, 1e999, -0.0, 12345678901234567890123]}',
    "9" * 5000,  # over Python's digit limit
    '{"a": 1, "a": 2}',
    '{"a": "tab\tinside"}',
    "{'a': 1}",
    "[1,]",
    "{} {}",
    "",
    "nan",
    '"\\u00e9\\/"',
]


def _plain(text: str) -> tuple[str, Any]:
    try:
        return "value", json.loads(text)
    except RecursionError:
        return "deep", None
    except ValueError as exc:
        return "error", str(exc)


def _fast(text: str) -> tuple[str, Any]:
    try:
        return "value", loads(text)
    except RecursionError:
        return "deep", None
    except ValueError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("text", TRICKY)
def test_loads_is_json_loads(text: str) -> None:
    assert repr(_fast(text)) == repr(_plain(text))  # repr: NaN == NaN, -0.0 vs 0.0


def _text_mode(path: Path) -> list[tuple[int, tuple[dict[str, Any] | None, str]]]:
    """What the readers did before: text mode, each line stripped and read by json_object."""
    out = []
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for number, raw in enumerate(fh, start=1):
            if raw.strip():
                out.append((number, json_object(raw.strip())))
    return out


def _fast_lines(path: Path) -> list[tuple[int, tuple[dict[str, Any] | None, str]]]:
    out = []
    with path.open("rb") as fh:
        for number, raw in text_lines(fh):
            parsed = line_object(raw)
            if parsed is not None:
                out.append((number, parsed))
    return out


PIECES = [
    b'{"type": "user", "x": [1, {"b": null}]}',
    b"[1]",
    b"{",
    b"\r",
    b"\n",
    b"\r\n",
    b" ",
    b"\x0c",
    b"\x1c",  # whitespace to str.strip, not to JSON nor bytes.strip
    b"\xc2\xa0",
    b"\xff",  # not UTF-8
    b"\xe2\x82",  # a cut UTF-8 sequence
    b"\xef\xbb\xbf",
    b'{"k": "\\ud800"}',
    b'{"a":\r1}',  # a \r between tokens: text mode ends the line there
    b'{"a": "\xc3\xa9"}',
    b"\x00",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14))
def test_jsonl_lines_read_as_bytes_are_what_text_mode_read(pieces: list[bytes]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.jsonl"
        path.write_bytes(b"".join(pieces))
        assert repr(_fast_lines(path)) == repr(_text_mode(path))


def test_a_carriage_return_ends_a_line_as_in_text_mode(tmp_path: Path) -> None:
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b'{"a": 1}\r\n{"b": 2}\r{"c": 3}\n{"d":\r4}\r')
    assert [n for n, _ in _fast_lines(path)] == [1, 2, 3, 4, 5]
    assert _fast_lines(path) == _text_mode(path)


def _read_text_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError) as exc:
        return f"not readable as JSON: {exc}"
    except RecursionError:
        return "not readable as JSON: nested too deeply"


@pytest.mark.parametrize(
    "data",
    [
        b'{"items": [1, 2, {"a": "b"}]}',
        b'{\r\n  "a": 1,\r\n  "b": oops\r\n}',  # the error's line and column are text mode's
        b'\xef\xbb\xbf{"a": 1}',
        b'{"a": "\\ud800"}',
        b'{"a": "\xff"}',
        b"[" * 3000 + b"]" * 3000,
        b"",
    ],
)
def test_read_json_is_json_loads_of_the_text(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(data)
    got = read_json(path)
    got = f"{got.field}{got.problem}" if isinstance(got, ImportProblem) else got
    assert got == _read_text_json(path)


def test_an_unreadable_file_is_a_problem_naming_it(tmp_path: Path) -> None:
    got = read_json(tmp_path / "missing.json")
    assert isinstance(got, ImportProblem) and "No such file" in got.problem


SOURCE = """
import os, sys as system
from pkg.mod import thing
@decorate(make())
class Model(Base, metaclass=meta()):
    x: int = field(default=compute())
    async def go(self, a: hint() = default(), *args, **kw) -> ret():
        global counter
        async with opened() as f, other():
            await f.write(data[index()])
        y = [call(i) for i in items() if test(i)]
        z = {k(): v() for k, v in pairs()}
        w = lambda q=deflt(): inner(q)
        del cache[key()]
        total += step()
        s = f"{render()!r:{width()}}"
        match subject():
            case {"k": [1, *rest]} if guard():
                pass
            case Point(x=0) | Point(y=pattern_value.attr):
                pass
        try:
            risky()
        except (ValueError, make_error()) as exc:
            handle(exc)
        return (yield produce())
os.system("ls")
"""


def test_the_syntax_walk_keeps_what_ast_walk_finds_in_its_order() -> None:
    tree = ast.parse(SOURCE)
    expected = tuple(node for node in ast.walk(tree) if isinstance(node, RULE_NODES))
    assert _walk(tree) == expected
    assert len(expected) > 30


def test_a_claimed_folder_weighs_its_files_so_sharded_import_starts_with_it(
    tmp_path: Path,
) -> None:
    openhands = format_named("openhands")
    small = tmp_path / "small"
    small.mkdir()
    (small / "a.jsonl").write_bytes(b"x" * 5_000)
    heavy = tmp_path / "trajs"
    for name in ("one", "two"):
        (heavy / name).mkdir(parents=True)
        (heavy / name / "log.json").write_bytes(b"x" * 20_000)
    folders = [ImportedFile(heavy / "one", openhands), ImportedFile(heavy / "two", openhands)]
    assert size_of(folders) >= 40_000
    groups = import_folders([ImportedFile(small / "a.jsonl", openhands), *folders])
    assert [len(g) for g in groups] == [2, 1]
