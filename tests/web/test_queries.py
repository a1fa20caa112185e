"""The sessions-list queries: one row per session however often it was resumed, positions that
cannot be forged into SQL, and the time budget of filters the index cannot answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from oversight import Monitor
from oversight.web.queries import Cursor, SessionFilter, StoreReader, list_sessions


def test_a_resumed_session_is_listed_once_with_all_its_steps(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    for run in range(3):  # three monitors, one after another, on the same session
        monitor = Monitor(db=str(db), policy="record-only", log="none", workspace=False)
        with monitor, monitor.session("resumed", agent="resumer"):
            monitor.check("Read", {"file_path": f"{run}.md"}).succeed("x")
    reader = StoreReader(f"sqlite:///{db}")
    try:
        page = list_sessions(reader, SessionFilter())
    finally:
        reader.close()
    assert [row.session_id for row in page.rows] == ["resumed"]
    assert page.rows[0].steps == 3 and page.rows[0].status == "completed"


def test_a_position_is_checked_before_it_reaches_a_query() -> None:
    cursor = Cursor("2026-01-02T03:04:05.000006Z", 42)
    assert Cursor.parse(cursor.text()) == cursor
    for bad in ("", "42", "x.2026-01-02T03:04:05.000006Z", "1.2026-01-02' OR 1=1 --"):
        with pytest.raises(ValueError, match="sessions-list position"):
            Cursor.parse(bad)


def test_filters_the_index_cannot_answer_stop_at_their_budget(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    with Monitor(db=str(db), policy="record-only", log="none", workspace=False) as monitor:
        for i in range(30):
            with monitor.session(f"s-{i:02d}", agent="a"):
                pass
    reader = StoreReader(f"sqlite:///{db}")
    try:
        # nothing matches, and no time to look: the page says where it stopped
        page = list_sessions(reader, SessionFilter(status="failed"), limit=5, budget_s=1e-9)
        assert page.rows == [] and page.stopped_at is not None
        assert 0 < page.scanned < 30
        rest = list_sessions(reader, SessionFilter(status="failed"), before=page.stopped_at)
        assert rest.rows == [] and rest.stopped_at is None
        assert page.scanned + rest.scanned == 30
    finally:
        reader.close()


def test_unknown_filter_values_are_refused() -> None:
    with pytest.raises(ValueError, match="status 'done'"):
        SessionFilter(status="done")
    with pytest.raises(ValueError, match="scenario must be 1, 2 or 3"):
        SessionFilter(scenario=4)
