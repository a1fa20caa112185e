"""The sessions list in a real browser: what it shows, how it pages, how it filters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import NARROW, ManyStore, ReviewStore, Served

from oversight.store import open_store


def rows(page: Any) -> list[str]:
    return [str(r.get_attribute("data-session")) for r in page.locator("tr.session-row").all()]


def cell(page: Any, session_id: str, selector: str) -> str:
    row = page.locator(f'tr.session-row[data-session="{session_id}"]')
    return str(row.locator(selector).inner_text()).strip()


def test_the_list_shows_imported_live_running_and_interrupted_sessions(
    page: Any,
    review_app: Served,
    review_store: ReviewStore,
    shoot: Callable[[Any, str], Path],
) -> None:
    page.goto(review_app.url("/"))
    shown = rows(page)
    assert review_store.demo in shown
    assert set(review_store.imported) <= set(shown) and len(review_store.imported) == 15
    for live in (review_store.nested, review_store.training, review_store.waiting):
        assert live in shown
    assert review_store.interrupted in shown

    assert cell(page, review_store.demo, ".agent") == "research-bot"
    assert cell(page, review_store.demo, ".status") == "completed"
    assert cell(page, review_store.demo, ".scenario").startswith("S2")
    with open_store(review_store.url) as store:
        demo_steps = store.count(review_store.demo, types={"step.proposed"})
    demo_row = page.locator(f'tr.session-row[data-session="{review_store.demo}"]')
    assert demo_row.locator("td.num").nth(1).inner_text() == str(demo_steps)
    assert demo_steps > 10

    imported = review_store.imported[0]
    assert cell(page, imported, ".agent") == "inspect"
    assert cell(page, imported, ".status") == "completed"
    assert cell(page, imported, ".scenario").startswith("S")  # scored from its records

    assert cell(page, review_store.waiting, ".status") == "running"
    assert cell(page, review_store.waiting, ".pending") == "1"
    assert cell(page, review_store.interrupted, ".status") == "interrupted"
    assert page.locator(".nav .count").inner_text() == "1"
    shoot(page, "sessions")
    page.set_viewport_size(NARROW)
    shoot(page, "sessions-1024")


def test_sessions_page_newest_first_and_back(
    page: Any, many_app: Served, many_store: ManyStore
) -> None:
    expected = ["long-session", *reversed(many_store.bulk)]
    page.goto(many_app.url("/"))
    seen = [rows(page)]
    assert page.locator('a[rel="prev"]').count() == 0
    while page.locator('a[rel="next"]').count():
        page.locator('a[rel="next"]').click()
        seen.append(rows(page))
    assert [len(p) for p in seen] == [50, 50, 21]
    assert [sid for p in seen for sid in p] == expected
    page.locator('a[rel="prev"]').click()
    assert rows(page) == seen[1]
    page.locator('a[rel="prev"]').click()
    assert rows(page) == seen[0]
    assert page.locator('a[rel="prev"]').count() == 0


def test_filters_narrow_the_list(page: Any, review_app: Served, review_store: ReviewStore) -> None:
    page.goto(review_app.url("/"))
    page.fill('input[name="agent"]', "research")
    page.click('button[type="submit"]')
    assert rows(page) == [review_store.demo]

    page.goto(review_app.url("/"))
    page.select_option('select[name="status"]', "interrupted")  # applies on change
    page.wait_for_url("**status=interrupted**")
    assert rows(page) == [review_store.interrupted]

    page.goto(review_app.url("/?status=running"))
    assert review_store.waiting in rows(page)
    assert all(cell(page, sid, ".status") == "running" for sid in rows(page))

    page.goto(review_app.url("/?scenario=2"))
    found = rows(page)
    assert review_store.demo in found
    assert all(cell(page, sid, ".scenario").startswith("S2") for sid in found)

    page.goto(review_app.url("/?since=2025-03-05&until=2025-03-05"))
    assert sorted(rows(page)) == sorted(review_store.imported)

    part = review_store.interrupted[-10:]
    page.goto(review_app.url("/"))
    page.fill('input[name="q"]', part)
    page.press('input[name="q"]', "Enter")
    page.wait_for_url(f"**q={part}**")
    assert rows(page) == [review_store.interrupted]

    page.goto(review_app.url("/?agent=no-such-agent"))
    assert rows(page) == []
    assert "No session matches these filters" in page.locator(".empty-state").inner_text()


def test_a_bad_filter_is_a_400_page_not_a_traceback(page: Any, review_app: Served) -> None:
    response = page.goto(review_app.url("/?since=yesterday"))
    assert response.status == 400
    assert "is not a date" in page.locator(".error-message").inner_text()
    assert "Traceback" not in page.content()
