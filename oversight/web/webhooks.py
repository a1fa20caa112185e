"""What a webhook for an approval request says, and where it goes.

Two payloads: a generic JSON object with the request's fields (for any receiver), and a
Slack-compatible message (`text` plus Block Kit `blocks`, which Slack's incoming webhooks and
the chat tools that copy them accept) with a button to the request's page. Neither carries a
way to answer: an approval counts only as a vote a reviewer signs with their own key or
passkey, so a leaked or forged webhook can show a request, never approve it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from oversight.web.review_queries import ApprovalRow

WebhookFormat = Literal["json", "slack"]
FORMATS: tuple[WebhookFormat, ...] = ("json", "slack")
_FORMAT_OF: dict[str, WebhookFormat] = {f: f for f in FORMATS}
EVENT = "approval.requested"
SLACK_TEXT_LIMIT = 2900
"""Characters of one Slack text object we fill (Slack refuses more than 3,000)."""


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    url: str
    format: WebhookFormat = "json"

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"webhook URL {self.url!r} is not an http:// or https:// URL")
        if self.format not in FORMATS:
            raise ValueError(f"webhook format {self.format!r} is not one of {', '.join(FORMATS)}")

    @property
    def key(self) -> str:
        """A name for this target in the notifier's state: a digest, since webhook URLs often
        hold a secret (Slack's do) that has no business on disk."""
        return hashlib.sha256(f"{self.format} {self.url}".encode()).hexdigest()[:32]

    @property
    def shown(self) -> str:
        """The URL without path or query (where secrets sit), for logs."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}/… ({self.format})"

    @classmethod
    def parse(cls, text: str, default: WebhookFormat = "json") -> WebhookTarget:
        """`URL` (in `default` format) or `URL=json` / `URL=slack`; ValueError naming the text
        when it is neither."""
        url, sep, suffix = text.strip().rpartition("=")
        named = _FORMAT_OF.get(suffix) if sep else None
        if named is not None:
            return cls(url, named)
        return cls(text.strip(), default)


def format_named(text: str) -> WebhookFormat:
    """The payload format called `text`; ValueError naming it when there is none."""
    found = _FORMAT_OF.get(text)
    if found is None:
        raise ValueError(f"webhook format {text!r} is not one of {', '.join(FORMATS)}")
    return found


def approval_link(public_url: str, approval_id: str) -> str:
    """The request's card on the approvals page (its anchor there is `approval-ID`)."""
    return f"{public_url.rstrip('/')}/approvals#approval-{quote(approval_id, safe='')}"


def json_payload(row: ApprovalRow, link: str) -> dict[str, Any]:
    """The generic payload: the request as stored (its arguments redacted, as the monitor
    stored them), how many approvals it needs and until when, and where to answer it."""
    return {
        "event": EVENT,
        "approval_id": row.id,
        "session_id": row.session_id,
        "step_id": row.step_id,
        "tool": row.name,
        "kind": row.kind,
        "rule": row.rule,
        "reason": row.reason,
        "args": row.args,
        "role": row.role,
        "quorum": row.quorum,
        "requested_at": _iso(row.created_at),
        "deadline": _iso(row.deadline),
        "link": link,
    }


def slack_payload(row: ApprovalRow, link: str) -> dict[str, Any]:
    """A Slack message: what waits and why, the call's arguments, the quorum and deadline, and
    a button to the request's page (where the vote is signed)."""
    args = json.dumps(row.args, indent=2, ensure_ascii=False, default=str)
    if len(args) > SLACK_TEXT_LIMIT - 8:
        args = args[: SLACK_TEXT_LIMIT - 40] + "\n… (the request's page shows all of it)"
    people = f"{row.quorum} {row.role}{'' if row.quorum == 1 else 's'}"
    rule = f" · rule `{_slack(row.rule)}`" if row.rule else ""
    summary = f"Approval needed: {row.kind} {row.name} in session {row.session_id}"
    return {
        "text": f"{summary}: {row.reason} {link}",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _cut(f"Approval needed: {row.name}", 150)},
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": _cut(
                        f"*Why:* {_slack(row.reason)}\n*Kind:* `{_slack(row.kind)}`{rule}"
                        f" · *Session:* `{_slack(row.session_id)}`",
                        SLACK_TEXT_LIMIT,
                    ),
                },
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"```{_slack(args)}```"},
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"Needs {people} · closes {_iso(row.deadline) or 'never'} · "
                        f"answered only by a signed vote on the request's page",
                    }
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open the request"},
                        "url": link,
                        "style": "primary",
                    }
                ],
            },
        ],
    }


def payload(target: WebhookTarget, row: ApprovalRow, link: str) -> dict[str, Any]:
    return slack_payload(row, link) if target.format == "slack" else json_payload(row, link)


def _slack(text: str) -> str:
    """Text for Slack's mrkdwn: its three control characters escaped (its own rule)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _iso(value: _dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(_dt.UTC).isoformat().replace("+00:00", "Z")
