"""Records as structlog events: one event per record, named for its `type`.

A library must not reconfigure the application's structlog, so every sink except 'structlog' gets
a private pipeline of its own; 'structlog' hands events to the application's configuration.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, TextIO

import structlog
from pydantic_core import to_json

from oversight.errors import ConfigError
from oversight.records import Record

SINKS: tuple[str, ...] = ("stderr", "stdout", "structlog", "none")
FORMATS: tuple[str, ...] = ("json", "console")
LOGGER_NAME = "oversight"


class EventLog:
    """Writes each record as one event to a configured sink."""

    def __init__(self, logger: Any, file: TextIO | None = None) -> None:
        self._logger = logger
        self._file = file  # only a file we opened ourselves; closed by close()

    def write(self, record: Record) -> None:
        fields = record.model_dump(mode="json")
        self._logger.info(fields["type"], logger=LOGGER_NAME, **fields)

    def flush(self) -> None:
        """Called once per batch: files are block-buffered, not flushed line by line."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()


def open_event_log(log: str, log_format: str) -> EventLog | None:
    """The event log for a `log` sink and format, or None when events are disabled.

    Raises ConfigError naming the bad value when the sink or format cannot be used.
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
    if log == "stderr":
        return EventLog(_private_logger(sys.stderr, log_format))
    if log == "stdout":
        return EventLog(_private_logger(sys.stdout, log_format))
    file = _open_file(log)
    return EventLog(_private_logger(file, log_format), file)


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


def _to_json_text(obj: Any, **_: Any) -> str:
    # pydantic-core's serializer: several times faster than json.dumps on event dicts.
    return to_json(obj, fallback=str).decode("utf-8")


def _private_logger(file: TextIO, log_format: str) -> Any:
    renderer: structlog.typing.Processor
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer(serializer=_to_json_text)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False, timestamp_key="ts")
    # Every part is passed explicitly so nothing is read from the global structlog config.
    return structlog.wrap_logger(
        structlog.WriteLogger(file),
        processors=[structlog.processors.add_log_level, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET),
        context_class=dict,
        cache_logger_on_first_use=True,
    ).bind()
