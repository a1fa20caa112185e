"""The recorder: the only way records reach the store and telemetry.

Cheap records are queued and written in batches by one background thread, off the agent's hot
path. Write-ahead records are written synchronously, after everything queued before them, so a
consequential step is durable before it runs and the store's order is the order of events.
Telemetry is fed from committed records only, in commit order, by the background thread.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from oversight._stderr import warn
from oversight.errors import StoreError, StoreUnavailableError
from oversight.records import Alert, Record, record_body


class RecordSink(Protocol):
    """What the recorder writes to: an audit store's append."""

    def append(self, records: Sequence[Record], *, durable: bool = True) -> Any: ...


class RecordConsumer(Protocol):
    """Best-effort follower of committed records (telemetry)."""

    def emit(self, records: Sequence[Record]) -> None: ...

    def close(self) -> None: ...


# A queued item is a record, or a function that builds one: cheap steps hand over their
# record's fields and the background thread pays for validation and serialisation.
Pending = Record | Callable[[], Record]

# Records held in memory while the store is slow or down. Past this many, the oldest half is
# spilled to a local JSONL file beside the store (counted in `spilled_records`, and warned about
# with the file's path and the command that loads it), so the agent's memory stays bounded and
# nothing is lost. A record that can be neither held nor spilled is counted in `lost_records`
# and warned about, never dropped silently. 10,000 queued records are a few tens of MiB at most
# (a record's strings are cut at `max_arg_chars`); a healthy store keeps the queue near zero.
MAX_QUEUED = 10_000
CATCH_UP_S = 2.0
RECORDER_SESSION = "oversight:recorder"
"""The session id of the alerts the recorder itself writes (records it had to spill or lost)."""
STUCK_AFTER_S = 1.0


