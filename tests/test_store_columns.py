"""Row columns derived from records: the sortable ts text and the body cross-check verify uses."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oversight.records import SessionStarted, StepProposed
from oversight.store.columns import body_disagreement, record_columns, ts_text

offsets = st.builds(
    dt.timezone,
    st.timedeltas(min_value=dt.timedelta(hours=-23), max_value=dt.timedelta(hours=23)).map(
        lambda d: dt.timedelta(minutes=d // dt.timedelta(minutes=1))
    ),
)
moments = st.datetimes(
    min_value=dt.datetime(1971, 1, 1),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.one_of(st.none(), st.just(dt.UTC), offsets),
)


def as_utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


@given(moments)
def test_ts_text_is_fixed_width_utc(moment: dt.datetime) -> None:
    text = ts_text(moment)
    assert len(text) == 27 and text.endswith("Z") and text[19] == "."
    assert dt.datetime.fromisoformat(text) == as_utc(moment)


@given(moments, moments)
def test_ts_text_sorts_in_time_order(a: dt.datetime, b: dt.datetime) -> None:
    assert (ts_text(a) < ts_text(b)) == (as_utc(a) < as_utc(b))


@given(moments)
def test_ts_column_is_the_same_whether_or_not_reused_from_the_body(moment: dt.datetime) -> None:
    record = SessionStarted(session_id="s", pid=1, host="h", oversight_version="0", ts=moment)
    assert record_columns(record).ts == ts_text(moment)


@given(session_id=st.text(min_size=1), step_id=st.text(), moment=moments)
def test_columns_of_any_record_agree_with_its_body(
    session_id: str, step_id: str, moment: dt.datetime
) -> None:
    record = StepProposed(
        session_id=session_id, step_id=step_id, seq=1, kind="shell.exec", name="n",
        args={}, args_digest="d", reason="r", ts=moment, decision="deny",
    )  # fmt: skip
    assert body_disagreement(*record_columns(record)) is None


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("record_id", "other-id"),
        ("type", "step.finished"),
        ("session_id", "other-session"),
        ("step_id", "other-step"),
        ("ts", "2001-01-01T00:00:00.000000Z"),
    ],
)
def test_a_checked_column_that_contradicts_the_body_is_named(column: str, value: str) -> None:
    record = StepProposed(
        session_id="s", step_id="x", seq=1, kind="shell.exec", name="n", args={},
        args_digest="d", reason="r", decision="deny",
    )  # fmt: skip
    columns = record_columns(record)._replace(**{column: value})
    assert body_disagreement(*columns) == (
        f"{column} column {value!r} disagrees with the body "
        f"({getattr(record_columns(record), column)!r})"
    )


def test_a_body_that_is_not_a_record_is_named() -> None:
    columns = record_columns(
        SessionStarted(session_id="s", pid=1, host="h", oversight_version="0")
    )._replace(body='{"id": 1}')
    assert "body is not a valid record" in str(body_disagreement(*columns))


def test_a_column_holding_the_escaped_form_of_the_body_value_is_caught() -> None:
    record = SessionStarted(session_id='lab "A"', pid=1, host="h", oversight_version="0")
    columns = record_columns(record)._replace(session_id='lab \\"A\\"')
    assert columns.body.startswith(
        f'{{"id":"{record.id}","ts":"{columns.ts}","session_id":"lab \\"A\\""'
    )
    assert "session_id column" in str(body_disagreement(*columns))
