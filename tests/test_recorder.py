"""The recorder on its own (issue 13): ordering, durability, failure and telemetry hand-off,
against an in-memory sink that can be made to fail. Spilling under a stuck store is covered with
a real store in tests/test_memory_bounded.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest

from oversight._recorder import Recorder
from oversight.errors import StoreUnavailableError
from oversight.records import Alert, Record


def alert(n: int) -> Alert:
    return Alert(session_id="s", reason=f"r{n}")


class Sink:
    """Appends batches to a list; `failing` makes every append raise."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.durable: list[bool] = []
        self.failing = False

    def append(self, records: Sequence[Record], *, durable: bool = True) -> None:
        if self.failing:
            raise StoreUnavailableError("the store is down")
        self.batches.append([r.reason for r in records if isinstance(r, Alert)])
        self.durable.append(durable)

    @property
    def written(self) -> list[str]:
        return [reason for batch in self.batches for reason in batch]


class Consumer:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.closed = False

    def emit(self, records: Sequence[Record]) -> None:
        self.seen.extend(r.reason for r in records if isinstance(r, Alert))

    def close(self) -> None:
        self.closed = True


def until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


@pytest.fixture
def sink() -> Sink:
    return Sink()


def test_a_durable_write_carries_everything_queued_before_it_in_order(sink: Sink) -> None:
    recorder = Recorder(sink, flush_interval_s=60.0)  # the writer would not wake on its own
    try:
        recorder.submit(alert(1))
        recorder.submit(lambda: alert(2))  # built when written
        recorder.submit_durable(alert(3))
        assert sink.written == ["r1", "r2", "r3"]
        assert sink.durable[-1] is True and recorder.pending == 0
    finally:
        recorder.close()


def test_an_idle_writer_is_woken_by_work_and_sleeps_without_a_timer(sink: Sink) -> None:
    recorder = Recorder(sink, flush_interval_s=0.01)
    try:
        assert until(lambda: recorder.idle)
        recorder.submit(alert(1))
        assert until(lambda: sink.written == ["r1"]), "the writer was not woken"
        assert sink.durable == [False]  # batched: no fsync per record
        assert until(lambda: recorder.idle)
    finally:
        recorder.close()


def test_a_failed_durable_write_raises_and_keeps_what_was_queued(sink: Sink) -> None:
    recorder = Recorder(sink, flush_interval_s=60.0)
    try:
        recorder.submit(alert(1))
        sink.failing = True
        with pytest.raises(StoreUnavailableError, match="down"):
            recorder.submit_durable(alert(2))
        assert recorder.pending == 1  # the queued record, not the refused one
        sink.failing = False
        recorder.flush()
        assert sink.written == ["r1"]
    finally:
        recorder.close()


def test_a_record_that_cannot_be_built_is_counted_lost_and_the_rest_written(sink: Sink) -> None:
    warnings: list[str] = []
    recorder = Recorder(sink, flush_interval_s=60.0, on_error=warnings.append)
    try:

        def broken() -> Alert:
            raise ValueError("bad field")

        recorder.submit(alert(1))
        recorder.submit(broken)
        recorder.submit(alert(3))
        recorder.flush()
        assert sink.written == ["r1", "r3"]
        assert recorder.lost_records == 1
        assert any("bad field" in w for w in warnings)
    finally:
        recorder.close()


def test_consumers_see_only_committed_records_in_commit_order(sink: Sink) -> None:
    consumer = Consumer()
    recorder = Recorder(sink, consumers=[consumer], flush_interval_s=60.0)
    sink.failing = True
    recorder.submit(alert(1))
    with pytest.raises(StoreUnavailableError):
        recorder.flush()
    assert consumer.seen == []  # nothing the store did not take
    sink.failing = False
    threads = [threading.Thread(target=recorder.submit, args=(alert(n),)) for n in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorder.flush()
    assert consumer.seen == sink.written and sink.written[0] == "r1"
    recorder.close()
    assert consumer.closed


def test_close_writes_what_is_queued_and_spills_what_the_store_refuses(
    sink: Sink, tmp_path: object
) -> None:
    from pathlib import Path

    spill = Path(str(tmp_path)) / "spill"
    warnings: list[str] = []
    recorder = Recorder(sink, flush_interval_s=60.0, spill_dir=spill, on_error=warnings.append)
    recorder.submit(alert(1))
    sink.failing = True
    recorder.close()
    assert recorder.spilled_records == 1 and recorder.lost_records == 0
    files = list(spill.glob("unwritten-*.jsonl"))
    assert len(files) == 1 and '"reason":"r1"' in files[0].read_text()
    assert any("oversight import" in w for w in warnings)


def test_a_sessions_end_flush_commits_without_waiting_for_the_disk(sink: Sink) -> None:
    """`flush(fsync=False)` (Session.end) writes everything now, as a batch is written; the
    default flush and every write-ahead record wait for the disk."""
    recorder = Recorder(sink, flush_interval_s=60.0)
    try:
        recorder.submit(alert(1))
        recorder.flush(fsync=False)
        recorder.submit(alert(2))
        recorder.flush()
        assert sink.batches == [["r1"], ["r2"]]
        assert sink.durable == [False, True]
    finally:
        recorder.close()
