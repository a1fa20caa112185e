"""The same pages on SQLite and PostgreSQL: the queries behind them are plain, indexed SQL on
either database (`store_url` runs each test on both)."""

from __future__ import annotations

from typing import Any

from conftest import serving

from oversight import Monitor
from oversight.web.render import session_url


def test_sessions_and_a_timeline_render_on_either_store(page: Any, store_url: str) -> None:
    with Monitor(db=store_url, policy="record-only", log="none", workspace=False) as monitor:

        @monitor.step(name="Read")
        def read(file_path: str) -> str:
            return "text"

        @monitor.step(name="Edit", kind="file.write")
        def edit(file_path: str, old_string: str, new_string: str) -> str:
            read(file_path)
            return "edited"

        with monitor.session(agent="store-agent") as session:
            for i in range(3):
                edit("train.py", f"epochs = {i}", f"epochs = {i + 1}")
        for n in range(3):
            with monitor.session(agent=f"other-{n}"):
                read("README.md")
    with serving(store_url) as served:
        page.goto(served.url("/"))
        ids = [r.get_attribute("data-session") for r in page.locator("tr.session-row").all()]
        assert len(ids) == 4 and ids[-1] == session.id  # newest first
        page.goto(served.url("/?agent=store"))
        row = page.locator("tr.session-row")
        assert row.count() == 1
        assert row.locator(".status").inner_text() == "completed"
        assert row.locator("td.num").nth(1).inner_text() == "6"

        page.goto(served.url(session_url(session.id)))
        steps = page.locator("li.step")
        assert [s.get_attribute("data-depth") for s in steps.all()] == ["0", "1"] * 3
        assert steps.nth(4).locator(".dl-add").inner_text() == "epochs = 3"
        points = page.locator("polyline.score-line").get_attribute("points")
        assert len(str(points).split()) == 6
        with page.expect_download() as download:
            page.locator("a", has_text="Export JSONL").click()
        lines = download.value.path().read_text(encoding="utf-8").splitlines()
        assert len(lines) == 2 + 6 * 2  # start, end, and each step's proposal and outcome
