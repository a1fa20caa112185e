"""The search page in a real browser: steps found by what they were called with, what they
returned and how they failed, linked to their place in the timeline; what the store redacted
is not findable; text is shown escaped and any text is a query. The index behind it is kept
current by the app (a thread, and each search), and the page says when it is still behind."""

from __future__ import annotations

import datetime as _dt
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from conftest import NARROW, Served, serving

from oversight import Monitor
from oversight.records import Record, StepFinished, StepProposed
from oversight.store import open_store
from oversight.web.app import create_app
from oversight.web.config import WebConfig
from oversight.web.search_updater import SearchUpdater

SECRET = "ghp_" + "W3bS3archT0k3nQwErTyUiOp12"
HTML_RESULT = '<img src=x onerror="document.title=1"><b>boldmarker</b> & <script>alert(1)</script>'


@dataclass
class SearchStore:
    url: str
    folder: Path
    session: str
    paged: str


@pytest.fixture(scope="module")
def search_store(tmp_path_factory: pytest.TempPathFactory) -> SearchStore:
    folder = tmp_path_factory.mktemp("search-store")
    db = folder / "o.db"
    with Monitor(db=str(db), policy="record-only", log="none", workspace=False) as mon:
        with mon.session("sweep-session", agent="sweeper") as session:
            for i in range(1, 6):
                mon.check("Read", {"file_path": f"notes/day{i}.md"}).succeed("notes")
            mon.check("Bash", {"command": "python train.py --optimizer lamb --lr 3e-4"}).succeed(
                {"exit_code": 0, "stdout": "epoch 3 val_perplexity 17.2", "stderr": ""}
            )
            mon.check("Bash", {"command": f"GITHUB_TOKEN={SECRET} git push mirror"}).succeed(
                f"pushed with {SECRET}"
            )
            mon.check("Bash", {"command": "python eval.py --suite arc"}).fail(
                RuntimeError("segfault inside tokenizerlib while loading vocab")
            )
            mon.check("Write", {"file_path": "report.html", "content": "x"}).succeed(HTML_RESULT)
            mon.check(
                "Bash", {"command": "echo 'loss OR accuracy' NEAR(alpha beta) col:val"}
            ).succeed("ok")
        with mon.session("paged-session", agent="pager") as paged:
            for i in range(60):
                mon.check(
                    "Bash", {"command": f"python sweep.py --seed {i} --tag pagedword"}
                ).succeed("ok")
    return SearchStore(f"sqlite:///{db}", folder, session.id, paged.id)


@pytest.fixture(scope="module")
def search_app(search_store: SearchStore) -> Iterator[Served]:
    config = WebConfig(search_index=search_store.folder / "search.sqlite")
    with serving(search_store.url, config) as served:
        yield served


def search(page: Any, app: Served, words: str) -> list[Any]:
    page.goto(app.url("/search"))
    page.fill("input[name=q]", words)
    page.press("input[name=q]", "Enter")
    page.wait_for_load_state()
    return list(page.locator("tr.hit").all())


def test_a_step_is_found_by_an_argument_word_and_links_to_it_in_the_timeline(
    page: Any, search_app: Served, search_store: SearchStore, shoot: Callable[[Any, str], Path]
) -> None:
    (hit,) = search(page, search_app, "lamb")
    assert hit.locator(".tool").inner_text() == "Bash"
    assert hit.locator(".kind").inner_text() == "train.launch"  # as the classifier saw it
    assert hit.locator(".session-link").inner_text() == search_store.session
    assert hit.locator("mark").all_inner_texts() == ["lamb"]
    assert "--optimizer lamb --lr" in hit.locator(".snippet").inner_text()
    shoot(page, "search")
    page.set_viewport_size(NARROW)
    shoot(page, "search-1024")

    step_id = hit.get_attribute("data-step-id")
    hit.locator("a.step-link").click()
    page.wait_for_load_state()
    assert page.url.endswith("#step-6")  # five reads came first
    step = page.locator("#step-6")
    assert step.get_attribute("data-step-id") == step_id
    assert step.locator(".name").inner_text() == "Bash"


def test_a_step_is_found_by_a_word_of_its_result(
    page: Any, search_app: Served, search_store: SearchStore
) -> None:
    (hit,) = search(page, search_app, "val_perplexity")
    assert hit.locator(".tool").inner_text() == "Bash"  # named from its proposal
    assert hit.locator("a.step-link").inner_text() == "#6"
    assert hit.locator("mark").all_inner_texts() == ["val_perplexity"]


