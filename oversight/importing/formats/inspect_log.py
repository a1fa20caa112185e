"""Inspect eval logs: `.eval` (a zip) and `.json` (one object), one session per sample and epoch.

A `.eval` file holds `_journal/start.json` (the eval's spec, written first), one
`samples/<id>_epoch_<n>.json` a finished sample and `header.json` once the run ends; a `.json`
log is one object with `eval` and a `samples` list. In a sample, assistant messages carry
`tool_calls` ({id, function, arguments}) answered by `tool` messages (`tool_call_id`, `error`);
`events` time them (`tool` events by call id) and record a person where there was one: a
human approver's `approval` event, an `input` event for what someone typed. Long strings are
stored once in `attachments` and referred to as `attachment://<hash>`.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oversight.importing.formats import Format
from oversight.importing.model import (
    ImportedCall,
    ImportedSession,
    ImportProblem,
    PersonAnswer,
    bounded,
    content_text,
    parse_json,
    parse_ts,
    read_json,
)

NAME = "inspect"

_JSON_LOG = re.compile(rb'\A\s*\{\s*"version"\s*:\s*\d+\s*,\s*"status"\s*:')
_SAMPLE = re.compile(r"\Asamples/.+\.json\Z")
_ATTACHMENT = "attachment://"
# Inspect's approval decisions (inspect_ai/approval/_approval.py) as a person's answer.
_DECISIONS: dict[str, PersonAnswer] = {
    "approve": "approved",
    "modify": "approved",
    "reject": "denied",
    "terminate": "denied",
}


def sniff(path: Path, head: bytes) -> bool:
    """A zip named `.eval`, or a `.json` that opens as an Inspect log (`version`, `status`)."""
    if path.suffix == ".eval":
        return head.startswith(b"PK")
    return path.suffix == ".json" and _JSON_LOG.match(head) is not None and b'"eval"' in head


def read(path: Path) -> Iterator[ImportedSession | ImportProblem]:
    if path.suffix == ".eval":
        yield from _read_zip(path)
    else:
        yield from _read_json(path)


def _read_zip(path: Path) -> Iterator[ImportedSession | ImportProblem]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        yield ImportProblem(path, 0, "", f"not a readable .eval zip: {exc}")
        return
    with archive:
        names = archive.namelist()
        spec: dict[str, Any] = {}
        for member in ("header.json", "_journal/start.json"):
            if member in names:
                loaded = _member(archive, member)
                if isinstance(loaded, dict) and isinstance(loaded.get("eval"), dict):
                    spec = loaded["eval"]
                    break
                yield ImportProblem(path, 0, member, "not a JSON object with `eval`")
        for member in sorted(n for n in names if _SAMPLE.match(n)):
            sample = _member(archive, member)
            if not isinstance(sample, dict):
                yield ImportProblem(path, 0, member, f"not a sample: {sample}")
                continue
            yield from _session(path, spec, sample, member)


def _member(archive: zipfile.ZipFile, member: str) -> Any:
    """A member's JSON, or the text of why it could not be read."""
    try:
        return parse_json(archive.read(member))
    except (OSError, ValueError, zipfile.BadZipFile, RuntimeError) as exc:
        return f"not readable as JSON: {exc}"


def _read_json(path: Path) -> Iterator[ImportedSession | ImportProblem]:
    data = read_json(path)
    if isinstance(data, ImportProblem):
        yield data
        return
    if not isinstance(data, dict) or not isinstance(data.get("eval"), dict):
        yield ImportProblem(path, 0, "eval", "not an Inspect log")
        return
    samples = data.get("samples")
    if not isinstance(samples, list):
        return  # a log written with no samples (or before any finished): no session
    for index, sample in enumerate(samples):
        where = f"samples[{index}]"
        if not isinstance(sample, dict):
            yield ImportProblem(path, 0, where, "a sample is not an object")
            continue
        yield from _session(path, data["eval"], sample, where)


