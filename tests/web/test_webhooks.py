"""Webhooks for approval requests: an agent in its own process waits on a training launch; the
web server announces the request to real HTTP receivers (a generic JSON payload and a Slack
message), once each, again after neither a restart nor a receiver's failure; the answer still
comes back only as a signed vote."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import serving
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from reviewing import (
    LAUNCH_AGENT,
    cli,
    finish,
    register_in_process,
    wait_for_pending,
    write_gate_pack,
)

from oversight.approvals.signing import sign, vote_payload
from oversight.store import open_store
from oversight.web.config import WebConfig
from oversight.web.notifier import ApprovalNotifier, SentLog
from oversight.web.queries import StoreReader
from oversight.web.webhooks import WebhookTarget

PUBLIC = "https://review.example.org"
JSON_FIELDS = {
    "event", "approval_id", "session_id", "step_id", "tool", "kind", "rule", "reason", "args",
    "role", "quorum", "requested_at", "deadline", "link",
}  # fmt: skip


@dataclass
class Receiver:
    """A local HTTP server that keeps every JSON body POSTed to it, by path; a path in `fail`
    answers 500 that many times first."""

    base: str = ""
    got: dict[str, list[Any]] = field(default_factory=dict)
    attempts: dict[str, list[float]] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str) -> int:
        with self.lock:
            return len(self.got.get(path, []))

    def wait_for(self, path: str, n: int = 1, timeout: float = 30) -> list[Any]:
        deadline = time.monotonic() + timeout
        while self.count(path) < n:
            assert time.monotonic() < deadline, f"{path} got {self.count(path)} of {n} payloads"
            time.sleep(0.05)
        with self.lock:
            return list(self.got[path])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with found.lock:
                found.attempts.setdefault(self.path, []).append(time.monotonic())
                failing = found.fail.get(self.path, 0) > 0
                if failing:
                    found.fail[self.path] -= 1
                else:
                    assert self.headers["Content-Type"] == "application/json"
                    found.got.setdefault(self.path, []).append(json.loads(body))
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield found
    server.shutdown()
    server.server_close()


@dataclass
class Waiting:
    db: Path
    url: str
    approval: dict[str, Any]
    keys: dict[str, Ed25519PrivateKey]
    agent: subprocess.Popen[str]


@pytest.fixture(scope="module")
def waiting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Waiting]:
    """An agent process waiting for a person to approve its training launch."""
    tmp = tmp_path_factory.mktemp("webhooks")
    db = tmp / "o.db"
    url = f"sqlite:///{db}"
    with open_store(url) as store:
        keys = register_in_process(store)
    script = tmp / "agent.py"
    script.write_text(LAUNCH_AGENT)
    pack = write_gate_pack(tmp, 600)
    agent = subprocess.Popen(
        [sys.executable, str(script), str(db), str(pack)], stdout=subprocess.PIPE, text=True
    )
    try:
        yield Waiting(db, url, wait_for_pending(db), keys, agent)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(timeout=30)
        if agent.stdout is not None:
            agent.stdout.close()


def config(tmp_path: Path, *targets: WebhookTarget) -> WebConfig:
    return WebConfig(
        search_index=tmp_path / "search.sqlite",
        webhooks=targets,
        public_url=PUBLIC,
        webhook_state=tmp_path / "sent.sqlite",
    )


def test_each_webhook_gets_the_request_once_in_its_own_format(
    waiting: Waiting, receiver: Receiver, tmp_path: Path
) -> None:
    approval = waiting.approval
    targets = (
        WebhookTarget(f"{receiver.base}/generic"),
        WebhookTarget.parse(f"{receiver.base}/chat=slack"),
    )
    with serving(waiting.url, config(tmp_path, *targets)):
        (generic,) = receiver.wait_for("/generic")
        (slack,) = receiver.wait_for("/chat")
        time.sleep(2.5)  # two more polls: nothing is sent twice
    assert receiver.count("/generic") == 1 and receiver.count("/chat") == 1

    link = f"{PUBLIC}/approvals#approval-{approval['id']}"  # the request's card there
    assert set(generic) == JSON_FIELDS  # and nothing that could approve it
    assert generic["event"] == "approval.requested"
    assert generic["approval_id"] == approval["id"]
    assert generic["session_id"] == "exp" and generic["step_id"] == approval["step_id"]
    assert generic["tool"] == "launch_training" and generic["kind"] == "train.launch"
    assert generic["rule"] == "gate-training" and generic["reason"] == "training needs a person"
    assert generic["args"] == {"config": "configs/big.yaml"}
    assert (generic["role"], generic["quorum"]) == ("approver", 1)
    assert generic["deadline"] == approval["deadline"]
    assert generic["link"] == link

    assert "launch_training" in slack["text"] and link in slack["text"]
    kinds = [block["type"] for block in slack["blocks"]]
    assert kinds[0] == "header" and "actions" in kinds
    shown = json.dumps(slack["blocks"])
    assert "training needs a person" in shown and "configs/big.yaml" in shown
    assert "gate-training" in shown and "exp" in shown
    buttons = [e for b in slack["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open the request"},
            "url": link,
            "style": "primary",
        }
    ]  # a link to the page where the vote is signed, no action that answers


def test_a_restarted_server_does_not_send_it_again(
    waiting: Waiting, receiver: Receiver, tmp_path: Path
) -> None:
    settings = config(tmp_path, WebhookTarget(f"{receiver.base}/hook"))
    with serving(waiting.url, settings):
        receiver.wait_for("/hook")
    with serving(waiting.url, settings):
        time.sleep(3)  # three polls of the restarted notifier
    assert receiver.count("/hook") == 1
    # A server that keeps its notes elsewhere has not sent it: it does.
    fresh = WebConfig(
        search_index=settings.search_index,
        webhooks=settings.webhooks,
        public_url=PUBLIC,
        webhook_state=tmp_path / "other-sent.sqlite",
    )
    with serving(waiting.url, fresh):
        receiver.wait_for("/hook", 2)


def test_a_failing_receiver_is_tried_again_with_backoff(
    waiting: Waiting, receiver: Receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.fail["/flaky"] = 2
    reader = StoreReader(waiting.url)
    notifier = ApprovalNotifier(
        reader,
        [WebhookTarget(f"{receiver.base}/flaky")],
        public_url=PUBLIC,
        sent=SentLog(tmp_path / "sent.sqlite"),
        poll_s=0.05,
        first_retry_s=0.3,
    )
    notifier.start()
    try:
        (payload,) = receiver.wait_for("/flaky", timeout=20)
        time.sleep(0.5)
    finally:
        notifier.stop()
        reader.close()
    assert payload["approval_id"] == waiting.approval["id"]
    assert receiver.count("/flaky") == 1
    first, second, third = receiver.attempts["/flaky"]
    assert second - first >= 0.3 and third - second >= 0.6  # waits double
    failures = [r.getMessage() for r in caplog.records if "not delivered" in r.getMessage()]
    assert len(failures) == 2 and "HTTP Error 500" in failures[0]
    assert "/flaky" not in failures[0]  # URLs (often holding a secret) stay out of logs


def test_the_answer_still_comes_back_as_a_signed_vote(waiting: Waiting) -> None:
    approval = waiting.approval
    payload = vote_payload(approval["id"], approval["args_digest"], "approve", "alice", "")
    with open_store(waiting.url) as store:
        store.add_vote(
            {
                "approval_id": approval["id"],
                "reviewer": "alice",
                "decision": "approve",
                "reason": "",
                "signature": sign(waiting.keys["alice"], payload),
            }
        )
    assert "RAN configs/big.yaml" in finish(waiting.agent)


def test_webhook_options_are_checked_when_the_server_starts(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    open_store(f"sqlite:///{db}").close()
    bad_url = cli("serve", "--db", str(db), "--webhook", "ftp://example.org/x", "--port", "1")
    assert bad_url.returncode == 2 and "is not an http:// or https:// URL" in bad_url.stderr
    bad_format = cli("serve", "--db", str(db), "--webhook-format", "xml", "--port", "1")
    assert bad_format.returncode == 2 and "'xml' is not one of json, slack" in bad_format.stderr


def test_a_webhook_names_its_format_after_an_equals_sign() -> None:
    assert WebhookTarget.parse("https://hooks.slack.com/services/T/B/x=slack") == WebhookTarget(
        "https://hooks.slack.com/services/T/B/x", "slack"
    )
    assert WebhookTarget.parse("https://h.example/in?token=abc", "slack") == WebhookTarget(
        "https://h.example/in?token=abc", "slack"
    )  # an = in the query is part of the URL
    assert WebhookTarget.parse("https://h.example/in=json", "slack").format == "json"
    with pytest.raises(ValueError, match="is not an http"):
        WebhookTarget.parse("h.example/in")
    target = WebhookTarget("https://hooks.slack.com/services/T000/B000/secret", "slack")
    assert "secret" not in target.shown and "secret" not in target.key