def test_a_step_is_found_by_a_word_of_its_error(
    page: Any, search_app: Served, search_store: SearchStore
) -> None:
    (hit,) = search(page, search_app, "tokenizerlib")
    assert "segfault inside tokenizerlib" in hit.locator(".snippet").inner_text()
    assert hit.locator("a.step-link").inner_text() == "#8"


def test_a_secret_the_store_redacted_cannot_be_found(
    page: Any, search_app: Served, search_store: SearchStore
) -> None:
    with open_store(search_store.url) as store:
        bodies = [s.record.model_dump_json() for s in store.iter_records(search_store.session)]
    assert not any(SECRET in body for body in bodies)  # the monitor redacted it
    assert any("git push mirror" in body for body in bodies)
    for words in (SECRET, SECRET[4:16], "W3bS3archT0k3n"):
        assert search(page, search_app, words) == []
        assert "No step holds" in page.locator(".empty-state").inner_text()
    (push,) = search(page, search_app, "mirror")
    assert SECRET not in push.inner_text()


def test_html_in_a_result_is_shown_as_text(
    page: Any, search_app: Served, search_store: SearchStore
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    (hit,) = search(page, search_app, "boldmarker")
    snippet = hit.locator(".snippet")
    assert snippet.locator("b, img, script").count() == 0
    assert "<b>" in snippet.inner_text() and "<script>" in snippet.inner_text()
    assert snippet.locator("mark").all_inner_texts() == ["boldmarker"]
    assert dialogs == [] and page.title() != "1"


def test_fts_syntax_is_searched_as_plain_words(
    page: Any, search_app: Served, search_store: SearchStore
) -> None:
    (hit,) = search(page, search_app, "loss OR accuracy")
    assert "'loss OR accuracy' NEAR(alpha beta)" in hit.locator(".snippet").inner_text()
    assert [h.locator("a.step-link").inner_text() for h in search(page, search_app, "NEAR(alpha")]
    assert search(page, search_app, "col:val")
    for words in ('"unbalanced', "NEAR(", "* OR -", "a AND NOT", "')--", "{}[]"):
        search(page, search_app, words)
        assert page.locator("h1").inner_text() == "Search steps"  # a page, not an error
    assert search(page, search_app, "lamb OR nothingmatchesthis") == []  # OR is a word here


def test_results_page_from_newest_to_older(
    page: Any, search_app: Served, search_store: SearchStore
) -> None:
    first = search(page, search_app, "pagedword")
    assert len(first) == 50
    seeds = [int(h.locator(".snippet").inner_text().split("--seed ")[1].split()[0]) for h in first]
    assert seeds == list(range(59, 9, -1))  # newest first
    page.locator("a[rel=next]").click()
    page.wait_for_load_state()
    older = page.locator("tr.hit").all()
    assert [h.locator("a.step-link").inner_text() for h in older] == [
        f"#{n}" for n in range(10, 0, -1)
    ]
    assert page.locator("a[rel=next]").count() == 0
    page.get_by_role("link", name="⇤ Newest").click()
    assert page.locator("tr.hit").count() == 50


def test_a_step_recorded_while_the_app_runs_is_found(
    page: Any, search_app: Served, search_store: SearchStore
) -> None:
    late = Monitor(db=search_store.url, policy="record-only", log="none", workspace=False)
    with late, late.session("late-session"):
        late.check("Bash", {"command": "python late.py --flag freshlyrecorded"}).succeed("ok")
    (hit,) = search(page, search_app, "freshlyrecorded")
    assert hit.locator(".session-link").inner_text() == "late-session"


def test_search_and_live_scores_read_the_same_on_sqlite_and_postgresql(
    page: Any, store_url: str, tmp_path: Path
) -> None:
    mon = Monitor(db=store_url, policy="record-only", log="none", workspace=False)
    with mon, mon.session("either", agent="either-agent"):
        mon.check("Bash", {"command": "python prep.py --dataset wikitext"}).succeed("prepared")
        mon.check("Bash", {"command": "python eval.py"}).fail(RuntimeError("shardmissing"))
    with serving(store_url, WebConfig(search_index=tmp_path / "search.sqlite")) as served:
        page.goto(served.url("/"))
        badge = page.locator('tr.session-row[data-session="either"] .scenario')
        assert badge.inner_text().startswith("S")  # the score the monitor recorded live
        assert "scored from the records" not in str(badge.get_attribute("title"))
        (by_argument,) = search(page, served, "wikitext")
        assert by_argument.locator("a.step-link").inner_text() == "#1"
        (by_error,) = search(page, served, "shardmissing")
        assert by_error.locator(".tool").inner_text() == "Bash"
        assert by_error.locator("a.step-link").inner_text() == "#2"


# -- keeping the index current --------------------------------------------------------------


def _bulk_store(db: Path, steps: int) -> str:
    """A store of `steps` steps in one session, appended in bulk (a monitor would take long)."""
    url = f"sqlite:///{db}"
    now = _dt.datetime.now(_dt.UTC)
    records: list[Record] = []
    for n in range(1, steps + 1):
        step_id = f"bulk-{n}"
        records.append(
            StepProposed(
                session_id="bulk", step_id=step_id, seq=n, kind="shell.exec", name="Bash",
                args={"command": f"python job.py --part {n} --tag bulkword"},
                args_digest="0" * 64, reason="runs a script", ts=now,
            )
        )  # fmt: skip
        records.append(
            StepFinished(
                session_id="bulk", step_id=step_id, seq=n, kind="shell.exec", status="ok",
                started_at=now, duration_ms=1.0, result_summary="done", ts=now,
            )
        )  # fmt: skip
    with open_store(url) as store:
        for i in range(0, len(records), 10_000):
            store.append(records[i : i + 10_000], durable=False)
    return url


@contextmanager
def serving_without_lifespan(url: str, config: WebConfig) -> Iterator[Served]:
    """The app served with its lifespan off: no background thread, so the index moves only
    when a search asks it to."""
    app = create_app(url, config=config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield Served(f"http://127.0.0.1:{sock.getsockname()[1]}", url)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        app.state.search.stop()


def test_the_page_says_when_the_index_is_still_catching_up(
    page: Any, tmp_path: Path, shoot: Callable[[Any, str], Path]
) -> None:
    url = _bulk_store(tmp_path / "o.db", 40_000)
    with open_store(url) as store:
        head = store.head()[0]
    config = WebConfig(search_index=tmp_path / "search.sqlite")
    with serving_without_lifespan(url, config) as served:
        page.goto(served.url("/search?q=bulkword"))
        note = page.locator(".catching-up")
        assert "still catching up" in note.inner_text()
        assert f"of {head:,}" in note.inner_text()
        reached = int(
            note.inner_text().split("indexed to record ")[1].split(" of")[0].replace(",", "")
        )
        assert 0 < reached < head
        shoot(page, "search-catching-up")
        # Each search indexes a little more, until the index reaches the store's end.
        for _ in range(200):
            page.reload()
            if page.locator(".catching-up").count() == 0:
                break
        assert page.locator(".catching-up").count() == 0
        assert page.locator("tr.hit").count() == 50
        assert page.locator("tr.hit a.step-link").first.inner_text() == "#40000"


def test_the_app_indexes_in_the_background_and_stops_its_thread_on_shutdown(
    tmp_path: Path,
) -> None:
    url = _bulk_store(tmp_path / "o.db", 20_000)
    with open_store(url) as store:
        head = store.head()[0]
    index_file = tmp_path / "search.sqlite"
    before = _index_threads()
    with serving(url, WebConfig(search_index=index_file)):
        deadline = time.monotonic() + 60
        while _indexed_to(index_file) < head and time.monotonic() < deadline:
            time.sleep(0.1)  # no search is made: only the app's thread indexes
        assert _indexed_to(index_file) == head
        assert _index_threads() == before + 1
    assert _index_threads() == before


def _index_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "oversight-search-index")


def _indexed_to(index_file: Path) -> int:
    import sqlite3

    if not index_file.exists():
        return 0
    conn = sqlite3.connect(index_file)
    try:
        row = conn.execute("SELECT max(last_seq) FROM indexed").fetchone()
    except sqlite3.OperationalError:
        row = None
    finally:
        conn.close()
    return int(row[0]) if row and row[0] is not None else 0


def test_an_index_of_a_store_that_was_replaced_is_rebuilt(tmp_path: Path) -> None:
    db, index_file = tmp_path / "o.db", tmp_path / "search.sqlite"
    url = _bulk_store(db, 300)
    with open_store(url) as store:
        first = SearchUpdater(store, index_file)
        assert first.catch_up(budget_s=10).current
        assert first.index.search("bulkword")
        first.stop()
    for stale in tmp_path.glob("o.db*"):
        stale.unlink()
    _bulk_store(db, 10)  # another store at the same place, shorter than the index
    with open_store(url) as store:
        again = SearchUpdater(store, index_file)
        assert again.index.last_seq == 0  # emptied, not trusted
        assert again.catch_up(budget_s=10).current
        hits = again.index.search("bulkword", limit=100)
        assert [h.step_id for h in hits] == [f"bulk-{n}" for n in range(10, 0, -1)]
        again.stop()
