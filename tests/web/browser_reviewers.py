"""Reviewers with passkeys in a real browser, and agents waiting for them in their own processes.

A `Desk` is a store whose root admin registered from the CLI (a key file, as a team starts),
served with sign-in at http://localhost:PORT. A `BrowserReviewer` is a Chromium context with a
virtual authenticator (Chromium's own, through CDP: it makes and uses real credentials, with
user verification) in which a person registered a passkey, was endorsed and signed in.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewing import cli

from oversight.records import Alert, StepFinished
from oversight.store import SQLStore, open_store

VIRTUAL_AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}
WIDE = {"width": 1440, "height": 900}


@dataclass
class Desk:
    root: Path
    db: str
    """A SQLite file's path, or a store URL (PostgreSQL)."""
    base: str
    state_dir: Path
    app: Any = None

    @property
    def store_url(self) -> str:
        return self.db if "://" in self.db else f"sqlite:///{self.db}"

    @property
    def root_key(self) -> Path:
        return self.root / "keys" / "root.pem"

    def url(self, path: str) -> str:
        return self.base + path

    def store(self) -> SQLStore:
        return open_store(self.store_url)

    def endorse(self, name: str, registration: Path, role: str | None = None) -> None:
        """The root admin endorses a pending registration from the CLI, with its key file."""
        done = cli(
            "reviewer", "add", name, "--passkey", str(registration),
            "--as", "root", "--key", str(self.root_key), "--db", self.db,
            *(["--role", role] if role else []),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"registered {role or ''}".strip() in done.stdout


def register_root(root: Path, db: str | None = None) -> str:
    """The root admin, self-endorsed with a key file from the CLI, in a new store (a SQLite
    file in `root` unless `db` names one)."""
    db = db or str(root / "oversight.db")
    done = cli(
        "reviewer", "add", "root", "--role", "admin",
        "--key-out", str(root / "keys" / "root.pem"), "--db", db,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return db


@dataclass
class Passkeys:
    """A page whose browser has a virtual platform authenticator (user verification on)."""

    context: Any
    page: Any
    cdp: Any
    authenticator: str

    def credentials(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.cdp.send(
            "WebAuthn.getCredentials", {"authenticatorId": self.authenticator}
        )["credentials"]
        return found


@dataclass
class BrowserReviewer:
    name: str
    role: str
    device: Passkeys

    @property
    def page(self) -> Any:
        return self.device.page

    @property
    def context(self) -> Any:
        return self.device.context


def browser_with_passkeys(browser: Any) -> Passkeys:
    """A fresh context (no cookies) and page with its own virtual authenticator."""
    context = browser.new_context(viewport=WIDE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": VIRTUAL_AUTHENTICATOR})
    return Passkeys(context, page, cdp, str(added["authenticatorId"]))


def register(desk: Desk, page: Any, name: str, role: str = "approver") -> Path:
    """Register a passkey in the browser; the pending registration's file."""
    page.goto(desk.url("/register"))
    page.fill("input[name=name]", name)
    page.check(f"input[name=role][value={role}]")
    page.click("button:has-text('Create passkey')")
    page.wait_for_url("**/register/done/**")
    registration_id = page.url.rsplit("/", 1)[1]
    return desk.state_dir / "pending" / f"{registration_id}.json"


def sign_in(desk: Desk, page: Any, next_path: str = "/approvals") -> None:
    page.goto(desk.url(f"/signin?next={next_path}"))
    page.click("#signin-button")
    page.wait_for_url(desk.url(next_path))


def new_reviewer(browser: Any, desk: Desk, name: str, role: str) -> BrowserReviewer:
    """A person registers in the browser, the root admin endorses them (CLI), they sign in."""
    device = browser_with_passkeys(browser)
    desk.endorse(name, register(desk, device.page, name, role), role)
    sign_in(desk, device.page)
    return BrowserReviewer(name, role, device)


AGENT = """
import sys
from oversight import Monitor, CheckpointDenied, CheckpointTimeout

db, policy, session, config = sys.argv[1:5]
mon = Monitor(db=db, log="none", policy=policy)

@mon.step(name="launch_training", kind="train.launch")
def launch(config, gpus):
    print("RAN", config, gpus, flush=True)

with mon.session(session, agent="trainer-bot"):
    try:
        launch(config, 8)
    except CheckpointTimeout as exc:
        print("TIMEOUT", exc.reason, flush=True)
    except CheckpointDenied as exc:
        print("DENIED", exc.reason, flush=True)
"""

GATE = """
name: gate
unmatched: {{consequential: allow, other: allow}}
rules:
  - id: gate-training
    match: {{kind: [train.launch]}}
    effect: require_approval
    reason: training needs a person
    approval: {{role: approver, quorum: 1, timeout_s: {timeout}}}
"""


def start_agent(
    desk: Desk, session: str, *, timeout: float = 60, config: str = "configs/big.yaml"
) -> subprocess.Popen[str]:
    """An agent in its own process that launches training and waits for a person."""
    pack = desk.root / f"gate-{session}.yaml"
    pack.write_text(GATE.format(timeout=timeout), encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-c", AGENT, desk.db, str(pack), session, config],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def pending_for(desk: Desk, session: str, wait_s: float = 30) -> dict[str, Any]:
    """The approval the agent of `session` waits for, once it asked."""
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        with desk.store() as store:
            rows = [r for r in store.approvals(status="pending") if r["session_id"] == session]
        if rows:
            return rows[0]
        time.sleep(0.05)
    raise AssertionError(f"the agent of {session} never asked for approval")


def agent_output(agent: subprocess.Popen[str], timeout: float = 60) -> str:
    out, err = agent.communicate(timeout=timeout)
    assert agent.returncode == 0, err
    return out


def finished(desk: Desk, session: str) -> StepFinished:
    with desk.store() as store:
        done = [s.record for s in store.iter_records(session, types={"step.finished"})]
    assert len(done) >= 1
    last = done[-1]
    assert isinstance(last, StepFinished)
    return last


def alerts(desk: Desk, session: str) -> list[str]:
    with desk.store() as store:
        found = [s.record for s in store.iter_records(session, types={"alert"})]
    return [a.reason for a in found if isinstance(a, Alert)]
