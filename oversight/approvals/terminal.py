"""Answering approvals at the agent's own terminal: the person at the keyboard decides.

The prompt runs in the agent's process, so it must not hold anything the agent could use to
approve its own steps. It signs with the reviewer's passphrase-protected key; the passphrase is
read from the controlling terminal with echo off, never from an argument or the environment, and
the decrypted key lives only for the one vote. The vote is an ordinary signed vote: the waiting
monitor verifies it like any other, and `oversight approve` from elsewhere still works.
"""

from __future__ import annotations

import contextlib
import json
import os
import termios
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oversight.approvals.broker import ApprovalRequest
from oversight.approvals.signing import key_is_encrypted, load_private_key
from oversight.approvals.votes import ApprovalClosed, cast_vote
from oversight.errors import ConfigError, OversightError
from oversight.store import open_store

PASSPHRASE_ATTEMPTS = 3
_CHOICES = {"a": "approve", "d": "deny", "m": "modify", "s": "skip"}


def parse_prompt_reviewer(value: str) -> tuple[str, Path]:
    """`NAME:KEYFILE` (OVERSIGHT_PROMPT_REVIEWER) → (name, key path)."""
    name, sep, path = value.partition(":")
    if not sep or not name or not path:
        raise ConfigError(
            f"OVERSIGHT_PROMPT_REVIEWER {value!r} is not NAME:KEYFILE (e.g. alice:~/alice.pem)"
        )
    return name, Path(path).expanduser()


def terminal_available(tty_path: str = "/dev/tty") -> bool:
    try:
        fd = os.open(tty_path, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


class TerminalReviewer:
    """An approval channel (`Monitor(on_approval_request=...)`) that asks at the terminal."""

    def __init__(
        self, store_url: str, reviewer: str, key_path: Path, *, tty_path: str = "/dev/tty"
    ) -> None:
        if not key_path.is_file():
            raise ConfigError(f"reviewer key {str(key_path)!r} does not exist")
        if not key_is_encrypted(key_path):
            raise ConfigError(
                f"reviewer key {str(key_path)!r} has no passphrase; the terminal prompt runs in "
                "the agent's process and needs one (`oversight reviewer add NAME --passphrase`)"
            )
        self.store_url = store_url
        self.reviewer = reviewer
        self.key_path = key_path
        self.tty_path = tty_path
        self._one_at_a_time = threading.Lock()

    def __call__(self, request: ApprovalRequest) -> None:
        # The monitor waits for votes meanwhile; answering happens beside it.
        threading.Thread(
            target=self._ask, args=(request,), name="oversight-prompt", daemon=True
        ).start()

    def _ask(self, request: ApprovalRequest) -> None:
        with self._one_at_a_time, _terminal(self.tty_path) as tty:
            try:
                self._converse(tty, request)
            except (OversightError, OSError, EOFError) as exc:
                _say(tty, f"oversight: no vote recorded ({exc}); the step waits for its deadline")

    def _converse(self, tty: _Tty, request: ApprovalRequest) -> None:
        _say(tty, "")
        _say(tty, f"oversight: approval {request.approval_id} needed ({request.quorum} x "
                  f"{request.role}, deadline {request.deadline})")  # fmt: skip
        _say(tty, f"  {request.kind}: {request.name} {json.dumps(request.args)[:2000]}")
        _say(tty, f"  why: {request.reason}" + (f" (rule {request.rule})" if request.rule else ""))
        choice = _ask(tty, f"  {self.reviewer}, approve / deny / modify / skip? [a/d/m/s] ")
        while (choice := choice.strip().lower()[:1]) not in _CHOICES:
            # Enter is never a decision: a stray keypress must not approve or deny anything.
            choice = _ask(tty, "  type a, d, m or s (s: leave it to others or the deadline) ")
        decision = _CHOICES[choice]
        if decision == "skip":
            _say(tty, "  skipped: the step waits for another reviewer or its deadline")
            return
        reason, patch = "", None
        if decision == "deny":
            reason = _ask(tty, "  reason (the agent is told): ").strip() or "denied at the terminal"
        elif decision == "modify":
            patch = _read_patch(tty, request.args)
            reason = _ask(tty, "  note (optional): ").strip()
        key = self._unlock(tty)
        with open_store(self.store_url) as store:
            row = store.approval(request.approval_id)
            if row is None:
                _say(tty, f"  approval {request.approval_id} is gone; nothing recorded")
                return
            try:
                cast_vote(store, row, self.reviewer, key, decision, reason, args_patch=patch)
            except ApprovalClosed as exc:
                _say(tty, f"  nothing recorded: {exc}")
                return
        _say(tty, f"  {decision} signed by {self.reviewer} and recorded")

    def _unlock(self, tty: _Tty) -> Any:
        for attempt in range(1, PASSPHRASE_ATTEMPTS + 1):
            secret = _ask_hidden(tty, f"  passphrase for {self.key_path.name}: ")
            try:
                return load_private_key(self.key_path, passphrase=secret.encode("utf-8"))
            except ConfigError as exc:
                _say(tty, f"  {exc} ({attempt}/{PASSPHRASE_ATTEMPTS})")
        raise ConfigError("too many wrong passphrases")


def _read_patch(tty: _Tty, args: dict[str, object]) -> dict[str, Any]:
    _say(tty, f"  arguments: {', '.join(sorted(args))}")
    _say(tty, "  enter NAME=VALUE lines (JSON values, or text), then an empty line")
    patch: dict[str, Any] = {}
    while True:
        line = _ask(tty, "  > ").strip()
        if not line:
            if patch:
                return patch
            _say(tty, "  change at least one argument")
            continue
        name, sep, raw = line.partition("=")
        if not sep or name not in args:
            _say(tty, f"  not NAME=VALUE with NAME one of {sorted(args)}")
            continue
        try:
            patch[name] = json.loads(raw)
        except ValueError:
            patch[name] = raw


class _Tty:
    """The controlling terminal, read a line at a time (terminals are not seekable files)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._pending = b""

    def write(self, text: str) -> None:
        os.write(self.fd, text.encode("utf-8"))

    def readline(self) -> str:
        while b"\n" not in self._pending:
            chunk = os.read(self.fd, 1024)
            if not chunk:
                raise EOFError("the terminal closed")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode("utf-8", "replace").rstrip("\r")


@contextlib.contextmanager
def _terminal(path: str) -> Iterator[_Tty]:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    try:
        yield _Tty(fd)
    finally:
        os.close(fd)


def _say(tty: _Tty, text: str) -> None:
    tty.write(text + "\n")


def _ask(tty: _Tty, prompt: str) -> str:
    tty.write(prompt)
    return tty.readline()


def _ask_hidden(tty: _Tty, prompt: str) -> str:
    fd = tty.fd
    old = termios.tcgetattr(fd)
    new = list(old)
    new[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSAFLUSH, new)
    try:
        return _ask(tty, prompt)
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, old)
        _say(tty, "")
