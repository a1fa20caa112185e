"""Records as structlog events: one event per record, named for its `type`.

A library must not reconfigure the application's structlog, so every sink except 'structlog' gets
a private pipeline of its own; 'structlog' hands events to the application's configuration.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Protocol, TextIO

import structlog
from pydantic_core import to_json

from oversight.errors import ConfigError
from oversight.records import Record

SINKS: tuple[str, ...] = ("stderr", "stdout", "structlog", "none")
FORMATS: tuple[str, ...] = ("json", "console")
LOGGER_NAME = "oversight"


class Sink(Protocol):
    """Where rendered lines go: an open text file or stream, or a file opened on first write."""

    def write(self, text: str, /) -> int: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class EventLog:
    """Writes each record as one event to a configured sink."""

    def __init__(
        self,
        logger: Any,
        file: Sink | None = None,
        *,
        splice_json: bool = False,
        stream: Sink | None = None,
    ) -> None:
        self._logger = logger
        self._file = file  # only a file we opened ourselves; closed by close()
        self._stream = stream if stream is not None else file
        self._splice = splice_json

    def write(self, record: Record) -> None:
        if self._splice:
            # Our own JSON pipeline: hand it the record's JSON text, rendered once by pydantic,
            # instead of a dict of fields it would serialise again.
            self._logger.info(record.type, **{_BODY_KEY: record.model_dump_json()})
            return
        fields = record.model_dump(mode="json")
        self._logger.info(fields["type"], logger=LOGGER_NAME, **fields)

    def flush(self) -> None:
        """Called once per batch: files are block-buffered, not flushed line by line."""
        if self._stream is not None:
            self._stream.flush()

    def close(self) -> None:
        file, self._file = self._file, None
        self._stream = None
        if file is not None:
            file.close()


def open_event_log(log: str, log_format: str, *, lazy: bool = False) -> EventLog | None:
    """The event log for a `log` sink and format, or None when events are disabled.

    Raises ConfigError naming the bad value when the sink or format cannot be used. `lazy`: a
    file is created at the first event, not now (the default file nobody asked for by name:
    a monitor that records nothing leaves none, and a failure to open it is a telemetry error,
    reported, not a crash).
    """
    if log_format not in FORMATS:
        raise ConfigError(
            f"invalid log format {log_format!r}; accepted: {', '.join(map(repr, FORMATS))}"
        )
    if log == "none":
        return None
    if log == "structlog":
        # Left lazy: each event goes through the application's configuration as it is then.
        return EventLog(structlog.get_logger(LOGGER_NAME))
    splice = log_format == "json"
    if log == "stderr":
        return EventLog(
            _private_logger(sys.stderr, log_format), splice_json=splice, stream=sys.stderr
        )
    if log == "stdout":
        return EventLog(
            _private_logger(sys.stdout, log_format), splice_json=splice, stream=sys.stdout
        )
    file: Sink = _FileOnFirstWrite(log) if lazy else _open_file(log)
    return EventLog(_private_logger(file, log_format), file, splice_json=splice)


def _open_file(log: str) -> TextIO:
    accepted = f"accepted: {', '.join(map(repr, SINKS))} or a writable file path"
    if log.strip() == "":
        raise ConfigError(f"invalid log sink {log!r}; {accepted}")
    path = Path(log).expanduser()
    if path.is_dir():
        raise ConfigError(f"invalid log sink {log!r}: it is a directory; {accepted}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"invalid log sink {log!r}: cannot open it for appending ({exc.strerror}); {accepted}"
        ) from None


class _FileOnFirstWrite:
    """A file opened for appending when something is first written to it."""

    def __init__(self, log: str) -> None:
        self._log = log
        self._file: TextIO | None = None

    def write(self, text: str) -> int:
        if self._file is None:
            self._file = _open_file(self._log)
        return self._file.write(text)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()


_BODY_KEY = "_oversight_record_json"


def _render_json(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> str:
    """JSON renderer that splices the record's pre-rendered JSON into the event line."""
    body = event_dict.pop(_BODY_KEY, None)
    event_dict.setdefault("logger", LOGGER_NAME)
    head = to_json(dict(event_dict), fallback=str).decode("utf-8")
    if body is None or len(body) < 3:
        return head
    return f"{head[:-1]},{body[1:]}"


class _BufferedWriteLogger:
    """Like structlog's WriteLogger without a flush per line; EventLog.flush runs per batch."""

    def __init__(self, file: Sink) -> None:
        self._write = file.write

    def msg(self, message: str) -> None:
        self._write(message + "\n")

    log = debug = info = warn = warning = error = critical = exception = fatal = failure = msg


def _private_logger(file: Sink, log_format: str) -> Any:
    renderer: structlog.typing.Processor
    if log_format == "json":
        renderer = _render_json
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False, timestamp_key="ts")
    # Every part is passed explicitly so nothing is read from the global structlog config.
    return structlog.wrap_logger(
        _BufferedWriteLogger(file),
        processors=[structlog.processors.add_log_level, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET),
        context_class=dict,
        cache_logger_on_first_use=True,
    ).bind()
