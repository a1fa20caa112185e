"""What the review app refuses, and what no server-side trick gets past a waiting agent.

Pages need sign-in; forms need their CSRF token; a viewer cannot approve, by the page, by a
forged request, or by a vote of theirs written past the app; a vote row written straight into
the store, or one the server signs with any key it has, is not counted by the agent.
"""

from __future__ import annotations

import ast
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_reviewers import (
    BrowserReviewer,
    Desk,
    agent_output,
    alerts,
    browser_with_passkeys,
    pending_for,
    register,
    sign_in,
    start_agent,
)
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from software_authenticator import SoftwareAuthenticator

from oversight.approvals.passkeys import b64url, challenge_for, parse_public_key
from oversight.approvals.registry import trusted_reviewers
from oversight.approvals.signing import (
    endorsement_payload,
    new_private_key,
    public_hex,
    sign,
    verify,
)
from oversight.approvals.votes import store_signed_vote, vote_to_sign
from oversight.canonical import utc_now
from oversight.errors import ConfigError
from oversight.web.ceremonies import read_assertion

WEB = Path(__file__).parents[2] / "oversight" / "web"

FETCH = """async ([url, body, token]) => {
  const headers = {"Content-Type": "application/json", "Accept": "application/json"};
  if (token !== null) headers["X-CSRF-Token"] = token;
  const response = await fetch(url, {method: "POST", headers, body: JSON.stringify(body)});
  return {status: response.status, body: await response.json()};
}"""

SIGN = """async ([challenge, id]) => {
  const options = passkeys.request({challenge, rpId: location.hostname, timeout: 60000,
    userVerification: "required", allowCredentials: [{type: "public-key", id}]});
  return passkeys.asJSON(await navigator.credentials.get({publicKey: options}));
}"""


def post_json(reviewer: BrowserReviewer, path: str, body: dict[str, Any], token: Any = "") -> Any:
    """POST from the reviewer's page, with the page's CSRF token unless `token` says otherwise."""
    if token == "":
        token = reviewer.page.locator('meta[name="csrf-token"]').get_attribute("content")
    return reviewer.page.evaluate(FETCH, [path, body, token])


def key_of(desk: Desk, name: str) -> str:
    with desk.store() as store:
        return trusted_reviewers(store.reviewers())[0][name].public_key


def signed_by_browser(reviewer: BrowserReviewer, desk: Desk, payload: dict[str, Any]) -> str:
    """The reviewer's own passkey signs `payload` in their browser (a valid assertion)."""
    passkey = parse_public_key(key_of(desk, reviewer.name))
    assert passkey is not None
    credential = reviewer.page.evaluate(
        SIGN, [b64url(challenge_for(payload)), b64url(passkey.credential_id)]
    )
    return read_assertion(credential).signature


def test_every_page_needs_sign_in(desk: Desk, page: Any) -> None:
    for path in ("/", "/approvals", "/integrity", "/reviewers", "/sessions/x"):
        page.goto(desk.url(path))
        assert page.url.startswith(desk.url("/signin")), path
    assert page.url == desk.url("/signin?next=/sessions/x")
    assert page.locator("nav.nav").count() == 0  # no links into the store before sign-in
    assert page.request.get(desk.url("/approvals/events")).status == 401
    assert page.request.get(desk.url("/static/app.css")).status == 200
    assert page.request.get(desk.url("/sessions/x/export.jsonl"), max_redirects=0).status == 303
    # another name for the same server is sent to the one passkeys work at
    other = desk.base.replace("localhost", "127.0.0.1")
    moved = page.request.get(other + "/approvals", max_redirects=0)
    assert moved.status == 307 and moved.headers["location"] == desk.url("/approvals")


def test_a_form_posted_without_its_csrf_token_is_refused(
    desk: Desk, carol: BrowserReviewer, shoot: Callable[[Any, str], Path]
) -> None:
    request = carol.context.request
    form = {"session_id": "victim", "reason": "forged"}
    missing = request.post(desk.url("/halts"), form=form)
    assert missing.status == 403
    assert "carried no security token (CSRF)" in missing.text()
    wrong = request.post(desk.url("/halts"), form={**form, "csrf_token": "x" * 43})
    assert wrong.status == 403 and "is not this browser session" in wrong.text()
    unsigned = post_json(carol, "/grants/options", {"kind": "train.launch"}, token=None)
    assert unsigned["status"] == 403 and "CSRF" in unsigned["body"]["error"]
    # a form on another site, posted by carol's own browser: refused too
    carol.page.set_content(
        f'<form method="post" action="{desk.url("/halts")}">'
        '<input name="session_id" value="victim"><input name="reason" value="forged">'
        '<button id="go">go</button></form>'
    )
    with carol.page.expect_navigation():
        carol.page.click("#go")
    assert "Refused: the form cannot be trusted" in carol.page.locator("h1").inner_text()
    shoot(carol.page, "csrf-refused")
    with desk.store() as store:
        assert [h for h in store.halts() if h["scope"] == "victim"] == []
    # with the page's token, the same halt goes through
    carol.page.goto(desk.url("/approvals"))
    token = carol.page.locator('meta[name="csrf-token"]').get_attribute("content")
    done = request.post(desk.url("/halts"), form={**form, "csrf_token": token})
    assert done.ok
    with desk.store() as store:
        assert [h["requested_by"] for h in store.halts() if h["scope"] == "victim"] == ["carol"]