def _session(
    path: Path, spec: dict[str, Any], sample: dict[str, Any], where: str
) -> Iterator[ImportedSession | ImportProblem]:
    attachments = sample.get("attachments")
    resolve = _Resolver(attachments if isinstance(attachments, dict) else {})
    messages = sample.get("messages")
    if not isinstance(messages, list):
        yield ImportProblem(path, 0, f"{where}: messages", "no list of messages")
        return
    events = [e for e in sample.get("events") or [] if isinstance(e, dict)]
    tool_times = {e.get("id"): e.get("timestamp") for e in events if e.get("event") == "tool"}
    answers = _approvals(events)
    sample_id, epoch = sample.get("id"), sample.get("epoch", 1)
    run = spec.get("run_id") or f"{spec.get('task')}@{spec.get('created')}"
    session = ImportedSession(
        format=NAME,
        source=path,
        native_id=f"{run}:{sample_id}:{epoch}",
        agent=_solver(spec),
        model=spec.get("model") if isinstance(spec.get("model"), str) else None,
        started=_time(sample.get("started_at")) or _time(_first(events, "timestamp")),
        metadata=_metadata(spec, sample, resolve),
    )
    results: dict[str, tuple[str | None, bool]] = {}
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "tool":
            error = message.get("error")
            text = content_text(resolve(message.get("content")))
            if isinstance(error, dict) and error.get("message"):
                text = f"{text}\n{error['message']}".strip()
            results[str(message.get("tool_call_id"))] = (bounded(text), bool(error))
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        for number, call in enumerate(message.get("tool_calls") or []):
            field = f"{where}: messages[{index}].tool_calls[{number}]"
            if not isinstance(call, dict) or not isinstance(call.get("function"), str):
                yield ImportProblem(path, 0, field, "no function name")
                continue
            arguments = resolve(call.get("arguments"))
            if not isinstance(arguments, dict):
                yield ImportProblem(path, 0, f"{field}.arguments", "not an object")
                continue
            call_id = call.get("id") if isinstance(call.get("id"), str) else None
            result, failed = results.get(str(call_id), (None, False))
            session.calls.append(
                ImportedCall(
                    tool=call["function"],
                    args=arguments,
                    ts=_time(tool_times.get(call_id)),
                    call_id=call_id,
                    result=result,
                    error=failed,
                    answer=answers.get(call_id or ""),
                )
            )
    for event in events:
        if event.get("event") == "input" and isinstance(event.get("input"), str):
            session.calls.append(
                ImportedCall(
                    tool="user.message",
                    args={"text": event["input"]},
                    ts=_time(event.get("timestamp")),
                    actor="human",
                )
            )
    if any(c.actor == "human" for c in session.calls) and all(c.ts for c in session.calls):
        session.calls.sort(key=lambda c: c.ts or _dt.datetime.min)  # what was typed, in its place
    yield session


class _Resolver:
    """Puts back the long strings Inspect stored once as `attachment://<hash>`."""

    def __init__(self, attachments: dict[str, Any]) -> None:
        self.attachments = attachments

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(_ATTACHMENT):
            return self.attachments.get(value[len(_ATTACHMENT) :], value)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


def _approvals(events: list[dict[str, Any]]) -> dict[str, PersonAnswer]:
    """A human approver's decision on each call it was asked about."""
    answers: dict[str, PersonAnswer] = {}
    for event in events:
        if event.get("event") != "approval" or event.get("approver") != "human":
            continue
        call = event.get("call")
        answer = _DECISIONS.get(str(event.get("decision")))
        if isinstance(call, dict) and isinstance(call.get("id"), str) and answer:
            answers[call["id"]] = answer
    return answers


def _time(value: Any) -> _dt.datetime | None:
    try:
        return parse_ts(value)
    except (ValueError, OverflowError, OSError):
        return None


def _first(events: list[dict[str, Any]], key: str) -> Any:
    return next((e.get(key) for e in events if e.get(key)), None)


def _solver(spec: dict[str, Any]) -> str | None:
    solver = spec.get("solver")
    return solver if isinstance(solver, str) else None


def _metadata(spec: dict[str, Any], sample: dict[str, Any], resolve: _Resolver) -> dict[str, Any]:
    """The task and outcome; the first user message is the task, not a person speaking."""
    meta: dict[str, Any] = {"task": spec.get("task"), "sample_id": sample.get("id")}
    meta["epoch"] = sample.get("epoch")
    messages = [m for m in sample.get("messages") or [] if isinstance(m, dict)]
    users = [m for m in messages if m.get("role") == "user"]
    if users:
        meta["input"] = bounded(content_text(resolve(users[0].get("content"))))
        meta["user_messages"] = len(users)
    if sample.get("target") not in (None, ""):
        meta["target"] = bounded(resolve(sample["target"]))
    scores = sample.get("scores")
    if isinstance(scores, dict):
        meta["scores"] = {
            name: score.get("value") for name, score in scores.items() if isinstance(score, dict)
        }
    if sample.get("error"):
        meta["error"] = bounded(json.dumps(sample["error"], default=str))
    return meta


FORMAT = Format(
    name=NAME,
    description="Inspect eval logs (.eval, .json)",
    sniff=sniff,
    read=read,
)
