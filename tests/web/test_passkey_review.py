"""Reviewers act in the browser with passkeys, and agents waiting in other processes obey.

Everything here runs in Debian's Chromium with its virtual authenticator (real credentials,
real assertions, user verification), against the app served with sign-in, and agents that are
real `Monitor`s in subprocesses blocked on approval.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser_reviewers import (
    BrowserReviewer,
    Desk,
    agent_output,
    alerts,
    browser_with_passkeys,
    finished,
    new_reviewer,
    pending_for,
    register,
    register_root,
    sign_in,
    start_agent,
)
from conftest import serving

from oversight.approvals.grants import grant_payload
from oversight.approvals.passkeys import PREFIX, read_pending_registration
from oversight.approvals.registry import trusted_reviewers
from oversight.approvals.signing import endorsement_payload, verify, vote_payload
from oversight.records import ReviewEvent


def review_events(desk: Desk, action: str) -> list[ReviewEvent]:
    with desk.store() as store:
        found = [s.record for s in store.iter_records(types={"review"})]
    return [e for e in found if isinstance(e, ReviewEvent) and e.action == action]


def card(page: Any, approval_id: str) -> Any:
    return page.locator(f'article.approval[data-approval="{approval_id}"]')


def reaction_s(desk: Desk, approval_id: str) -> float:
    """Seconds from the browser's vote being stored to the waiting monitor closing the
    approval on it: the store's vote signal at work, as for a vote from the CLI."""
    with desk.store() as store:
        row = store.approval(approval_id)
        (vote,) = store.votes(approval_id)
    assert row is not None and row["decided_at"] is not None
    decided = dt.datetime.fromisoformat(str(row["decided_at"]))
    return (decided - dt.datetime.fromisoformat(str(vote["created_at"]))).total_seconds()


def test_a_person_registers_a_passkey_which_waits_for_an_admin(
    browser: Any, desk: Desk, shoot: Callable[[Any, str], Path]
) -> None:
    device = browser_with_passkeys(browser)
    page = device.page
    page.goto(desk.url("/register"))
    page.fill("input[name=name]", "dora")
    shoot(page, "register")
    registration = register(desk, page, "dora", "approver")
    shoot(page, "registered")
    # the file is what `oversight reviewer add --passkey` reads, and nobody is trusted yet
    pending = read_pending_registration(registration)
    assert (pending.name, pending.role) == ("dora", "approver")
    assert pending.public_key.startswith(PREFIX)
    assert json.loads(pending.public_key.removeprefix(PREFIX))["origin"] == desk.base
    assert (
        page.locator("#endorse-command")
        .inner_text()
        .startswith(f"oversight reviewer add dora --passkey {registration}")
    )
    (credential,) = device.credentials()
    assert credential["rpId"] == "localhost" and credential["isResidentCredential"]
    with desk.store() as store:
        trusted, _ = trusted_reviewers(store.reviewers())
    assert "dora" not in trusted
    (event,) = [e for e in review_events(desk, "reviewer.registered") if e.ref == registration.stem]
    assert event.by is None
    # not endorsed: the passkey cannot sign in
    page.goto(desk.url("/signin"))
    page.click("#signin-button")
    status = page.locator(".form-status")
    status.filter(has_text="waits for an admin").wait_for()
    assert page.url.startswith(desk.url("/signin"))
    device.context.close()


