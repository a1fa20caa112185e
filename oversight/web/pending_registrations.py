"""Passkeys registered in the browser, waiting for an admin: one JSON file each, in the app's
state folder (`<state_dir>/pending/<id>.json`), never a reviewer row.

A registration is nobody until an admin endorses it, so it stays out of the store. Each file is
exactly what `oversight reviewer add NAME --passkey FILE` reads (the fields of
`passkeys.pending_registration`, plus its id and when it was made), so an admin can endorse it
from the CLI on the server's machine or download it from the Reviewers page.
"""

from __future__ import annotations

import builtins
import datetime as _dt
import hashlib
import json
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from oversight.approvals.passkeys import (
    Passkey,
    parse_public_key,
    pending_registration,
    read_pending_registration,
)
from oversight.errors import ConfigError

MAX_PENDING = 200
"""Registrations kept waiting at most: anyone who reaches the app can register."""
_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class Pending:
    id: str
    name: str
    role: str
    public_key: str
    created_at: str
    path: Path

    @property
    def fingerprint(self) -> str:
        """What the registrant and the admin compare before an endorsement."""
        passkey = parse_public_key(self.public_key)
        return fingerprint(passkey.spki if passkey is not None else self.public_key.encode())

    @property
    def created(self) -> _dt.datetime | None:
        try:
            return _dt.datetime.fromisoformat(self.created_at)
        except ValueError:
            return None

    @property
    def credential_id(self) -> bytes:
        passkey = parse_public_key(self.public_key)
        return passkey.credential_id if passkey is not None else b""


def fingerprint(spki: bytes) -> str:
    """The first 16 hex digits of SHA-256 of the public key, in groups of four."""
    text = hashlib.sha256(spki).hexdigest()[:16]
    return " ".join(text[i : i + 4] for i in range(0, 16, 4))


class PendingRegistrations:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()

    def add(self, name: str, role: str, passkey: Passkey) -> Pending:
        """Keep a new registration; `ConfigError` when too many wait or the passkey already
        waits."""
        with self._lock:
            waiting = self.list()
            if len(waiting) >= MAX_PENDING:
                raise ConfigError(
                    f"{len(waiting)} registrations already wait for an admin; ask one to "
                    "endorse or decline them first"
                )
            if any(p.credential_id == passkey.credential_id for p in waiting):
                raise ConfigError("this passkey is already registered and waits for an admin")
            registration_id = secrets.token_urlsafe(12)
            document = {
                **pending_registration(name, role, passkey),
                "id": registration_id,
                "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            }
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{registration_id}.json"
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            os.replace(temporary, path)
        found = self.get(registration_id)
        assert found is not None
        return found

    def get(self, registration_id: str) -> Pending | None:
        if not _ID.match(registration_id):
            return None
        path = self.folder / f"{registration_id}.json"
        if not path.is_file():
            return None
        return _read(path)

    def list(self) -> builtins.list[Pending]:
        """Every readable registration, oldest first (an unreadable file is left out)."""
        if not self.folder.is_dir():
            return []
        found = [_read(path) for path in sorted(self.folder.glob("*.json"))]
        return sorted((p for p in found if p is not None), key=lambda p: (p.created_at, p.id))

    def settle(self, registered_keys: set[str]) -> builtins.list[Pending]:
        """The registrations still waiting, once those whose passkey is now a reviewer's
        (endorsed from the CLI, which does not know this folder) are removed."""
        waiting = []
        for pending in self.list():
            if pending.public_key in registered_keys:
                pending.path.unlink(missing_ok=True)
            else:
                waiting.append(pending)
        return waiting

    def remove(self, registration_id: str) -> bool:
        found = self.get(registration_id)
        if found is None:
            return False
        found.path.unlink(missing_ok=True)
        return True


def _read(path: Path) -> Pending | None:
    try:
        registration = read_pending_registration(path)
        extra = json.loads(path.read_text(encoding="utf-8"))
    except (ConfigError, OSError, ValueError):
        return None
    registration_id, created = extra.get("id"), extra.get("created_at")
    if not isinstance(registration_id, str) or registration_id != path.stem:
        return None
    return Pending(
        id=registration_id,
        name=registration.name,
        role=registration.role or "approver",
        public_key=registration.public_key,
        created_at=str(created or ""),
        path=path,
    )
