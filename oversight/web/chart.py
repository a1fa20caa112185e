"""The autonomy score over time as inline SVG markup: no script, no plotting library.

The line is the score as of each step, over the three scenario bands. People's decisions are
rings (approved, denied, approved too fast to be a reading), checkpoints that ran with no person
are diamonds, evidence steps (what drove the score) are triangles above the plot, and the longest
unsupervised stretches are shaded. Every mark links to its step in the timeline. Colours come
from the page's stylesheet (classes), so the chart follows the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape, quoteattr

from oversight.autonomy import SCENARIO_NAMES, Evidence, Stretch
from oversight.web.autonomy_view import ScorePoint

WIDTH, HEIGHT = 1100, 250
LEFT, RIGHT, TOP, BOTTOM = 46, 176, 22, 30
MAX_POINTS = 1200
MAX_MARKS = 600

StepLink = Callable[[int], str]


def render_chart(
    points: Sequence[ScorePoint],
    *,
    evidence: Sequence[Evidence] = (),
    stretches: Sequence[Stretch] = (),
    link: StepLink,
) -> str:
    """The chart's `<svg>` element, sized by its container (viewBox, 100% wide)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(points)
    index = {p.seq: i for i, p in enumerate(points)}

    def x_at(i: float) -> float:
        return LEFT + (plot_w * (i + 0.5) / n if n else plot_w / 2)

    def y_at(score: float) -> float:
        return TOP + plot_h * (1.0 - min(max(score, 0.0), 1.0))

    step_w = plot_w / n if n else plot_w
    out = [
        (
            f"<svg class='autonomy-chart' xmlns='http://www.w3.org/2000/svg' viewBox='0 0 "
            f"{WIDTH} {HEIGHT}' role='img' aria-label='autonomy score over the session&#39;s "
            "steps'>"
        )
    ]
    for scenario in (1, 2, 3):
        top, bottom = y_at(scenario / 3), y_at((scenario - 1) / 3)
        out.append(
            f"<rect class='band band-{scenario}' x='{LEFT}' y='{top:.1f}' width='{plot_w}' "
            f"height='{bottom - top:.1f}'/>"
        )
        middle, label_x = (top + bottom) / 2, LEFT + plot_w + 12
        out.append(
            f"<text class='band-label band-label-{scenario}' x='{label_x}' y='{middle - 3:.1f}'>"
            f"scenario {scenario}</text><text class='band-name band-label-{scenario}' x='{label_x}' "
            f"y='{middle + 12:.1f}'>{escape(SCENARIO_NAMES[scenario])}</text>"
        )
    for value in (0.0, 1 / 3, 2 / 3, 1.0):
        y = y_at(value)
        out.append(
            f"<line class='grid' x1='{LEFT}' y1='{y:.1f}' x2='{LEFT + plot_w}' y2='{y:.1f}'/>"
        )
        out.append(f"<text class='axis' x='{LEFT - 6}' y='{y + 4:.1f}'>{value:.2f}</text>")
    if n == 0:
        out.append(
            f"<text class='empty' x='{LEFT + plot_w / 2}' y='{TOP + plot_h / 2}'>"
            "no agent steps to score</text></svg>"
        )
        return "".join(out)
    for stretch in stretches:
        first, last = index.get(stretch.start_seq), index.get(stretch.end_seq)
        if first is None or last is None:
            continue
        x0 = x_at(first) - step_w / 2
        span = (
            f"#{stretch.start_seq}"
            if stretch.start_seq == stretch.end_seq
            else f"#{stretch.start_seq}–#{stretch.end_seq}"
        )
        many = "s" if stretch.steps != 1 else ""
        title = (
            f"unsupervised: {stretch.steps} consequential step{many} ({span}) ran with no "
            "person" + (" (still open)" if stretch.open else "")
        )
        out.append(
            f"<a href={quoteattr(link(stretch.start_seq))}><rect class='stretch' x='{x0:.1f}' "
            f"y='{TOP}' width='{max(step_w * (last - first + 1), 2):.1f}' height='{plot_h}'>"
            f"<title>{escape(title)}</title></rect></a>"
        )
    out.append(_line(points, x_at, y_at))
    out += _marks(points, x_at, y_at, link)
    for item in evidence[:MAX_MARKS]:
        i = index.get(item.seq)
        if i is None:
            continue
        x = x_at(i)
        out.append(
            f"<a href={quoteattr(link(item.seq))}><polygon class='evidence' points='{x - 5:.1f},"
            f"{TOP - 12} {x + 5:.1f},{TOP - 12} {x:.1f},{TOP - 3}'><title>"
            f"{escape(f'evidence #{item.seq}: {item.text}')}</title></polygon></a>"
        )
    out += _x_ticks(points, x_at, TOP + plot_h)
    out.append("</svg>")
    return "".join(out)


def _line(
    points: Sequence[ScorePoint], x_at: Callable[[float], float], y_at: Callable[[float], float]
) -> str:
    """The score line; a long session keeps the highest score per column, so a spike shows."""
    n = len(points)
    chosen = list(range(n))
    if n > MAX_POINTS:
        best: dict[int, int] = {}
        for i, point in enumerate(points):
            column = i * MAX_POINTS // n
            kept = best.get(column)
            if kept is None or point.score > points[kept].score:
                best[column] = i
        chosen = sorted(best.values())
    coords = " ".join(f"{x_at(i):.1f},{y_at(points[i].score):.1f}" for i in chosen)
    return f"<polyline class='score-line' points='{coords}'/>"


def _marks(
    points: Sequence[ScorePoint],
    x_at: Callable[[float], float],
    y_at: Callable[[float], float],
    link: StepLink,
) -> list[str]:
    out: list[str] = []
    for i, point in enumerate(points):
        if point.marker is None:
            continue
        if len(out) >= MAX_MARKS:
            break
        x, y = x_at(i), y_at(point.score)
        title = f"<title>{escape(point.label)}</title>"
        if point.marker == "unreviewed":
            shape = (
                f"<polygon class='mark unreviewed' points='{x:.1f},{y - 6:.1f} {x + 5:.1f},"
                f"{y:.1f} {x:.1f},{y + 6:.1f} {x - 5:.1f},{y:.1f}'>{title}</polygon>"
            )
        else:
            shape = (
                f"<circle class='mark {point.marker}' cx='{x:.1f}' cy='{y:.1f}' r='5.5'>"
                f"{title}</circle>"
            )
        out.append(f"<a href={quoteattr(link(point.seq))}>{shape}</a>")
    return out


def _x_ticks(points: Sequence[ScorePoint], x_at: Callable[[float], float], y: float) -> list[str]:
    n = len(points)
    ticks = sorted({round(i * (n - 1) / 6) for i in range(7)}) if n > 1 else [0]
    out = [f"<line class='axis-line' x1='{LEFT}' y1='{y}' x2='{WIDTH - RIGHT}' y2='{y}'/>"]
    for i in ticks:
        x = x_at(i)
        out.append(f"<text class='axis tick' x='{x:.1f}' y='{y + 16}'>#{points[i].seq}</text>")
    return out
