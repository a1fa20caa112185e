"""What an imported transcript becomes: sessions of calls, each as its agent host recorded it.

Every reader (one per format in `formats/`) turns a host's files into these records and nothing
else; classification, storing and replay work on them the same way for every host. A reader
never raises on a malformed record: it yields an `ImportProblem` naming the file, line and
field, and goes on, so one bad line costs that line, not the rest of the file.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic_core import from_json as _fast_json

Actor = Literal["agent", "human"]
PersonAnswer = Literal["approved", "denied"]


@dataclass(frozen=True, slots=True)
class ImportedCall:
    """One tool call (or, with `actor="human"`, one thing a person said or did).

    `tool` and `args` are the host's own names and arguments, untranslated: the classifier
    knows the hosts' vocabularies. `answer` is a person's recorded answer to a permission
    prompt for this call, where the host records one (`denied` means the call did not run).
    `result` is the tool's output as recorded (bounded by the reader), `error` whether the
    host marked it failed. `agent` names a sub-agent (a Claude Code sidechain, a delegated
    task) when the call is not the main agent's.
    """

    tool: str
    args: dict[str, Any]
    ts: _dt.datetime | None = None
    actor: Actor = "agent"
    call_id: str | None = None
    result: str | None = None
    error: bool = False
    answer: PersonAnswer | None = None
    agent: str | None = None
    line: int = 0

    @property
    def ran(self) -> bool:
        return self.answer != "denied"

    def with_result(
        self, result: str | None, error: bool, answer: PersonAnswer | None
    ) -> ImportedCall:
        """This call with what became of it, which a reader learns from a later record:
        `dataclasses.replace` of those three fields, at half its cost (it is done per call)."""
        return ImportedCall(
            tool=self.tool,
            args=self.args,
            ts=self.ts,
            actor=self.actor,
            call_id=self.call_id,
            result=result,
            error=error,
            answer=answer,
            agent=self.agent,
            line=self.line,
        )


@dataclass(slots=True)
class ImportedSession:
    """One agent session as a host recorded it: `native_id` is the host's own id for it (or a
    stable one derived from its file), so importing the same session twice finds it again."""

    format: str
    source: Path
    native_id: str
    calls: list[ImportedCall] = field(default_factory=list)
    agent: str | None = None
    model: str | None = None
    started: _dt.datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def session_id(self) -> str:
        """The id oversight stores it under: the format and the host's id, so that sessions of
        different hosts never collide and re-importing one finds it."""
        return f"{self.format}:{self.native_id}"

    @property
    def people(self) -> int:
        """How many things a person said or decided in this session."""
        return sum(1 for c in self.calls if c.actor == "human" or c.answer is not None)


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """A record the reader could not use: where it is and what is wrong with it."""

    source: Path
    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else str(self.source)
        return (
            f"{where}: {self.field}: {self.problem}" if self.field else f"{where}: {self.problem}"
        )


def parse_ts(value: Any) -> _dt.datetime | None:
    """A host's timestamp (ISO 8601 text, or seconds / milliseconds since the epoch) in UTC;
    None when there is none. Raises ValueError for one that is there and unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")  # noqa: TRY004 (readers catch ValueError)
    if isinstance(value, (int, float)):
        seconds = value / 1000.0 if value > 1e11 else float(value)
        return _dt.datetime.fromtimestamp(seconds, tz=_dt.UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {type(value).__name__}")  # noqa: TRY004
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = _dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    return parsed.astimezone(_dt.UTC)


RESULT_CHARS = 2_000
"""How much of a tool's output a reader keeps: enough to read what happened, not a log dump."""


def bounded(value: Any) -> str | None:
    """A tool output as text, cut to RESULT_CHARS."""
    if value is None:
        return None
    text: str = value if isinstance(value, str) else str(value)
    if len(text) > RESULT_CHARS:
        return f"{text[:RESULT_CHARS]}…[{len(text) - RESULT_CHARS} more chars]"
    return text


def loads(data: str | bytes) -> Any:
    """`json.loads(data)`: its value, or its error. pydantic-core's parser reads transcripts a
    third faster and gives the same value for every text it accepts; what it refuses (lone
    surrogate escapes, nesting deeper than 200, invalid UTF-8, a BOM, and every malformed text)
    goes to `json.loads`, whose value or error is then the answer."""
    try:
        return _fast_json(data)
    except Exception:  # noqa: BLE001 (any refusal, even a TypeError, is json.loads's to judge)
        return json.loads(data)


def json_object(text: str) -> tuple[dict[str, Any] | None, str]:
    """Parse one JSON record: (the object, "") or (None, what is wrong with it)."""
    try:
        value = loads(text)
    except ValueError as exc:
        return None, f"not JSON: {exc}"
    except RecursionError:
        return None, "not readable: JSON nested too deeply"
    return _as_object(value)


def _as_object(value: Any) -> tuple[dict[str, Any] | None, str]:
    if not isinstance(value, dict):
        return None, f"a record must be a JSON object, not {type(value).__name__}"
    return value, ""


def text_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes | str]]:
    """Numbered lines of a binary file, numbered as `open(encoding="utf-8", errors="replace")`
    numbers them (universal newlines: `\r`, `\n` and `\r\n` each end a line). A line without a
    `\r` stays bytes (`line_object` decodes it only if it must); one with a `\r` is decoded and
    split as text mode would. Decoding line by line is decoding the stream: a `\n` is never part
    of a multi-byte character, so no replacement can straddle one."""
    number = 0
    for data in lines:
        if b"\r" not in data:
            number += 1
            yield number, data
            continue
        pieces = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
        parts = pieces.split("\n")
        for part in parts[:-1]:
            number += 1
            yield number, part + "\n"
        if parts[-1]:
            number += 1
            yield number, parts[-1]


