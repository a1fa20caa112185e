"""Canonical JSON and digests: the one way oversight turns values into bytes it can hash."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import hashlib
import itertools
import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from pydantic_core import PydanticSerializationError
from pydantic_core import to_json as _to_json

JSONValue = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]

MAX_DEPTH = 32


def _sorted(value: Any) -> Any:
    if type(value) is dict:
        return {k: _sorted(value[k]) for k in sorted(value)}
    if type(value) is list:
        return [_sorted(v) for v in value]
    return value


def canonical_bytes(value: Any, *, presorted: bool = False) -> bytes:
    """Sorted keys, no whitespace, UTF-8: equal JSON-safe values give equal bytes.

    `presorted=True` skips the key sort for values built with sorted keys (the normaliser's
    output), which is the hot path.
    """
    ordered = value if presorted else _sorted(value)
    try:
        return _to_json(ordered)
    except PydanticSerializationError as exc:
        if "surrogates not allowed" not in str(exc):
            raise
        return _with_surrogates(ordered)


def _with_surrogates(value: Any) -> bytes:
    """JSON of a value holding lone surrogates (`"\\ud800"` in a trace, a broken decode in an
    agent's argument), which UTF-8 cannot carry: each is written as its JSON escape `\\udXXX`.

    Still one rendering per value and distinct from every other value's: it is valid JSON that
    reads back to exactly this value (a backslash of the text itself is always escaped), so a
    digest over it binds one call and no other.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace")


def canonical_json(value: Any, *, presorted: bool = False) -> str:
    return canonical_bytes(value, presorted=presorted).decode("utf-8")


def sha256_hex(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def digest(value: Any, *, presorted: bool = False) -> str:
    """SHA-256 of the canonical JSON of an already JSON-safe value."""
    return hashlib.sha256(canonical_bytes(value, presorted=presorted)).hexdigest()


_SCALARS = (str, int, float, bool, type(None))


MAX_CONTAINERS = 100_000
"""Most lists and mappings one value is rendered with: a list holding itself twice, or a
structure that shares its parts, is a tree of 2**depth parts when walked (a "billion laughs")."""
TRUNCATED_SIZE = f"<truncated: more than {MAX_CONTAINERS:,} nested values>"


def new_budget() -> list[int]:
    """How many more containers one rendering may walk (shared by `to_jsonable` and the
    normaliser, one per value rendered)."""
    return [MAX_CONTAINERS]


def to_jsonable(value: Any, _depth: int = 0, budget: list[int] | None = None) -> JSONValue:
    """Convert an arbitrary Python value into JSON-safe data with sorted dict keys.

    Agent functions receive paths, bytes, dataclasses, pydantic models and numpy-ish objects; we
    record a faithful, deterministic rendering of each rather than failing on the agent's call.
    """
    if isinstance(value, _SCALARS):
        if isinstance(value, float) and not math.isfinite(value):
            return repr(value)
        return value
    if _depth >= MAX_DEPTH:
        return f"<truncated at depth {MAX_DEPTH}>"
    d = _depth + 1
    if budget is None:
        budget = new_budget()
    if isinstance(value, (Mapping, list, tuple, set, frozenset)):
        budget[0] -= 1
        if budget[0] < 0:
            return TRUNCATED_SIZE
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(value[k], d, budget) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, d, budget) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [to_jsonable(v, d, budget) for v in value]
        return sorted(items, key=canonical_bytes)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, d, budget)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        return {"$bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value), d, budget)
    converted = _converted(value)
    if converted is not _UNCONVERTIBLE:
        return to_jsonable(converted, d, budget)
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not fail the agent's step
        text = f"<unrepresentable: {type(exc).__name__}>"
    return {"$repr": text[:500], "$type": type(value).__qualname__}


_UNCONVERTIBLE = object()


def _converted(value: Any) -> Any:
    """A pydantic model's or array's own plain rendering, or _UNCONVERTIBLE.

    A foreign object whose conversion raises is recorded by its repr instead: recording must
    never fail the step it records.
    """
    for method, kwargs in (("model_dump", {"mode": "json"}), ("tolist", {})):
        convert = getattr(value, method, None)
        if callable(convert):
            try:
                return convert(**kwargs)
            except Exception:  # noqa: BLE001, S112
                continue
    return _UNCONVERTIBLE


class _IdSource:
    """Per-process random prefix plus a counter: unique ids with no syscall per id.

    `os.urandom` per id releases the GIL on the agent's hot path and hands it to the
    background writer; a prefix drawn once per process (and again after fork) avoids that.
    """

    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        self.prefix = os.urandom(5).hex()
        self.counter = itertools.count(int.from_bytes(os.urandom(2), "big"))

    def next(self) -> str:
        return f"{time.time_ns() // 1_000_000:012x}{self.prefix}{next(self.counter) & 0xFFFFFF:06x}"


_IDS = _IdSource()
os.register_at_fork(after_in_child=_IDS.reseed)


def new_id() -> str:
    """A 28-hex-char id that sorts by creation time (ms) and is unique across processes."""
    return _IDS.next()


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)
