"""Notes, kept apart from every store, of which stores existed and how far their chains went.

A monitor started after `rm -rf .oversight` would otherwise create a fresh, empty store at the
same path and carry on as if nothing had been recorded before. Each monitor notes the store it
uses (its location and chain head) in the state folder, away from the store's own folder and
hidden from sandboxed steps; a later monitor that finds that store missing, emptied or behind
its note refuses every step that acts, as if the store had vanished under it.

Retiring a store on purpose: delete its note (the path is in the refusal message).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path


def state_folder() -> Path:
    """$XDG_STATE_HOME/agent-oversight (~/.local/state/agent-oversight by default)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "agent-oversight"


class KnownStores:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else state_folder() / "stores"

    def note_path(self, where: str) -> Path:
        digest = hashlib.sha256(where.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.folder / f"{digest}.json"

    def behind(self, where: str, seq: int) -> str | None:
        """Why a store whose chain head is `seq` is not the one noted at `where`, or None."""
        path = self.note_path(where)
        try:
            note = json.loads(path.read_text(encoding="utf-8"))
            noted = int(note["seq"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return f"the note of the store at {where} ({path}) is unreadable; delete it to go on"
        if seq >= noted:
            return None
        state = "a new, empty store" if seq == 0 else f"a store whose chain ends at record {seq}"
        return (
            f"the oversight store at {where} had {noted} records (noted {note.get('seen_at')}); "
            f"it is now {state}: it was deleted, emptied or replaced. Restore it; to retire it "
            f"on purpose, delete {path}"
        )

    def note(self, where: str, seq: int) -> None:
        """Remember `seq` as the least the store at `where` must have from now on. Best effort:
        a folder that cannot be written loses the note, never the step."""
        path = self.note_path(where)
        body = {
            "store": where,
            "seq": seq,
            "seen_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(body), encoding="utf-8")
            os.replace(tmp, path)

    def forget_file(self, path: str | os.PathLike[str]) -> bool:
        """`forget` for a SQLite store, keyed by its real path as the store guard keys it."""
        return self.forget(os.path.realpath(path))

    def forget(self, where: str) -> bool:
        """Drop the note of the store at `where` (retired on purpose); whether there was one."""
        try:
            self.note_path(where).unlink()
        except FileNotFoundError:
            return False
        return True
