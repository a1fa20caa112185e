"""The review app's access pieces on their own: challenges, browser sessions, the origin a
passkey is made for, cookies over https, `--no-auth`, the live feed, and the chained record of
a sign-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from oversight import Monitor
from oversight.approvals.registry import Reviewer
from oversight.errors import ConfigError
from oversight.records import ReviewEvent
from oversight.store import open_store
from oversight.web import audit
from oversight.web.access import AccessConfig
from oversight.web.actions import edit_of
from oversight.web.browser_sessions import BrowserSessions
from oversight.web.challenges import ChallengeRefused, Challenges
from oversight.web.live import Feed
from oversight.web.queries import StoreReader
from oversight.web.review_app import create_review_app, serve_access


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_challenge_is_answered_once_by_its_own_browser_for_its_purpose_in_time() -> None:
    clock = Clock()
    challenges = Challenges(60, clock=clock)
    issued = challenges.issue("browser-a", "vote", b"c" * 32)
    with pytest.raises(ChallengeRefused, match="not issued to this page"):
        challenges.take(challenges.issue("browser-a", "vote", b"x").id, "browser-b", "vote")
    with pytest.raises(ChallengeRefused, match="not issued to this page"):
        challenges.take(challenges.issue("browser-a", "grant", b"x").id, "browser-a", "vote")
    assert challenges.take(issued.id, "browser-a", "vote").challenge == b"c" * 32
    with pytest.raises(ChallengeRefused, match="already answered or has expired"):
        challenges.take(issued.id, "browser-a", "vote")
    late = challenges.issue("browser-a", "sign-in", b"x")
    clock.now += 61
    with pytest.raises(ChallengeRefused):
        challenges.take(late.id, "browser-a", "sign-in")
    with pytest.raises(ChallengeRefused, match="names no passkey prompt"):
        challenges.take(None, "browser-a", "vote")


def test_signing_in_starts_a_new_session_and_sessions_expire() -> None:
    clock = Clock()
    sessions = BrowserSessions(3600, clock=clock)
    anonymous = sessions.anonymous()
    signed = sessions.sign_in(anonymous, "carol", "webauthn:{}")
    assert signed.id != anonymous.id and signed.csrf != anonymous.csrf
    assert sessions.get(anonymous.id) is None  # a planted id never becomes a signed-in one
    assert sessions.get(signed.id) is signed
    clock.now += 3601
    assert sessions.get(signed.id) is None


@pytest.mark.parametrize(
    ("origin", "why"),
    [
        ("http://review.example.org", "only on localhost"),
        ("http://127.0.0.1:8765", "not an IP address"),
        ("https://review.example.org/app", "no path"),
        ("review.example.org", "is not like"),
    ],
)
def test_an_origin_passkeys_cannot_use_is_refused(origin: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        AccessConfig(origin=origin)


def test_serve_asks_for_sign_in_at_localhost_and_allows_no_auth_only_locally() -> None:
    assert serve_access("127.0.0.1", 8765, None, no_auth=False).origin == "http://localhost:8765"
    assert serve_access("0.0.0.0", 8765, "https://r.example.org/", no_auth=False).rp_id == (
        "r.example.org"
    )
    with pytest.raises(ConfigError, match="--public-url"):
        serve_access("0.0.0.0", 8765, None, no_auth=False)
    assert serve_access("127.0.0.1", 8765, None, no_auth=True).origin is None
    with pytest.raises(ConfigError, match="only on 127.0.0.1"):
        serve_access("0.0.0.0", 8765, None, no_auth=True)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    db = tmp_path / "o.db"
    monitor = Monitor(db=str(db), policy="record-only", log="none", workspace=False)
    with monitor, monitor.session("s1", agent="bot"):
        monitor.check("Read", {"file_path": "notes.md"}).succeed("text")
    return f"sqlite:///{db}"


def test_the_session_cookie_is_httponly_strict_and_secure_over_https(
    store_url: str, tmp_path: Path
) -> None:
    access = AccessConfig(origin="https://review.example.org", state_dir=tmp_path / "state")
    app = create_review_app(store_url, access=access)
    with TestClient(app, base_url="https://review.example.org") as client:
        first = client.get("/", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/signin"
        cookie = first.headers["set-cookie"].lower()
        for flag in ("httponly", "samesite=strict", "secure", "path=/"):
            assert flag in cookie
        page = client.get("/signin")
        assert 'name="csrf-token"' in page.text and "Sign in with a passkey" in page.text


def test_no_auth_reads_locally_and_refuses_every_action(store_url: str) -> None:
    app = create_review_app(store_url, access=AccessConfig.no_auth())
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        assert "bot" in client.get("/").text
        refused = client.post("/halts", data={"session_id": "s1", "csrf_token": "anything"})
        assert refused.status_code == 403 and "--no-auth" in refused.text
        assert client.post("/signin/options", json={}).status_code == 403
        assert "started with <code>--no-auth</code>" in client.get("/signin").text
        rebound = client.get("/", headers={"host": "attacker.example"})
        assert rebound.status_code == 400
    with open_store(store_url) as store:
        assert store.halts() == []


def test_the_live_feed_holds_no_connection_between_polls(store_url: str) -> None:
    reader = StoreReader(store_url)
    try:
        feed = Feed(reader, max_age_s=0.0)
        assert feed.snapshot() == []
        pool = reader._engine.pool
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        reader.close()


def test_sign_ins_are_chained_and_the_chain_still_verifies(store_url: str) -> None:
    with open_store(store_url) as store:
        audit.signed_in(store, "carol", "a1b2", "Y3JlZA")
        audit.signed_out(store, "carol", "a1b2")
        audit.registered(store, "reg1", "dora", "approver", "webauthn:{}")
        events = [s.record for s in store.iter_records(types={"review"})]
        report = store.verify()
    assert [(e.action, e.ref, e.by) for e in events if isinstance(e, ReviewEvent)] == [
        ("reviewer.signed_in", "a1b2", "carol"),
        ("reviewer.signed_out", "a1b2", "carol"),
        ("reviewer.registered", "reg1", None),
    ]
    assert report.ok, report.first_problem


def test_a_viewer_may_act_as_nobody_whatever_role_a_policy_names() -> None:
    viewer = Reviewer("vic", "viewer", "k")
    assert not any(viewer.may_act_as(role) for role in ("viewer", "approver", "admin"))
    assert Reviewer("ada", "admin", "k").may_act_as("viewer")
    assert Reviewer("carol", "approver", "k").may_act_as("approver")


ARGS = json.dumps({"config": "a.yaml", "gpus": 8})


@pytest.mark.parametrize(
    ("edited", "why"),
    [
        ('{"config": "a.yaml", "gpus": 8}', "nothing was changed"),
        ('{"config": "a.yaml", "gpus": 8, "nodes": 2}', "no argument"),
        ('{"gpus": 2}', "cannot remove"),
        ("[1]", "JSON object"),
        ("{gpus: 2}", "not valid JSON"),
    ],
)
def test_an_edit_that_changes_nothing_or_adds_or_drops_arguments_is_refused(
    edited: str, why: str
) -> None:
    with pytest.raises(ConfigError, match=why):
        edit_of({"args": ARGS}, edited)


def test_an_edit_is_the_arguments_whose_values_changed() -> None:
    assert edit_of({"args": ARGS}, '{"config": "a.yaml", "gpus": 2}') == {"gpus": 2}
