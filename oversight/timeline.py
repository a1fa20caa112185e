"""Turn a session's records into the timeline a reviewer reads.

A step with a proposal and no outcome is *interrupted* once its process is gone or its session
has ended: the write-ahead record proves it was about to run, and nothing says it finished.

A session can hold a hundred thousand steps, so the store-backed reader pages: the session's
frame (start, end, alerts) is read by record type, and steps arrive in chunks fetched by
indexed queries, never the whole session at once.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from oversight._processes import pid_alive
from oversight.records import (
    Alert,
    Record,
    SessionEnded,
    SessionStarted,
    StepFinished,
    StepProposed,
)
from oversight.store import SQLStore

_T = TypeVar("_T")
FRAME_TYPES = ("session.started", "session.ended", "alert")
CHUNK = 200
"""Steps fetched (and rendered) together; their outcomes come in one query per chunk."""


@dataclass
class StepView:
    proposed: StepProposed
    finished: StepFinished | None = None
    depth: int = 0
    status: str = "running"

    @property
    def duration_ms(self) -> float | None:
        return self.finished.duration_ms if self.finished else None


@dataclass
class SessionView:
    session_id: str
    started: SessionStarted | None = None
    ended: SessionEnded | None = None
    steps: list[StepView] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    status: str = "running"

    @property
    def agent(self) -> str | None:
        return self.started.agent if self.started else None

    @property
    def started_at(self) -> _dt.datetime | None:
        return self.started.ts if self.started else None

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for step in self.steps:
            out[step.status] = out.get(step.status, 0) + 1
        return out


def process_alive(started: SessionStarted | None) -> bool | None:
    """Whether the session's process still runs; None when it ran on another host."""
    if started is None or started.host != socket.gethostname():
        return None
    return pid_alive(started.pid)


def _add_frame_record(view: SessionView, record: Record) -> bool:
    """Put a start, end or alert record into the view; False for any other record."""
    if isinstance(record, SessionStarted):
        view.started = record
    elif isinstance(record, SessionEnded):
        view.ended = record
    elif isinstance(record, Alert):
        view.alerts.append(record)
    else:
        return False
    return True


def _settle_status(view: SessionView) -> bool:
    """Set the session's status; True when its steps can no longer be running."""
    alive = process_alive(view.started)
    if view.ended is not None:
        view.status = view.ended.status
    elif alive is False:
        view.status = "interrupted"
    else:
        view.status = "running" if alive else "unknown (no end record; other host)"
    return view.ended is not None or alive is False


def _step_status(step: StepView, gone: bool) -> str:
    if step.finished is not None:
        return step.finished.status
    return "interrupted" if gone else "running"


def build_session(session_id: str, records: Iterable[Record]) -> SessionView:
    view = SessionView(session_id)
    by_step: dict[str, StepView] = {}
    for record in records:
        if _add_frame_record(view, record):
            continue
        if isinstance(record, StepProposed):
            parent = by_step.get(record.parent_id) if record.parent_id else None
            step = StepView(record, depth=parent.depth + 1 if parent else 0)
            by_step[record.step_id] = step
            view.steps.append(step)
        elif isinstance(record, StepFinished):
            known = by_step.get(record.step_id)
            if known is not None:
                known.finished = record
    gone = _settle_status(view)
    for step in view.steps:
        step.status = _step_status(step, gone)
    view.steps.sort(key=lambda s: s.proposed.seq)
    return view


