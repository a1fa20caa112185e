"""Notes of the sessions whose span is still open, so a killed agent's session is still shown.

A session's span is exported when the session ends. An agent killed before that leaves its
exported steps pointing at a parent that never arrives. While a session's span is open, a note
in the state folder (away from the store, hidden from sandboxed steps) says which store holds it
and which process runs it; the note goes when the span ends. A later monitor on the same store
finds the notes of processes that are gone, claims each (a rename: one monitor wins), and makes
the session's span again from the stored records (`span_ids` gives it the same ids), ended as
interrupted. Best effort throughout: telemetry never stops an agent.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from oversight._known_stores import state_folder
from oversight._processes import pid_alive


@dataclass(frozen=True, slots=True)
class OpenSessionNote:
    session_id: str
    store: str
    """The store's URL as displayed (no password): which monitors may close it."""
    pid: int
    host: str
    path: Path


class OpenSessionNotes:
    def __init__(self, store: str, folder: Path | None = None) -> None:
        self.store = store
        self.folder = folder if folder is not None else state_folder() / "open-sessions"

    def opened(self, session_id: str) -> None:
        body = {
            "session_id": session_id,
            "store": self.store,
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        path = self._path(session_id)
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            partial = path.with_suffix(f".{os.getpid()}.partial")
            partial.write_text(json.dumps(body), encoding="utf-8")
            os.replace(partial, path)

    def closed(self, session_id: str) -> None:
        with contextlib.suppress(OSError):
            self._path(session_id).unlink()

    def abandoned(self) -> Iterator[OpenSessionNote]:
        """The notes on this store of processes on this host that are gone, each claimed (and
        removed) for the caller alone."""
        try:
            paths = sorted(self.folder.glob("*.json"))
        except OSError:
            return
        host = socket.gethostname()
        for path in paths:
            note = _read(path)
            if note is None or note.store != self.store or note.host != host:
                continue
            if pid_alive(note.pid):
                continue
            claimed = path.with_suffix(f".claimed-{os.getpid()}")
            try:
                os.rename(path, claimed)  # atomic: of two monitors, one gets it
            except OSError:
                continue
            with contextlib.suppress(OSError):
                claimed.unlink()
            yield note

    def _path(self, session_id: str) -> Path:
        key = hashlib.sha256(f"{self.store}\0{session_id}".encode("utf-8", "surrogatepass"))
        return self.folder / f"{key.hexdigest()[:32]}.json"


def _read(path: Path) -> OpenSessionNote | None:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return OpenSessionNote(
            str(body["session_id"]), str(body["store"]), int(body["pid"]), str(body["host"]), path
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # half-written or foreign: not ours to act on