def test_a_viewer_sees_the_queue_but_cannot_approve(
    desk: Desk, vic: BrowserReviewer, shoot: Callable[[Any, str], Path]
) -> None:
    agent = start_agent(desk, "viewed", timeout=6)
    approval = pending_for(desk, "viewed")
    page = vic.page
    page.goto(desk.url("/approvals"))
    card = page.locator(f'article.approval[data-approval="{approval["id"]}"]')
    assert card.locator(".call-name").inner_text() == "launch_training"
    page.locator("[data-live-badge]").wait_for()  # the live stream's first update arrived
    page.wait_for_timeout(500)
    assert card.locator(".closed-note").count() == 0  # still waiting, and shown so
    assert card.locator("form[data-vote]").count() == 0
    assert card.locator("button:has-text('Approve')").count() == 0
    assert "You are a viewer" in card.locator(".read-only-note").inner_text()
    assert page.locator("form[data-grant]").count() == 0
    assert card.locator("summary:has-text('Halt')").count() == 0
    shoot(page, "approvals-viewer")
    # forged requests, with a valid CSRF token: refused by role
    asked = post_json(vic, f"/approvals/{approval['id']}/vote/options", {"decision": "approve"})
    assert asked["status"] == 403 and "vic is a viewer" in asked["body"]["error"]
    granted = post_json(vic, "/grants/options", {"kind": "train.launch"})
    assert granted["status"] == 403
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    halted = vic.context.request.post(
        desk.url("/halts"), form={"session_id": "viewed", "csrf_token": token}
    )
    assert halted.status == 403
    # vic's own passkey signs an approval (valid), relayed past the app: still not counted
    with desk.store() as store:
        row = store.approval(str(approval["id"]))
    assert row is not None
    payload = vote_to_sign(row, "vic", "approve")
    signature = signed_by_browser(vic, desk, payload)
    assert verify(key_of(desk, "vic"), payload, signature)
    with desk.store() as store, pytest.raises(ConfigError, match="'vic' is not an approver"):
        store_signed_vote(store, row, "vic", "approve", "", signature)
    with desk.store() as store:
        store.add_vote(
            {
                "approval_id": str(row["id"]),
                "reviewer": "vic",
                "decision": "approve",
                "reason": "",
                "signature": signature,
            }
        )
    out = agent_output(agent)
    assert "TIMEOUT" in out and "RAN" not in out
    assert any(
        "'vic'" in a and "not a trusted reviewer with role 'approver'" in a
        for a in alerts(desk, "viewed")
    )


def test_a_vote_row_written_straight_into_the_store_is_not_accepted(
    desk: Desk, carol: BrowserReviewer
) -> None:
    agent = start_agent(desk, "straight", timeout=4)
    approval = pending_for(desk, "straight")
    payload = vote_to_sign(approval, "carol", "approve")
    forged = SoftwareAuthenticator(rp_id="localhost", origin=desk.base).sign(payload)
    with sqlite3.connect(desk.db) as db:
        db.execute(
            "INSERT INTO oversight_votes (approval_id, reviewer, decision, reason, signature,"
            " created_at) VALUES (?, 'carol', 'approve', '', ?, ?)",
            (approval["id"], forged, utc_now().isoformat()),
        )
    out = agent_output(agent)
    assert "TIMEOUT" in out and "RAN" not in out
    (alert,) = [a for a in alerts(desk, "straight") if "'carol'" in a]
    assert "signature does not verify" in alert
    with desk.store() as store:
        report = store.verify()
    assert not report.ok and report.first_problem is not None
    assert "written around oversight" in report.first_problem.reason