@dataclass
class SessionPages:
    """A stored session read a page at a time: `view` holds its frame (start, end, alerts and
    status, no steps), `total_steps` how many steps it has; `steps()` fetches them."""

    store: SQLStore
    view: SessionView
    total_steps: int
    gone: bool
    _depths: dict[str, int] = field(default_factory=dict)

    @classmethod
    def open(cls, store: SQLStore, session_id: str) -> SessionPages | None:
        """The session's frame, or None if the store holds no record of it."""
        view = SessionView(session_id)
        framed = False
        for stored in store.iter_records(session_id, types=FRAME_TYPES):
            framed = _add_frame_record(view, stored.record) or framed
        total = store.count(session_id, types=("step.proposed",))
        if not framed and total == 0:
            return None
        gone = _settle_status(view)
        return cls(store, view, total, gone)

    def steps(self, *, offset: int = 0, limit: int | None = None) -> Iterator[list[StepView]]:
        """Steps in recorded order, `limit` of them (None: all) after the first `offset`, in
        chunks of `CHUNK`, each with its outcome and nesting depth."""
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError(f"offset and limit must not be negative, got {offset}, {limit}")
        sid = self.view.session_id
        batch = CHUNK if limit is None else max(1, min(limit, 1000))
        proposals = self.store.iter_records(sid, types=("step.proposed",), skip=offset, batch=batch)
        wanted = proposals if limit is None else itertools.islice(proposals, limit)
        for chunk in _batched(wanted, CHUNK):
            props = [stored.record for stored in chunk if isinstance(stored.record, StepProposed)]
            outcomes = self._outcomes([p.step_id for p in props], after_seq=chunk[0].seq)
            self._learn_depths(props)
            views = [
                StepView(p, outcomes.get(p.step_id), depth=self._depths.get(p.step_id, 0))
                for p in props
            ]
            for step in views:
                step.status = _step_status(step, self.gone)
            yield sorted(views, key=lambda s: s.proposed.seq)

    def _outcomes(self, step_ids: list[str], *, after_seq: int) -> dict[str, StepFinished]:
        found = self._first_by_step("step.finished", step_ids, after_seq=after_seq)
        return {sid: r for sid, r in found.items() if isinstance(r, StepFinished)}

    def _first_by_step(
        self, type_: str, step_ids: Iterable[str], *, after_seq: int = 0
    ) -> dict[str, Record]:
        """The first record of `type_` for each step id. Asking for as many rows as there are
        ids lets the database stop scanning once all are found (there is no index by step id);
        only a step without such a record makes it read on to the session's end."""
        found: dict[str, Record] = {}
        for ids in _batched(sorted(set(step_ids)), 500):
            need = set(ids)
            for stored in self.store.iter_records(
                self.view.session_id,
                types=(type_,),
                step_ids=ids,
                after_seq=after_seq,
                batch=len(ids),
            ):
                step_id = getattr(stored.record, "step_id", None)
                if step_id in need:
                    found[step_id] = stored.record
                    need.discard(step_id)
                    if not need:
                        break
        return found

    def _learn_depths(self, props: list[StepProposed]) -> None:
        """Depth of each step: its parent's plus one. Parents before the page (or the chunk)
        are fetched by id, a generation per query."""
        known = self._depths
        parents = {p.step_id: p.parent_id for p in props}
        missing = {pid for pid in parents.values() if pid and pid not in known}
        missing -= set(parents)
        while missing:
            fetched = {
                sid: record.parent_id
                for sid, record in self._first_by_step("step.proposed", missing).items()
                if isinstance(record, StepProposed)
            }
            parents.update(fetched)
            for gone in missing - set(fetched):
                parents[gone] = None  # a parent that was never recorded: treat as a root
            missing = {pid for pid in fetched.values() if pid and pid not in known}
            missing -= set(parents)
        for step_id in parents:
            _depth(step_id, parents, known)


def _batched(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """itertools.batched, which Python 3.11 lacks."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _depth(step_id: str, parents: dict[str, str | None], known: dict[str, int]) -> int:
    chain: list[str] = []
    current: str | None = step_id
    while current is not None and current not in known and current not in chain:
        chain.append(current)
        current = parents.get(current)
    depth = known[current] + 1 if current is not None and current in known else 0
    for sid in reversed(chain):
        known[sid] = depth
        depth += 1
    return known[step_id]