class Recorder:
    def __init__(
        self,
        store: RecordSink,
        *,
        consumers: Sequence[RecordConsumer] = (),
        flush_interval_s: float = 0.05,
        batch_size: int = 2000,
        spill_dir: Path | None = None,
        on_error: Callable[[str], None] | None = None,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        if max_queued < 2:
            raise ValueError(f"max_queued must be at least 2, got {max_queued!r}")
        self._store = store
        self._consumers = tuple(consumers)
        self._interval = flush_interval_s
        self._batch_size = batch_size
        self._spill_dir = spill_dir or Path(".oversight")
        self._on_error = on_error or warn
        self._max_queued = max_queued
        self._queue: collections.deque[Pending] = collections.deque()
        self._spill_lock = threading.Lock()
        self._committed: collections.deque[Record] = collections.deque()
        self._write_lock = threading.Lock()
        self._deliver_lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = False
        """The writer is asleep with nothing to do (no timed wake-ups: an idle monitor costs
        nothing); whoever gives it work wakes it."""
        self._stopping = False
        self._closed = False
        self._last_error: str | None = None
        self.written = 0
        self.spilled: list[Path] = []
        self._spilled_records = 0
        self._lost_records = 0
        self._reported_drops = (0, 0)
        self._last_progress = time.monotonic()
        """When the writer last finished a batch (or started): how a stuck store is told from
        a busy one."""
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="oversight-recorder", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Records queued and not yet written."""
        return len(self._queue)

    @property
    def idle(self) -> bool:
        """The writer is asleep with nothing queued: no timer wakes it until work arrives."""
        return self._idle

    @property
    def spilled_records(self) -> int:
        """Records saved to a spill file instead of the store (see `spilled` for the files)."""
        return self._spilled_records

    @property
    def lost_records(self) -> int:
        """Records neither written nor spilled (each loss was also warned about)."""
        return self._lost_records

    # -- the hot path -----------------------------------------------------------------------
    def submit(self, record: Pending) -> None:
        """Queue a record (or a function building it) for the next batched write."""
        queue = self._queue
        queue.append(record)
        if (self._idle or len(queue) >= self._batch_size) and not self._wake.is_set():
            self._wake.set()
        if len(queue) >= self._max_queued:
            self._spill_overflow()

    def _spill_overflow(self) -> None:
        """The store is not keeping up: move the oldest half of the queue to a spill file.

        Runs on the agent's thread without the write lock, which a writer stuck on a locked
        store may hold for the whole busy timeout: the agent pays one file write per
        `max_queued / 2` records instead of waiting on the store or growing without bound."""
        if not self._spill_lock.acquire(blocking=False):
            return  # another thread is spilling already
        try:
            if self._catch_up():
                return
            self._spill(self._drain(self._max_queued // 2))
        finally:
            self._spill_lock.release()

    def _catch_up(self) -> bool:
        """A healthy store that is only behind (a burst of cheap steps) gets to catch up: the
        agent waits for the writer, up to `CATCH_UP_S`, rather than records going to a side
        file. A store that has not written for a second is stuck: spill at once."""
        if not self._idle and time.monotonic() - self._last_progress > STUCK_AFTER_S:
            return False
        deadline = time.monotonic() + CATCH_UP_S
        self._wake.set()
        while time.monotonic() < deadline:
            if len(self._queue) < self._max_queued // 2:
                return True
            if time.monotonic() - self._last_progress > STUCK_AFTER_S:
                return False
            time.sleep(0.002)
        return len(self._queue) < self._max_queued

    def submit_durable(self, *records: Record, fsync: bool = True) -> None:
        """Write everything queued so far plus `records` now, in one transaction.

        Raises StoreUnavailableError when the store cannot be written: the caller must then not
        run the step these records announce. Nothing queued is dropped on failure.
        """
        with self._write_lock:
            pending = self._drain(len(self._queue))
            try:
                self._store.append([*pending, *records], durable=fsync)
            except StoreError as exc:
                self._queue.extendleft(reversed(pending))
                raise StoreUnavailableError(str(exc)) from exc
            except Exception as exc:
                self._queue.extendleft(reversed(pending))
                raise StoreUnavailableError(f"audit store write failed: {exc!r}") from exc
            self._committed.extend(pending)
            self._committed.extend(records)
            self.written += len(pending) + len(records)
        # Telemetry for these follows on the writer's next tick; waking a busy writer now would
        # cost the agent a thread switch on every write-ahead step. An idle one has no next
        # tick, so it is woken.
        if self._idle:
            self._wake.set()

    def flush(self, *, fsync: bool = True) -> None:
        """Write every queued record now, in one transaction. `fsync=False` (a session's end)
        commits without waiting for the disk, as batched records are: safe against a crash of
        this process, not of the machine."""
        self.submit_durable(fsync=fsync)
        self._deliver()

    # -- the background writer --------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self._sleep()
            self._wake.clear()
            stopping = self._stopping
            try:
                self._write_batches()
                self._last_progress = time.monotonic()
                self._record_drops()
            except Exception as exc:  # noqa: BLE001 - keep the writer alive; records stay queued
                self._report(f"audit store write failed, {len(self._queue)} records queued: {exc}")
                if len(self._queue) >= self._max_queued:
                    with self._spill_lock:
                        self._spill(self._drain(len(self._queue)))
                time.sleep(min(1.0, self._interval * 4))
            self._deliver()
            if stopping:
                return

    def _has_work(self) -> bool:
        return bool(self._queue or self._committed or self._stopping)

    def _sleep(self) -> None:
        """Until the batch interval is up while there is work; with none, until woken, then
        one interval more so the records of the next few steps share a transaction (a step
        every few milliseconds would otherwise cost a commit each)."""
        if self._has_work():
            self._wake.wait(self._interval)
            return
        self._idle = True
        # Looked at again after saying so: a record submitted in between either is seen here
        # or saw `_idle` and set the event, so the wait below returns at once.
        if not self._has_work():
            self._wake.wait()
        self._idle = False
        self._last_progress = time.monotonic()  # asleep is not stuck
        if not self._stopping and len(self._queue) < self._batch_size:
            self._wake.clear()
            self._wake.wait(self._interval)  # a full batch or close() ends it early

    def _write_batches(self) -> None:
        while self._queue:
            with self._write_lock:
                batch = self._drain(self._batch_size)
                if not batch:
                    return
                try:
                    self._store.append(batch, durable=False)
                except BaseException:
                    self._queue.extendleft(reversed(batch))
                    raise
                self._committed.extend(batch)
                self.written += len(batch)
                self._last_progress = time.monotonic()

    def _record_drops(self) -> None:
        """Once the store takes records again, it is told how many it did not get: records
        saved to spill files, and any lost, as an alert in the chain (said once per change)."""
        dropped = (self._spilled_records, self._lost_records)
        if dropped == self._reported_drops or dropped == (0, 0):
            return
        files = ", ".join(str(p) for p in self.spilled[-3:]) or "none"
        alert = Alert(
            session_id=RECORDER_SESSION,
            reason=(
                f"{dropped[0]} records could not be written in time and were saved to spill "
                f"files ({files}; load them with `oversight import`); {dropped[1]} were lost"
            ),
        )
        with self._write_lock:
            self._store.append([alert], durable=False)
        self._reported_drops = dropped

    def _drain(self, limit: int) -> list[Record]:
        queue = self._queue
        out: list[Record] = []
        while queue and len(out) < limit:
            item = queue.popleft()
            if callable(item):
                try:
                    item = item()
                except Exception as exc:  # noqa: BLE001 - one bad record must not stop the rest
                    self._lost_records += 1
                    self._report(
                        f"could not build a queued record, it is lost "
                        f"({self._lost_records} lost so far): {exc!r}"
                    )
                    continue
            out.append(item)
        return out

    def _deliver(self) -> None:
        """Hand committed records to consumers; one deliverer at a time keeps commit order."""
        if not self._committed:
            return
        with self._deliver_lock:
            self._deliver_locked()

    def _deliver_locked(self) -> None:
        batch = self._drain_committed()
        if not batch:
            return
        for consumer in self._consumers:
            try:
                consumer.emit(batch)
            except Exception as exc:  # noqa: BLE001 - telemetry is best effort by design
                self._report(f"telemetry consumer {type(consumer).__name__} failed: {exc!r}")

    def _drain_committed(self) -> list[Record]:
        committed = self._committed
        out: list[Record] = []
        while committed:
            out.append(committed.popleft())
        return out

    # -- shutdown and loss prevention -------------------------------------------------------
    def close(self) -> None:
        """Write what is queued; if the store cannot take it, spill it to a file and say where."""
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        self._wake.set()
        if os.getpid() == self._pid:
            self._thread.join(timeout=30)
        try:
            self.flush()
        except StoreUnavailableError as exc:
            self._report(f"could not write final records: {exc}")
            self._spill(self._drain(len(self._queue)))
        for consumer in self._consumers:
            try:
                consumer.close()
            except Exception as exc:  # noqa: BLE001
                self._report(f"telemetry consumer {type(consumer).__name__} close failed: {exc!r}")

    def _spill(self, records: list[Record]) -> None:
        if not records:
            return
        path = self._spill_dir / f"unwritten-{os.getpid()}-{time.time_ns()}.jsonl"
        try:
            self._spill_dir.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                for record in records:
                    fh.write(record_body(record))
                    fh.write("\n")
        except OSError as exc:
            # Neither the store nor the disk can take them: count the loss and say so, every time.
            self._lost_records += len(records)
            self._on_error(
                f"{len(records)} records could not be written to the audit store nor saved to "
                f"{path} ({exc}); they are lost ({self._lost_records} lost so far)"
            )
            return
        self.spilled.append(path)
        self._spilled_records += len(records)
        self._report(
            f"{len(records)} records could not be written to the audit store and were saved to "
            f"{path}; load them with `oversight import {path}` once the store is writable"
        )

    def _report(self, message: str) -> None:
        if message != self._last_error:
            self._last_error = message
            self._on_error(message)
