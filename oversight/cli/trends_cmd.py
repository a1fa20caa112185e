"""`oversight trends`: autonomy per agent per day, to see review thin out over time."""

from __future__ import annotations

import datetime as _dt
import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from oversight.autonomy import observations_from_records, score_session
from oversight.autonomy.trends import DayTrend, ScoredSession, daily_trends
from oversight.cli import app
from oversight.cli.common import DbOption, JsonOption, console, open_cli_store
from oversight.cli.report_cmd import SCENARIO_STYLE
from oversight.errors import ConfigError


@app.command()
def trends(
    db: DbOption = None,
    days: Annotated[int, typer.Option("--days", help="Sessions started in the last N days.")] = 30,
    as_json: JsonOption = False,
) -> None:
    """Autonomy per agent per day: sessions, mean score, highest scenario, share of consequential
    steps a person decided, approval rate and median review wait."""
    if days < 1:
        raise ConfigError(f"--days must be at least 1, got {days}")
    since = _dt.datetime.now(_dt.UTC) - _dt.timedelta(days=days)
    scored: list[ScoredSession] = []
    with open_cli_store(db) as store:
        url = store.url_for_display
        for summary in store.sessions():
            started = summary.started_at or summary.last_ts
            if started < since:
                continue
            records = (stored.record for stored in store.iter_records(summary.session_id))
            observations = observations_from_records(records).get(summary.session_id, [])
            scored.append(
                ScoredSession(
                    session_id=summary.session_id,
                    agent=summary.agent,
                    started=started,
                    observations=observations,
                    snapshot=score_session(observations),
                )
            )
    rows = daily_trends(scored)
    if as_json:
        print(
            json.dumps(
                {"days": days, "since": since.isoformat(), "rows": [r.to_json() for r in rows]}
            )
        )
        return
    if not rows:
        console.print(f"No sessions started in the last {days} day(s) in {url}.")
        return
    render_trends(rows, days)


def render_trends(rows: list[DayTrend], days: int) -> None:
    table = Table(
        title=f"Autonomy per agent per day (UTC), last {days} day(s)", title_justify="left"
    )
    for col in ("agent", "day", "sessions", "mean score", "Δ", "max scenario",
                "human-decided", "approval rate", "median wait"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("agent", "day") else "right")
    previous: dict[str, DayTrend] = {}
    for row in rows:
        before = previous.get(row.agent)
        delta = "" if before is None else f"{row.mean_score - before.mean_score:+.2f}"
        table.add_row(
            Text(row.agent),
            row.day.isoformat(),
            str(row.sessions),
            f"{row.mean_score:.2f}",
            Text(delta, style="red" if delta.startswith("+") and delta != "+0.00" else ""),
            Text(str(row.max_scenario), style=SCENARIO_STYLE[row.max_scenario]),
            _pct(row.human_reviewed_share),
            _pct(row.human_approval_rate),
            "-" if row.median_review_wait_s is None else f"{row.median_review_wait_s:.1f} s",
        )
        previous[row.agent] = row
    console.print(table)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"
