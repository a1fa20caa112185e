"""Best-effort telemetry for committed records: structlog events and OpenTelemetry spans.

The audit store is the source of truth. Telemetry runs on the recorder's background writer
thread after records are committed, so it must never raise into the recorder or block it for
long: errors are counted and reported on stderr at most once a minute.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider
from opentelemetry.trace import TracerProvider

from oversight._stderr import warn
from oversight.errors import ConfigError, MissingExtraError
from oversight.records import Record
from oversight.store.base import RecordLog
from oversight.telemetry.events import EventLog, open_event_log
from oversight.telemetry.from_env import provider_from_env
from oversight.telemetry.open_sessions import OpenSessionNotes
from oversight.telemetry.spans import SpanRecorder

WARNING_INTERVAL_S = 60.0
_clock = time.monotonic


class Telemetry:
    """Emits committed records as structlog events and, when tracing is set up, as spans.

    Spans are made only with a real tracer provider: the one passed in, else the global one once
    it is an SDK `TracerProvider` (checked on each batch until found, so an application may set
    it up after us). With no sink and no provider, `emit` does almost nothing.
    """

    failures: int

    def __init__(
        self,
        *,
        log: str = "stderr",
        log_format: str = "json",
        tracer_provider: TracerProvider | None = None,
        lazy_file: bool = False,
        store: RecordLog | None = None,
    ) -> None:
        """`store`: the monitor's. Spans then note which sessions are open on it, so one a
        killed agent left is made by the next monitor (`recover_abandoned`), and a call that
        resumes one deferred in another run is linked to it."""
        self._events: EventLog | None = open_event_log(log, log_format, lazy=lazy_file)
        self._lock = threading.Lock()
        self._closed = False
        self._last_warning: float | None = None
        self.failures = 0
        self._owned_provider: SDKTracerProvider | None = None
        """Built from the OTEL_* environment (see from_env.py): shut down, and so flushed, at
        close."""
        if tracer_provider is None and not isinstance(
            trace.get_tracer_provider(), SDKTracerProvider
        ):
            try:
                tracer_provider = self._owned_provider = provider_from_env()
            except (ConfigError, MissingExtraError) as exc:
                # Telemetry never stops the agent: the records are stored all the same.
                warn(f"{exc}; no spans are exported")
        self._explicit_provider = tracer_provider is not None
        self._store = store
        self._open_sessions = OpenSessionNotes(store.url_for_display) if store is not None else None
        self._spans: SpanRecorder | None = (
            self._span_recorder(tracer_provider) if tracer_provider is not None else None
        )

    def emit(self, records: Sequence[Record]) -> None:
        """Log and trace `records`, given in commit order. Never raises."""
        with self._lock:
            if self._closed:
                return
            try:
                events = self._events
                spans = self._spans if self._spans is not None else self._discover_spans()
                if events is None and spans is None:
                    return
                for record in records:
                    if events is not None:
                        try:
                            events.write(record)
                        except Exception as exc:  # noqa: BLE001 - telemetry must not break the agent
                            self._fail(exc)
                    if spans is not None:
                        try:
                            spans.handle(record)
                        except Exception as exc:  # noqa: BLE001
                            self._fail(exc)
                if events is not None:
                    events.flush()
            except Exception as exc:  # noqa: BLE001
                self._fail(exc)

    def recover_abandoned(self) -> int:
        """Make the spans of sessions on the store whose process died with them open (see
        `open_sessions`), from the stored records. How many; never raises."""
        with self._lock:
            spans = self._spans if self._spans is not None else self._discover_spans()
            store = self._store
            if spans is None or store is None or self._open_sessions is None or self._closed:
                return 0
            made = 0
            try:
                for note in self._open_sessions.abandoned():
                    records = [s.record for s in store.records_for_session(note.session_id)]
                    made += spans.recover(records)
            except Exception as exc:  # noqa: BLE001 - telemetry must not break the agent
                self._fail(exc)
            return made

    def close(self) -> None:
        """End still-open spans as interrupted and close a log file we opened. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._spans is not None:
                try:
                    self._spans.close()
                except Exception as exc:  # noqa: BLE001
                    self._fail(exc)
            if self._events is not None:
                try:
                    self._events.close()
                except Exception as exc:  # noqa: BLE001
                    self._fail(exc)
            if self._owned_provider is not None:
                try:
                    self._owned_provider.shutdown()  # exports what the batch still holds
                except Exception as exc:  # noqa: BLE001
                    self._fail(exc)

    def _discover_spans(self) -> SpanRecorder | None:
        if self._explicit_provider:
            return None
        provider = trace.get_tracer_provider()
        if isinstance(provider, SDKTracerProvider):
            self._spans = self._span_recorder(provider)
        return self._spans

    def _span_recorder(self, provider: TracerProvider) -> SpanRecorder:
        store = self._store
        return SpanRecorder(
            provider,
            self._fail,
            notes=self._open_sessions,
            stored=(
                (lambda session_id: [s.record for s in store.records_for_session(session_id)])
                if store is not None
                else None
            ),
        )

    def _fail(self, exc: Exception) -> None:
        self.failures += 1
        now = _clock()
        if self._last_warning is not None and now - self._last_warning < WARNING_INTERVAL_S:
            return
        self._last_warning = now
        stream = sys.stderr
        if stream is None:
            return
        try:
            stream.write(
                f"oversight: telemetry error, records are still stored: "
                f"{type(exc).__name__}: {exc} ({self.failures} so far; further errors are "
                f"counted but not shown for {WARNING_INTERVAL_S:.0f}s)\n"
            )
            stream.flush()
        except Exception:  # noqa: BLE001, S110 - nowhere left to report to
            pass
