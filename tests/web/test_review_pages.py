"""Approvals, integrity and export in a real browser, and what every page loads."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from conftest import ReviewStore, Served, serving
from reviewing import cli

from oversight.records import parse_record
from oversight.store import open_store
from oversight.web.config import WebConfig
from oversight.web.render import session_url


def test_pending_approvals_show_the_call_rule_quorum_and_session(
    page: Any,
    review_app: Served,
    review_store: ReviewStore,
    shoot: Callable[[Any, str], Path],
) -> None:
    page.goto(review_app.url("/approvals"))
    cards = page.locator("article.approval")
    assert cards.count() == 1
    card = cards.first
    assert card.get_attribute("data-approval") == review_store.approval_id
    assert card.locator(".call-name").inner_text() == "launch_training"
    assert card.locator(".kind").inner_text() == "train.launch"
    assert json.loads(card.locator(".call-args").inner_text()) == {
        "config": "configs/base.yaml",
        "gpus": 8,
    }
    reason = card.locator(".approval-reason").inner_text()
    assert "training needs a person" in reason and "gate-training" in reason
    assert card.locator(".quorum").inner_text() == "0 of 1 approval"
    assert card.locator(".age").inner_text().startswith("waiting ")
    assert card.locator(".deadline").inner_text().startswith("closes in ")
    shoot(page, "approvals")
    card.locator("a", has_text="Open the step").click()
    page.wait_for_url("**#step-1")
    assert page.locator("li.step").first.locator(".kind").inner_text() == "train.launch"
    assert review_store.waiting in page.locator("h1").inner_text()


def test_integrity_runs_when_asked_and_says_intact(
    page: Any, review_app: Served, shoot: Callable[[Any, str], Path]
) -> None:
    page.goto(review_app.url("/integrity"))
    assert page.locator("#verdict").count() == 0  # nothing runs on page load
    page.locator("a", has_text="Verify").click()
    page.wait_for_url("**/integrity")
    verdict = page.locator("#verdict")
    assert "Intact" in verdict.locator("h2").inner_text()
    with open_store(review_app.store_url) as store:
        report = store.verify()
    assert f"{report.checked:,} records verified" in verdict.inner_text()
    shoot(page, "integrity")


def test_integrity_names_where_the_chain_breaks(
    page: Any,
    review_store: ReviewStore,
    tmp_path: Path,
    shoot: Callable[[Any, str], Path],
) -> None:
    copy = tmp_path / "tampered.db"
    source = Path(review_store.url.removeprefix("sqlite:///"))
    with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    with open_store(f"sqlite:///{copy}") as store:
        edited = next(r for r in store.iter_records(review_store.demo, types={"step.proposed"}))
    with sqlite3.connect(copy) as db:
        db.execute(
            "UPDATE oversight_records SET body = replace(body, 'Improve', 'Sabotage') "
            "WHERE seq = ?",
            (edited.seq,),
        )
    with serving(f"sqlite:///{copy}") as served:
        page.goto(served.url("/integrity/run"))
        verdict = page.locator("#verdict")
        assert "Tampered" in verdict.locator("h2").inner_text()
        assert f"seq {edited.seq}" in verdict.locator(".problem").first.inner_text()
        assert "hash mismatch" in verdict.inner_text()
        link = verdict.locator(f'a[href="{session_url(review_store.demo)}"]')
        assert link.count() == 1
        shoot(page, "integrity-tampered")


def test_export_returns_every_record_of_the_session(
    page: Any, review_app: Served, review_store: ReviewStore
) -> None:
    page.goto(review_app.url(session_url(review_store.demo)))
    with page.expect_download() as download:
        page.locator("a", has_text="Export JSONL").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    with open_store(review_store.url) as store:
        stored = list(store.iter_records(review_store.demo))
    assert len(lines) == len(stored) > 40
    for line, record in zip(lines, stored, strict=True):
        item = json.loads(line)
        assert (item["seq"], item["hash"], item["prev_hash"]) == (
            record.seq,
            record.hash,
            record.prev_hash,
        )
        assert parse_record(json.dumps(item["record"])) == record.record
    missing = page.request.get(review_app.url("/sessions/no-such-session/export.jsonl"))
    assert missing.status == 404


def test_pages_load_nothing_from_anywhere_else(
    page: Any, review_app: Served, review_store: ReviewStore
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    paths = ["/", session_url(review_store.demo), "/approvals", "/integrity"]
    for path in paths:
        response = page.goto(review_app.url(path))
        assert response.status == 200
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
    origins = {urlparse(url).netloc for url in requested}
    assert origins == {urlparse(review_app.base).netloc}
    assert any("/static/app.css" in url for url in requested)
    assert any("/static/app.js" in url for url in requested)
    # the stylesheet applied (the page is not unstyled HTML)
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(245, 246, 248)"


def test_integrity_checks_the_store_against_signed_anchors(
    page: Any, review_store: ReviewStore, tmp_path: Path
) -> None:
    db = Path(review_store.url.removeprefix("sqlite:///"))
    anchors = tmp_path / "anchors.jsonl"
    key = db.parent / f"{db.stem}-keys" / "demo-admin.pem"
    done = cli(
        "anchor", "--as", "demo-admin", "--key", str(key), "--to", str(anchors), "--db", str(db)
    )
    assert done.returncode == 0, done.stderr
    with serving(review_store.url, WebConfig(anchors_file=anchors)) as served:
        page.goto(served.url("/integrity/run"))
        verdict = page.locator("#verdict")
        assert "Intact" in verdict.locator("h2").inner_text()
        assert "against 1 anchor:" in verdict.inner_text()
        # an anchor whose hash was changed no longer verifies, and the page says which
        line = json.loads(anchors.read_text(encoding="utf-8"))
        forged = {**line, "hash": "0" * 64}
        anchors.write_text(json.dumps(forged) + "\n", encoding="utf-8")
        page.goto(served.url("/integrity/run"))
        assert "Tampered" in verdict.locator("h2").inner_text()
        problem = verdict.locator(".problem").first.inner_text()
        assert f"anchor of seq {line['seq']} by demo-admin" in problem
        assert "signature does not verify" in problem
