"""One readable line at the agent's terminal when a step waits for a person, or cannot get one.

Without it a waiting agent simply stops: the person who started it sees nothing that says what
waits, why, for how long, or how to answer. The line names the approval and gives the exact
`oversight approve` / `oversight deny` commands (with `--db` when the store is not the default
one). It goes to stderr, is off with `OVERSIGHT_NOTICE=none`, and is not printed while the
terminal prompt (`OVERSIGHT_PROMPT_REVIEWER`) asks the same question itself.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

from oversight.approvals.broker import ApprovalRequest
from oversight.decide import Proposal
from oversight.settings import resolve_db_url

_CALL_CHARS = 160


class TerminalNotice:
    """The monitor's `Notice`: writes each line to stderr as it is then (so a redirected or
    captured stderr gets it too); a stream that cannot be written is not the agent's problem."""

    def __init__(self, store_url: str) -> None:
        self.db_option = db_option(store_url)

    def waiting(self, request: ApprovalRequest, timeout_s: float) -> None:
        aid = request.approval_id
        usual = request.quorum == 1 and request.role == "approver"
        needs = "" if usual else f"; needs {request.quorum} x {request.role}"
        self._say(
            f"oversight: waiting up to {_duration(timeout_s)} (until {request.deadline}) for "
            f"approval {aid} — {_call(request.name, request.kind, request.args)}: "
            f"{_why(request.reason, request.rule)}{needs}; answer: "
            f"oversight approve {aid} --as NAME --key KEYFILE{self.db_option} "
            f"(or oversight deny {aid} --as NAME --key KEYFILE --reason WHY{self.db_option})"
        )

    def unreviewable(self, proposal: Proposal, reason: str, rule: str | None, why: str) -> None:
        self._say(
            f"oversight: denied — {_call(proposal.name, proposal.kind.value, proposal.shown())}: "
            f"{_why(reason, rule)}; it needs a reviewer and none can answer ({why}). "
            f"Register one: oversight reviewer add NAME --role admin --key-out NAME.pem"
            f"{self.db_option}"
        )

    @staticmethod
    def _say(line: str) -> None:
        stream = sys.stderr
        if stream is None:
            return
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass


def db_option(store_url: str) -> str:
    """` --db …` for a reviewer's command, or "" when the CLI's default store is this one.

    A SQLite path is made absolute (the reviewer may be elsewhere); a password in a URL is
    masked, never printed."""
    if store_url == resolve_db_url(None):
        return ""
    if store_url.startswith("sqlite:///") and store_url != "sqlite:///:memory:":
        path = Path(store_url[len("sqlite:///") :]).expanduser().resolve()
        return f" --db {shlex.quote(str(path))}"
    try:
        from sqlalchemy.engine import make_url

        shown = make_url(store_url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an odd URL: say which store without risking a secret
        shown = "<store URL>"
    return f" --db {shlex.quote(shown)}"


def _call(name: str, kind: str, args: dict[str, Any]) -> str:
    """`Bash (shell.exec) "git push origin main"`: the call as a person reads it."""
    if len(args) == 1:
        shown = _json(next(iter(args.values())))
    else:
        shown = ", ".join(f"{k}={_json(v)}" for k, v in args.items())
    if len(shown) > _CALL_CHARS:
        shown = f"{shown[:_CALL_CHARS]}…"
    return f"{name} ({kind}) {shown}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _why(reason: str, rule: str | None) -> str:
    return f"{reason} [rule {rule}]" if rule else reason


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:g} s"