def test_an_endorsed_reviewer_signs_in_with_a_secure_session_cookie(
    browser: Any, desk: Desk, shoot: Callable[[Any, str], Path]
) -> None:
    device = browser_with_passkeys(browser)
    page = device.page
    desk.endorse("erin", register(desk, page, "erin", "approver"), "approver")
    page.goto(desk.url("/signin?next=/approvals"))
    shoot(page, "signin")
    page.click("#signin-button")
    page.wait_for_url(desk.url("/approvals"))
    assert page.locator(".account strong").inner_text() == "erin"
    assert page.locator(".account .role").inner_text().lower() == "approver"
    (cookie,) = [c for c in device.context.cookies() if c["name"] == "oversight_session"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http on localhost; https sets it (other test)
    assert "oversight_session" not in page.evaluate("document.cookie")
    (event,) = review_events(desk, "reviewer.signed_in")[-1:]
    assert event.by == "erin"
    # signing out ends the session on the server, and is recorded too
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/signin")
    assert "erin signed out" in page.locator(".flash").inner_text()
    assert review_events(desk, "reviewer.signed_out")[-1].ref == event.ref
    page.goto(desk.url("/approvals"))
    assert page.url.startswith(desk.url("/signin"))
    device.context.close()


def test_an_approval_in_the_browser_lets_the_waiting_agent_proceed(
    desk: Desk, carol: BrowserReviewer, shoot: Callable[[Any, str], Path]
) -> None:
    page = carol.page
    page.goto(desk.url("/approvals"))
    agent = start_agent(desk, "approve-me")
    approval = pending_for(desk, "approve-me")
    waiting = card(page, str(approval["id"]))
    waiting.wait_for()  # arrives live, without a reload
    assert waiting.locator(".call-name").inner_text() == "launch_training"
    assert json.loads(waiting.locator(".call-args").inner_text()) == {
        "config": "configs/big.yaml",
        "gpus": 8,
    }
    assert "training needs a person" in waiting.locator(".approval-reason").inner_text()
    assert "gate-training" in waiting.locator(".approval-reason").inner_text()
    assert waiting.locator(".targets").inner_text() == "configs/big.yaml"
    assert "GPUs" in waiting.locator(".capabilities").inner_text()
    assert waiting.locator(".quorum").inner_text() == "0 of 1 approval"
    shoot(page, "approvals-pending")
    waiting.locator("button[value=approve]").click()
    assert "RAN configs/big.yaml 8" in agent_output(agent)
    done = finished(desk, "approve-me")
    assert done.status == "ok" and done.approved_by == ["carol"]
    assert done.decided_by == "reviewers"
    with desk.store() as store:
        (vote,) = store.votes(str(approval["id"]))
    assert (vote["reviewer"], vote["decision"]) == ("carol", "approve")
    assert vote["signature"].startswith(PREFIX)  # an assertion the browser made, relayed
    assert alerts(desk, "approve-me") == []
    assert reaction_s(desk, str(approval["id"])) < 1.0
    waiting.wait_for(state="detached")  # gone from the queue without a reload
    assert "Approved" in page.locator(".activity").inner_text()
    shoot(page, "approvals-after-approval")


def test_a_denial_reaches_the_agent_with_its_reason(desk: Desk, carol: BrowserReviewer) -> None:
    page = carol.page
    page.goto(desk.url("/approvals"))
    agent = start_agent(desk, "deny-me")
    approval = pending_for(desk, "deny-me")
    waiting = card(page, str(approval["id"]))
    waiting.wait_for()
    waiting.locator("button:has-text('Deny…')").click()
    waiting.locator("button:has-text('Sign the denial')").click()
    assert "Say why it is denied" in waiting.locator(".form-status").inner_text()
    waiting.locator("input[name=reason_deny]").fill("use 4 GPUs, not 8")
    waiting.locator("button:has-text('Sign the denial')").click()
    out = agent_output(agent)
    assert "DENIED use 4 GPUs, not 8 (carol)" in out and "RAN" not in out
    assert finished(desk, "deny-me").status == "denied"


def test_a_modification_runs_the_edited_call(desk: Desk, carol: BrowserReviewer) -> None:
    page = carol.page
    page.goto(desk.url("/approvals"))
    agent = start_agent(desk, "edit-me")
    approval = pending_for(desk, "edit-me")
    waiting = card(page, str(approval["id"]))
    waiting.wait_for()
    waiting.locator("button:has-text('Modify…')").click()
    edited = {"config": "configs/big.yaml", "gpus": 2}
    waiting.locator("textarea[name=args]").fill(json.dumps(edited, indent=2))
    waiting.locator("input[name=reason_modify]").fill("two GPUs are enough")
    waiting.locator("button:has-text('Sign the edit')").click()
    assert "RAN configs/big.yaml 2" in agent_output(agent)
    with desk.store() as store:
        (vote,) = store.votes(str(approval["id"]))
    assert vote["decision"] == "modify" and json.loads(vote["args_patch"]) == {"gpus": 2}
    payload = vote_payload(
        str(approval["id"]), str(approval["args_digest"]), "modify", "carol",
        "two GPUs are enough", vote["args_patch"],
    )  # fmt: skip
    with desk.store() as store:
        carol_key = trusted_reviewers(store.reviewers())[0]["carol"].public_key
    assert verify(carol_key, payload, vote["signature"])


def test_an_admin_endorses_a_registration_with_their_own_passkey(
    browser: Any, desk: Desk, shoot: Callable[[Any, str], Path]
) -> None:
    admin = browser_with_passkeys(browser)
    desk.endorse("ada", register(desk, admin.page, "ada", "admin"), "admin")
    sign_in(desk, admin.page, "/reviewers")
    newcomer = browser_with_passkeys(browser)
    registration = register(desk, newcomer.page, "fred", "approver")
    fingerprint = newcomer.page.locator("#fingerprint").inner_text()
    admin.page.goto(desk.url("/reviewers"))
    item = admin.page.locator(f'li[data-registration="{registration.stem}"]')
    assert item.locator(".fingerprint").inner_text() == fingerprint
    waiting = admin.page.locator("li.pending-item .pending-name").all_inner_texts()
    assert "fred" in waiting and "ada" not in waiting  # endorsed from the CLI: no longer waits
    shoot(admin.page, "reviewers-pending")
    item.locator("select[name=role]").select_option("viewer")
    item.locator("button:has-text('Endorse with my passkey')").click()
    admin.page.wait_for_selector(".flash-success")
    assert "Endorsed fred as viewer, signed by ada" in admin.page.locator(".flash").inner_text()
    assert not registration.exists()
    with desk.store() as store:
        rows = store.reviewers()
        trusted, rejected = trusted_reviewers(rows)
    assert trusted["fred"].role == "viewer" and rejected == []
    (row,) = [r for r in rows if r["name"] == "fred"]
    assert row["endorsed_by"] == "ada" and row["endorsement"].startswith(PREFIX)
    payload = endorsement_payload("fred", "viewer", row["public_key"])
    assert verify(trusted["ada"].public_key, payload, row["endorsement"])
    # fred signs in with the passkey ada endorsed
    sign_in(desk, newcomer.page)
    assert newcomer.page.locator(".account .role").inner_text().lower() == "viewer"
    admin.context.close()
    newcomer.context.close()


def test_a_grant_signed_in_the_browser_lets_later_launches_run(
    desk: Desk, carol: BrowserReviewer
) -> None:
    page = carol.page
    page.goto(desk.url("/approvals"))
    form = page.locator("form[data-grant]")
    form.locator("select[name=kind]").select_option("train.launch")
    form.locator("input[name=session_id]").fill("granted")
    form.locator("input[name=hours]").fill("1")
    form.locator("input[name=reason]").fill("sweep tonight")
    form.locator("button:has-text('Sign the grant')").click()
    form.locator(".form-status").filter(has_text="Granted").wait_for()
    with desk.store() as store:
        (row,) = [g for g in store.grants() if g["session_id"] == "granted"]
        carol_key = trusted_reviewers(store.reviewers())[0]["carol"].public_key
    assert row["granted_by"] == "carol" and row["reason"] == "sweep tonight"
    assert verify(carol_key, grant_payload(row), row["signature"])
    # an agent of that session launches at once: the grant covers it
    out = agent_output(start_agent(desk, "granted", timeout=5))
    assert "RAN configs/big.yaml 8" in out
    assert finished(desk, "granted").decided_by == "grant"


def test_an_approver_halts_a_session_from_the_queue(desk: Desk, carol: BrowserReviewer) -> None:
    page = carol.page
    agent = start_agent(desk, "halt-me", timeout=30)
    approval = pending_for(desk, "halt-me")
    page.goto(desk.url("/approvals"))
    waiting = card(page, str(approval["id"]))
    waiting.locator("summary:has-text('Halt session')").click()
    waiting.locator("input[name=reason]").fill("runaway sweep")
    waiting.locator("button:has-text('Halt it')").click()
    page.wait_for_selector(".flash-warning")
    assert "Halted session halt-me: runaway sweep" in page.locator(".flash").inner_text()
    out, _ = agent.communicate(timeout=60)
    assert "RAN" not in out
    with desk.store() as store:
        (halt,) = [h for h in store.halts() if h["scope"] == "halt-me"]
    assert (halt["requested_by"], halt["reason"]) == ("carol", "runaway sweep")
    assert finished(desk, "halt-me").status == "halted"


@pytest.mark.postgres
def test_on_postgresql_a_browser_approval_wakes_the_waiting_agent(
    browser: Any, pg_url: str, tmp_path: Path
) -> None:
    db = register_root(tmp_path, pg_url)
    with serving(pg_url, state_dir=tmp_path / "state") as served:
        desk = Desk(tmp_path, db, served.base, tmp_path / "state", served.app)
        dana = new_reviewer(browser, desk, "dana", "approver")
        agent = start_agent(desk, "pg-approve")
        approval = pending_for(desk, "pg-approve")
        waiting = card(dana.page, str(approval["id"]))
        waiting.wait_for()
        waiting.locator("button[value=approve]").click()
        assert "RAN configs/big.yaml 8" in agent_output(agent)
        assert finished(desk, "pg-approve").approved_by == ["dana"]
        assert reaction_s(desk, str(approval["id"])) < 1.0  # LISTEN/NOTIFY, as for the CLI
        dana.context.close()
