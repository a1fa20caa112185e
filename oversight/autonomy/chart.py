"""The score-over-time chart of a session, as self-contained SVG text (no plotting dependency).

One point per step (long sessions are thinned to the highest score per pixel column, so a spike
is never averaged away), the three scenario bands shaded behind the line, and a marker wherever
a person decided a step: that is where the line should bend down.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape

from oversight.autonomy.metric import CHECKPOINT_KINDS, FAST_APPROVAL_S, SCENARIO_NAMES
from oversight.autonomy.observation import StepObservation
from oversight.autonomy.tracker import AutonomySnapshot

WIDTH, HEIGHT = 900, 460
LEFT, RIGHT, TOP, BOTTOM = 64, 196, 64, 70
PAD = 8
MAX_POINTS = 2000
MAX_MARKERS = 1000

BAND_FILL = {1: "#e8f5e9", 2: "#fff4d6", 3: "#fde7e7"}
BAND_TEXT = {1: "#2e7d32", 2: "#8a6100", 3: "#b3261e"}
LINE = "#1f3a93"
APPROVED, DENIED, FAST = "#2e7d32", "#b3261e", "#e08a00"
AXIS, GRID, MUTED = "#444", "#d0d0d0", "#666"
FONT = "font-family='Helvetica, Arial, sans-serif'"

Series = Sequence[tuple[StepObservation, AutonomySnapshot]]
_XAt = Callable[[int], float]
_YAt = Callable[[float], float]


def render_chart(session_id: str, series: Series, *, agent: str | None = None) -> str:
    """The chart as an SVG document; `series` is (step, snapshot as of it) in step order."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(series)

    def x_at(i: int) -> float:
        inner = plot_w - 2 * PAD  # markers at the ends stay clear of the axis and labels
        return LEFT + PAD + (inner * (i / (n - 1)) if n > 1 else inner / 2)

    def y_at(score: float) -> float:
        return TOP + plot_h * (1.0 - score)

    out: list[str] = [
        (
            f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' "
            f"viewBox='0 0 {WIDTH} {HEIGHT}' {FONT} font-size='12'>"
        ),
        f"<rect x='0' y='0' width='{WIDTH}' height='{HEIGHT}' fill='white'/>",
    ]
    out += _title(session_id, series, agent)
    out += _bands(plot_w, y_at)
    out += _y_axis(plot_w, y_at)
    if n == 0:
        out.append(
            f"<text x='{LEFT + plot_w / 2:.1f}' y='{TOP + plot_h / 2:.1f}' fill='{MUTED}' "
            "text-anchor='middle'>no steps recorded</text>"
        )
    else:
        out += _x_axis(series, x_at, plot_h)
        out += _line(series, x_at, y_at, plot_w)
        out += _markers(series, x_at, y_at)
    out += _legend(plot_w)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _title(session_id: str, series: Series, agent: str | None) -> list[str]:
    last = series[-1][1] if series else None
    head = f"Autonomy of session {session_id}" + (f" ({agent})" if agent else "")
    if last is None:
        summary = "no steps"
    else:
        summary = (
            f"final score {last.score:.2f}: scenario {last.scenario} "
            f"({SCENARIO_NAMES[last.scenario]}) after {len(series)} steps"
        )
    return [
        (
            f"<text x='{LEFT}' y='26' font-size='16' font-weight='bold' fill='#222'>"
            f"{escape(_clip(head, 80))}</text>"
        ),
        f"<text x='{LEFT}' y='46' fill='{MUTED}'>{escape(summary)}</text>",
    ]


def _bands(plot_w: float, y_at: _YAt) -> list[str]:
    out: list[str] = []
    for scenario in (1, 2, 3):
        low, high = (scenario - 1) / 3, scenario / 3
        y_top, y_bottom = y_at(high), y_at(low)
        out.append(
            f"<rect class='band band-{scenario}' x='{LEFT}' y='{y_top:.1f}' width='{plot_w}' "
            f"height='{y_bottom - y_top:.1f}' fill='{BAND_FILL[scenario]}'/>"
        )
        middle = (y_top + y_bottom) / 2
        out.append(
            f"<text x='{LEFT + plot_w + 10}' y='{middle - 3:.1f}' fill='{BAND_TEXT[scenario]}' "
            f"font-weight='bold'>scenario {scenario}</text>"
        )
        out.append(
            f"<text x='{LEFT + plot_w + 10}' y='{middle + 12:.1f}' fill='{BAND_TEXT[scenario]}' "
            f"font-size='11'>{escape(SCENARIO_NAMES[scenario])}</text>"
        )
    return out


def _y_axis(plot_w: float, y_at: _YAt) -> list[str]:
    out: list[str] = []
    for value in (0.0, 1 / 3, 2 / 3, 1.0):
        y = y_at(value)
        out.append(
            f"<line x1='{LEFT}' y1='{y:.1f}' x2='{LEFT + plot_w}' y2='{y:.1f}' stroke='{GRID}'/>"
        )
        out.append(
            f"<text x='{LEFT - 8}' y='{y + 4:.1f}' text-anchor='end' fill='{AXIS}'>"
            f"{value:.2f}</text>"
        )
    bottom, top = y_at(0.0), y_at(1.0)
    out.append(f"<line x1='{LEFT}' y1='{top}' x2='{LEFT}' y2='{bottom}' stroke='{AXIS}'/>")
    out.append(
        f"<text transform='translate(18 {(top + bottom) / 2:.1f}) rotate(-90)' "
        f"text-anchor='middle' fill='{AXIS}'>autonomy score</text>"
    )
    return out


