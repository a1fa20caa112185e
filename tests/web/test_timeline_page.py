"""A session's timeline in a real browser: the step tree, who decided each step, diffs, the
reason a run counted as training, the autonomy chart, and paging through long sessions."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import NARROW, ManyStore, ReviewStore, Served

from oversight.records import StepFinished, StepProposed
from oversight.store import open_store
from oversight.web.render import session_url, step_url


def step(page: Any, name: str, nth: int = 0) -> Any:
    return page.locator("li.step").filter(has=page.locator(f'.name:text-is("{name}")')).nth(nth)


def test_the_step_tree_nests_children_under_their_parent(
    page: Any, review_app: Served, review_store: ReviewStore
) -> None:
    page.goto(review_app.url(session_url(review_store.nested)))
    steps = page.locator("li.step")
    assert steps.count() == 3
    depths = [s.get_attribute("data-depth") for s in steps.all()]
    names = [s.locator(".name").inner_text().strip(" └") for s in steps.all()]
    assert names == ["plan_experiment", "Read", "Read"]
    assert depths == ["0", "1", "1"]
    parent_id = steps.nth(0).get_attribute("data-step-id")
    page.locator("[data-details=open]").click()
    for child in steps.all()[1:]:
        assert "depth-1" in str(child.get_attribute("class"))
        assert f"step {parent_id}" in child.locator(".kv").inner_text()
    # children are drawn indented further than their parent
    parent_x = steps.nth(0).locator(".name").bounding_box()["x"]
    assert steps.nth(1).locator(".name").bounding_box()["x"] > parent_x + 15


def test_a_gated_step_shows_its_reviewer_vote_and_wait(
    page: Any,
    review_app: Served,
    review_store: ReviewStore,
    shoot: Callable[[Any, str], Path],
) -> None:
    with open_store(review_store.url) as store:
        finished = {
            r.record.kind: r.record
            for r in store.iter_records(review_store.demo, types={"step.finished"})
            if isinstance(r.record, StepFinished) and r.record.decided_by == "reviewers"
        }
    approved = finished["code.apply"]
    assert approved.review_wait_ms is not None
    page.goto(review_app.url(session_url(review_store.demo)))
    row = page.locator(f"#step-{approved.seq}")
    assert row.locator(".who").inner_text() == "people: demo-reviewer"
    wait = f"waited {approved.review_wait_ms / 1000:.1f} s"
    assert row.locator(".wait").inner_text() == wait
    box = row.locator(".approval-box")
    assert approved.approval_id is not None and approved.approval_id in box.inner_text()
    assert box.locator(".vote-approve").count() == 1
    assert "demo-reviewer" in box.locator(".votes").inner_text()

    denied = finished["file.write"]
    denied_row = page.locator(f"#step-{denied.seq}")
    assert denied_row.locator(".status").first.inner_text() == "denied"
    assert denied_row.locator(".vote-deny").count() == 1
    assert "methods review" in denied_row.locator(".result-error").inner_text()

    timed_out = step(page, "launch_training")
    assert (
        "nobody: no person answered before the deadline" in timed_out.locator(".who").inner_text()
    )
    shoot(page, "timeline")
    page.set_viewport_size(NARROW)
    shoot(page, "timeline-1024")


def test_an_edit_shows_as_a_diff(page: Any, review_app: Served, review_store: ReviewStore) -> None:
    page.goto(review_app.url(session_url(review_store.demo)))
    edit = step(page, "Edit", 0)
    diff = edit.locator(".diff")
    assert diff.locator(".diff-head").inner_text() == "configs/base.yaml"
    assert diff.locator(".dl-del").all_inner_texts() == ["lr: 0.1"]
    assert diff.locator(".dl-add").all_inner_texts() == ["lr: 1.0"]
    assert diff.is_visible()  # edits are unfolded: a reviewer sees the change without a click


def test_the_reason_a_run_counted_as_training_is_shown(
    page: Any, review_app: Served, review_store: ReviewStore
) -> None:
    page.goto(review_app.url(session_url(review_store.training)))
    row = page.locator("li.step").first
    assert row.locator(".kind").inner_text() == "train.launch"
    page.locator("[data-details=open]").click()
    reason = row.locator(".kv .reason").inner_text()
    assert re.fullmatch(
        r"runs baseline\.py, which trains a model \(optimizer\.step, line 8\)", reason
    )
    assert "Why train.launch" in row.locator(".kv").inner_text()
    assert row.locator(".result .badge").inner_text() == "exit 0"
    assert row.locator("pre.stdout").inner_text() == "epoch 3 loss 0.12"


def test_the_chart_has_a_point_per_agent_step_and_marks_people_and_stretches(
    page: Any, review_app: Served, review_store: ReviewStore
) -> None:
    with open_store(review_store.url) as store:
        agent_steps = [
            r.record
            for r in store.iter_records(review_store.demo, types={"step.proposed"})
            if isinstance(r.record, StepProposed) and r.record.actor == "agent"
        ]
    page.goto(review_app.url(session_url(review_store.demo)))
    chart = page.locator("svg.autonomy-chart")
    assert chart.is_visible()
    points = str(chart.locator("polyline.score-line").get_attribute("points")).split()
    assert len(points) == len(agent_steps) > 10
    ys = [float(p.split(",")[1]) for p in points]
    assert len(set(ys)) > 1  # the score moves over the session
    assert chart.locator("circle.mark.approve").count() == 1
    assert chart.locator("circle.mark.deny").count() == 1
    assert chart.locator("rect.stretch").count() >= 1
    assert chart.locator("polygon.evidence").count() >= 1
    # a mark links to its step, and following it opens that step
    chart.locator("circle.mark.deny").click()
    target = page.evaluate("location.hash")
    assert re.fullmatch(r"#step-\d+", target)
    assert page.locator(f"{target} > details").get_attribute("open") is not None
    # steps of the longest unsupervised stretch are highlighted in the list
    assert page.locator("li.step.in-stretch").count() >= 2
    assert page.locator(".stretch-label").first.inner_text().startswith("Unsupervised stretch")


def test_an_interrupted_session_marks_the_step_that_never_finished(
    page: Any, review_app: Served, review_store: ReviewStore
) -> None:
    page.goto(review_app.url(session_url(review_store.interrupted)))
    assert page.locator(".session-head .status").first.inner_text() == "interrupted"
    row = page.locator("li.step").first
    assert row.locator(".status").inner_text() == "interrupted"
    assert "no outcome was ever recorded" in row.locator(".result-warning").inner_text()


def test_a_long_session_pages_its_steps(page: Any, many_app: Served, many_store: ManyStore) -> None:
    page.goto(many_app.url(session_url(many_store.long)))
    assert page.locator("li.step").count() == 100
    assert page.locator("#steps h2").inner_text() == "Steps 1–100 of 250"
    page.locator('.pager a[rel="next"]').click()
    assert page.locator("li.step").first.get_attribute("data-seq") == "101"
    page.locator(".pager a", has_text="Last").click()
    assert [s.get_attribute("data-seq") for s in page.locator("li.step").all()] == [
        str(n) for n in range(201, 251)
    ]
    # the chart still scores the whole session, and a mark on another page links there
    points = page.locator("polyline.score-line").get_attribute("points")
    assert len(str(points).split()) == 250


def test_an_unknown_session_is_a_404_page(page: Any, review_app: Served) -> None:
    response = page.goto(review_app.url("/sessions/no-such-session"))
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert "no session 'no-such-session'" in page.locator(".error-message").inner_text()
    assert "Traceback" not in page.content()
    assert page.locator(".nav").is_visible()  # the frame is there: a reviewer can go on


def test_a_link_to_a_step_by_id_lands_on_the_page_that_shows_it(
    page: Any,
    review_app: Served,
    review_store: ReviewStore,
    many_app: Served,
    many_store: ManyStore,
) -> None:
    with open_store(many_store.url) as store:
        proposals = [
            r.record
            for r in store.iter_records(many_store.long, types={"step.proposed"})
            if isinstance(r.record, StepProposed)
        ]
    late = proposals[149]
    page.goto(many_app.url(step_url(many_store.long, late.step_id)))
    assert page.url.endswith(f"?offset=100#step-{late.seq}")
    assert page.locator(f"#step-{late.seq} > details").get_attribute("open") is not None
    # imported steps are named SESSION#N: the link survives the '#'
    imported = review_store.imported[0]
    page.goto(review_app.url(step_url(imported, f"{imported}#2")))
    assert page.url.endswith("#step-2")
    assert page.locator("#step-2").is_visible()
    missing = page.goto(review_app.url(step_url(imported, "no-such-step")))
    assert missing.status == 404


def test_the_timeline_and_chart_render_for_a_real_imported_session(
    page: Any, review_app: Served, review_store: ReviewStore
) -> None:
    """A session imported from a real Inspect log (not one we wrote): its steps and its chart,
    a point per agent step."""
    with open_store(review_store.url) as store:
        sizes = {
            sid: sum(
                1
                for r in store.iter_records(sid, types={"step.proposed"})
                if isinstance(r.record, StepProposed) and r.record.actor == "agent"
            )
            for sid in review_store.imported
        }
    longest = max(sizes, key=lambda sid: sizes[sid])
    page.goto(review_app.url(session_url(longest)))
    assert page.locator("li.step, [id^=step-]").count() >= sizes[longest] > 5
    chart = page.locator("svg.autonomy-chart")
    assert chart.is_visible()
    points = str(chart.locator("polyline.score-line").get_attribute("points")).split()
    assert len(points) == sizes[longest]
