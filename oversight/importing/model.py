"""What an imported transcript becomes: sessions of calls, each as its agent host recorded it.

Every reader (one per format in `formats/`) turns a host's files into these records and nothing
else; classification, storing and replay work on them the same way for every host. A reader
never raises on a malformed record: it yields an `ImportProblem` naming the file, line and
field, and goes on, so one bad line costs that line, not the rest of the file.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

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


def json_object(text: str) -> tuple[dict[str, Any] | None, str]:
    """Parse one JSON record: (the object, "") or (None, what is wrong with it)."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        return None, f"not JSON: {exc}"
    except RecursionError:
        return None, "not readable: JSON nested too deeply"
    if not isinstance(value, dict):
        return None, f"a record must be a JSON object, not {type(value).__name__}"
    return value, ""


def parse_json(text: str | bytes) -> Any:
    """`json.loads`, with JSON nested too deep to parse reported as the ValueError every
    reader already turns into a problem (a `RecursionError` would escape as a traceback)."""
    try:
        return json.loads(text)
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
    """A whole JSON file's value, or the `ImportProblem` that says why it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError) as exc:
        return ImportProblem(path, 0, "", f"not readable as JSON: {exc}")
    except RecursionError:
        return ImportProblem(path, 0, "", "not readable as JSON: nested too deeply")