def _x_axis(series: Series, x_at: _XAt, plot_h: float) -> list[str]:
    n = len(series)
    y = TOP + plot_h
    out = [f"<line x1='{LEFT}' y1='{y}' x2='{WIDTH - RIGHT}' y2='{y}' stroke='{AXIS}'/>"]
    start = series[0][0].ts
    ticks = sorted({round(i * (n - 1) / 5) for i in range(6)}) if n > 1 else [0]
    for i in ticks:
        obs = series[i][0]
        x = x_at(i)
        out.append(f"<line x1='{x:.1f}' y1='{y}' x2='{x:.1f}' y2='{y + 5}' stroke='{AXIS}'/>")
        out.append(
            f"<text x='{x:.1f}' y='{y + 18}' text-anchor='middle' fill='{AXIS}'>#{obs.seq}</text>"
        )
        out.append(
            f"<text x='{x:.1f}' y='{y + 32}' text-anchor='middle' fill='{MUTED}' "
            f"font-size='11'>+{_elapsed(obs.ts - start)}</text>"
        )
    when = _dt.datetime.fromtimestamp(start, tz=_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.append(
        f"<text x='{LEFT + (WIDTH - LEFT - RIGHT) / 2:.1f}' y='{y + 52}' text-anchor='middle' "
        f"fill='{AXIS}'>step (and time since the first step, {when})</text>"
    )
    return out


def _line(series: Series, x_at: _XAt, y_at: _YAt, plot_w: float) -> list[str]:
    n = len(series)
    indices = list(range(n))
    if n > MAX_POINTS:
        # Keep the highest score in each of MAX_POINTS columns: a spike stays visible.
        columns: dict[int, int] = {}
        for i in range(n):
            column = i * MAX_POINTS // n
            best = columns.get(column)
            if best is None or series[i][1].score > series[best][1].score:
                columns[column] = i
        indices = sorted(columns.values())
    points = " ".join(f"{x_at(i):.1f},{y_at(series[i][1].score):.1f}" for i in indices)
    out = [
        (
            f"<polyline class='score' points='{points}' fill='none' stroke='{LINE}' "
            "stroke-width='2' stroke-linejoin='round'/>"
        )
    ]
    if n == 1:
        out.append(
            f"<circle cx='{x_at(0):.1f}' cy='{y_at(series[0][1].score):.1f}' r='3' fill='{LINE}'/>"
        )
    return out


def _diamond(x: float, y: float, color: str, cls: str, title: str = "") -> str:
    points = f"{x:.1f},{y - 5:.1f} {x + 4:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 4:.1f},{y:.1f}"
    tip = f"<title>{escape(title)}</title>" if title else ""
    return f"<polygon class='{cls}' points='{points}' fill='{color}'>{tip}</polygon>"


def _markers(series: Series, x_at: _XAt, y_at: _YAt) -> list[str]:
    """Checkpoints that ran with no person (diamonds), then people's decisions (rings) on top."""
    out: list[str] = []
    for i, (obs, snap) in enumerate(series):
        if len(out) >= MAX_MARKERS:
            break
        real = obs.review == "human" and not (
            not obs.human_denied
            and obs.review_wait_s is not None
            and obs.review_wait_s < FAST_APPROVAL_S
        )
        if obs.ran and not real and obs.kind in CHECKPOINT_KINDS:
            how = "automatically" if obs.review == "automatic" else "with no person"
            title = f"#{obs.seq} {obs.kind.value} {obs.name}: ran {how}"
            out.append(_diamond(x_at(i), y_at(snap.score), DENIED, "unreviewed", title))
    for i, (obs, snap) in enumerate(series):
        if obs.review != "human":
            continue
        if len(out) >= MAX_MARKERS:
            break
        x, y = x_at(i), y_at(snap.score)
        who = ", ".join(obs.approvers) or "a person"
        wait = f" in {obs.review_wait_s:.1f} s" if obs.review_wait_s is not None else ""
        what = f"#{obs.seq} {obs.kind.value}"
        if obs.human_denied:
            label, cls, color = f"{what}: denied by {who}{wait}", "deny", DENIED
        elif obs.review_wait_s is not None and obs.review_wait_s < FAST_APPROVAL_S:
            label, cls, color = f"{what}: approved by {who}{wait} (too fast to read)", "fast", FAST
        else:
            label, cls, color = f"{what}: approved by {who}{wait}", "approve", APPROVED
        out.append(
            f"<circle class='review {cls}' cx='{x:.1f}' cy='{y:.1f}' r='5' fill='white' "
            f"stroke='{color}' stroke-width='2.5'><title>{escape(label)}</title></circle>"
        )
    return out


def _legend(plot_w: float) -> list[str]:
    x = LEFT + plot_w + 40
    y = TOP + (HEIGHT - TOP - BOTTOM) + 4
    items = [
        ("score", LINE, "line"),
        ("person approved", APPROVED, "dot"),
        ("person denied", DENIED, "dot"),
        (f"approved in < {FAST_APPROVAL_S:g} s", FAST, "dot"),
        ("checkpoint, no person", DENIED, "diamond"),
    ]
    out: list[str] = []
    for i, (text, color, shape) in enumerate(items):
        yy = y + i * 13
        if shape == "line":
            out.append(
                f"<line x1='{x}' y1='{yy - 4}' x2='{x + 14}' y2='{yy - 4}' stroke='{color}' "
                "stroke-width='2'/>"
            )
        elif shape == "diamond":
            out.append(_diamond(x + 7, yy - 4, color, "legend"))
        else:
            out.append(
                f"<circle cx='{x + 7}' cy='{yy - 4}' r='4' fill='white' stroke='{color}' "
                "stroke-width='2'/>"
            )
        out.append(
            f"<text x='{x + 20}' y='{yy}' font-size='11' fill='{AXIS}'>{escape(text)}</text>"
        )
    return out


def _elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