def _objects(root: object) -> Iterator[object]:
    """Everything reachable from `root` through attributes, mappings and sequences."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, str | bytes | int | float | type(None)):
            continue
        seen.add(id(item))
        yield item
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif hasattr(item, "__dict__") and type(item).__module__.startswith("oversight"):
            stack.extend(vars(item).values())
        elif hasattr(type(item), "__slots__") and type(item).__module__.startswith("oversight"):
            stack.extend(getattr(item, s) for s in type(item).__slots__ if hasattr(item, s))


PRIVATE_KEYS = (
    Ed25519PrivateKey,
    Ed448PrivateKey,
    ec.EllipticCurvePrivateKey,
    rsa.RSAPrivateKey,
)
SIGNING_NAMES = {
    "sign",
    "cast_vote",
    "new_private_key",
    "load_private_key",
    "load_reviewer_key",
    "generate_private_key",
    "Ed25519PrivateKey",
}


def test_the_server_holds_no_key_and_calls_nothing_that_signs(
    desk: Desk, carol: BrowserReviewer
) -> None:
    held = [
        o
        for o in _objects({"web": desk.app.state.web, "access": desk.app.state.access})
        if isinstance(o, PRIVATE_KEYS)
    ]
    assert held == []
    for module in sorted(WEB.glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        used = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        } | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not used & SIGNING_NAMES, (module.name, used & SIGNING_NAMES)


def test_a_vote_the_server_signs_itself_is_refused_and_not_counted(
    desk: Desk, carol: BrowserReviewer
) -> None:
    agent = start_agent(desk, "server-forged", timeout=6)
    approval = pending_for(desk, "server-forged")
    approval_id = str(approval["id"])
    passkey = parse_public_key(key_of(desk, "carol"))
    assert passkey is not None
    # Through the app: the server asks for carol's vote, then answers with a passkey of its
    # own under carol's credential id, made at the right origin. The relay refuses it.
    carol.page.goto(desk.url("/approvals"))
    asked = post_json(carol, f"/approvals/{approval_id}/vote/options", {"decision": "approve"})
    assert asked["status"] == 200
    challenge = challenge_for(asked["body"]["payload"])
    server_device = SoftwareAuthenticator(
        rp_id="localhost", origin=desk.base, credential_id=passkey.credential_id
    )
    made = server_device.get(challenge)
    credential = {
        "type": "public-key",
        "id": b64url(passkey.credential_id),
        "rawId": b64url(passkey.credential_id),
        "response": {
            "authenticatorData": b64url(made.authenticator_data),
            "clientDataJSON": b64url(made.client_data_json),
            "signature": b64url(made.signature),
        },
    }
    relayed = post_json(
        carol,
        f"/approvals/{approval_id}/vote",
        {"challenge_id": asked["body"]["challenge_id"], "credential": credential},
    )
    assert relayed["status"] == 403 and "is not 'carol''s" in relayed["body"]["error"]
    # Past the app: a key the server process makes, for carol, and a reviewer of its own
    # (self-endorsed), written straight into the store. The agent counts neither.
    server_key = new_private_key()
    own = public_hex(server_key)
    with desk.store() as store:
        store.add_reviewer(
            {
                "name": "review-server",
                "role": "approver",
                "public_key": own,
                "endorsed_by": "review-server",
                "endorsement": sign(
                    server_key, endorsement_payload("review-server", "approver", own)
                ),
            }
        )
        for name in ("carol", "review-server"):
            payload = vote_to_sign(approval, name, "approve")
            store.add_vote(
                {
                    "approval_id": approval_id,
                    "reviewer": name,
                    "decision": "approve",
                    "reason": "",
                    "signature": sign(server_key, payload),
                }
            )
    out = agent_output(agent)
    assert "TIMEOUT" in out and "RAN" not in out
    found = alerts(desk, "server-forged")
    assert any("'carol'" in a and "does not verify" in a for a in found)
    assert any("'review-server'" in a and "not a trusted reviewer" in a for a in found)
    with desk.store() as store:
        assert [v["reviewer"] for v in store.votes(approval_id)] == ["carol", "review-server"]


def test_a_removed_reviewer_is_signed_out_at_once(browser: Any, desk: Desk) -> None:
    device = browser_with_passkeys(browser)
    desk.endorse("gus", register(desk, device.page, "gus", "approver"), "approver")
    sign_in(desk, device.page)
    assert device.page.locator(".account strong").inner_text() == "gus"
    with sqlite3.connect(desk.db) as db:  # what revoking a reviewer by hand looks like
        db.execute("DELETE FROM oversight_reviewers WHERE name = 'gus'")
    device.page.goto(desk.url("/approvals"))
    assert device.page.url.startswith(desk.url("/signin"))
    assert "gus was signed out" in device.page.locator(".flash").inner_text()
    device.context.close()


def test_the_app_refuses_a_passkey_answer_given_twice(desk: Desk, carol: BrowserReviewer) -> None:
    carol.page.goto(desk.url("/approvals"))
    asked = post_json(carol, "/grants/options", {"kind": "train.launch", "hours": 1})
    assert asked["status"] == 200
    passkey = parse_public_key(key_of(desk, "carol"))
    assert passkey is not None
    credential = carol.page.evaluate(
        SIGN, [b64url(challenge_for(asked["body"]["payload"])), b64url(passkey.credential_id)]
    )
    body = {"challenge_id": asked["body"]["challenge_id"], "credential": credential}
    first = post_json(carol, "/grants", body)
    assert first["status"] == 200, first
    again = post_json(carol, "/grants", body)
    assert again["status"] == 400 and "already answered" in again["body"]["error"]
    with desk.store() as store:
        assert (
            len(
                [
                    g
                    for g in store.grants()
                    if g["signature"] == read_assertion(credential).signature
                ]
            )
            == 1
        )