def line_object(raw: bytes | str) -> tuple[dict[str, Any] | None, str] | None:
    """One JSONL line (from `text_lines`) as `json_object` reads its stripped text; None for a
    blank line. A bytes line is parsed as it is (JSON allows the blanks around a value) and
    decoded only when that fails, to be judged exactly as its text."""
    if isinstance(raw, bytes):
        if not raw.strip():
            return None  # ASCII blanks only: blank as text too
        try:
            value = _fast_json(raw)
        except Exception:  # noqa: BLE001 (refused: judged as text below)
            raw = raw.decode("utf-8", "replace")
        else:
            return _as_object(value)
    text = raw.strip()
    if not text:
        return None
    return json_object(text)


def parse_json(text: str | bytes) -> Any:
    """`json.loads`, with JSON nested too deep to parse reported as the ValueError every
    reader already turns into a problem (a `RecursionError` would escape as a traceback)."""
    try:
        return loads(text)
    except RecursionError:
        raise ValueError("nested too deeply to read") from None


def content_text(content: Any) -> str:
    """A chat message's content as text: a string, or the text of its text blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [b.get("text") for b in content if isinstance(b, dict)]
        return "\n".join(p for p in parts if isinstance(p, str))
    return ""


def first_record(text: str) -> Any:
    """The first line of JSONL text that parses (a cut-off last line does not), or None: what
    a format sniffer judges a file by."""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            return json.loads(line)
        except (ValueError, RecursionError):
            continue
    return None


def read_json(path: Path) -> Any:
    """A whole JSON file's value, or the `ImportProblem` that says why it cannot be read.
    Its bytes are parsed as they are; only a file the fast parser refuses is read as text
    (universal newlines, invalid UTF-8 replaced) and judged by `json.loads`, as before."""
    try:
        return _fast_json(path.read_bytes())
    except OSError as exc:
        return ImportProblem(path, 0, "", f"not readable as JSON: {exc}")
    except Exception:  # noqa: BLE001 (refused: judged as text)
        return _read_json_text(path)


def _read_json_text(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError) as exc:
        return ImportProblem(path, 0, "", f"not readable as JSON: {exc}")
    except RecursionError:
        return ImportProblem(path, 0, "", "not readable as JSON: nested too deeply")
