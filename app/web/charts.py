"""Server-side SVG chart of a solve's objective and best bound over time.

Rendered into the status fragment on every poll, so the chart grows without any JavaScript. Both
series are steps: a value holds until the solver reports a better one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from app.web.formatting import duration, num

WIDTH, HEIGHT = 960, 280
RIGHT, TOP, BOTTOM = 16, 14, 30
CHAR_WIDTH = 7.4  # of a tick label at the stylesheet's 12.5px, to size the left margin
MAX_POINTS = 300  # per series; more adds nothing visible and slows the 1 s poll


@dataclass(frozen=True)
class Point:
    elapsed: float
    objective: float | None
    bound: float | None


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart)."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(lo / step) * step
    ticks, value = [], first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < hi:
        ticks.append(round(value, 10))
    return ticks


def _thin(points: Sequence[Point]) -> list[Point]:
    if len(points) <= MAX_POINTS:
        return list(points)
    stride = math.ceil(len(points) / MAX_POINTS)
    return [*points[::stride], points[-1]]


def _changes(series: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Only the points where the value changes: a step line looks the same without the others."""
    return [pt for i, pt in enumerate(series) if i == 0 or pt[1] != series[i - 1][1]]


def _steps(series: list[tuple[float, float]], x_end: float, sx, sy) -> str:
    """SVG path data for a step line through `series`, held flat until `x_end`."""
    parts = []
    for i, (x, y) in enumerate(series):
        if i == 0:
            parts.append(f"M{sx(x):.1f},{sy(y):.1f}")
        else:
            parts.append(f"H{sx(x):.1f}V{sy(y):.1f}")
    parts.append(f"H{sx(max(x_end, series[-1][0])):.1f}")
    return "".join(parts)


def progress_chart(points: Sequence[Point], x_end: float, chart_id: str = "chart") -> Markup:
    """The chart as inline SVG markup; `x_end` is 'now' (or the end of the solve) in seconds."""
    points = _thin(points)
    objective = _changes([(p.elapsed, p.objective) for p in points if p.objective is not None])
    bound = _changes([(p.elapsed, p.bound) for p in points if p.bound is not None])
    values = [v for _, v in objective + bound]
    if not values:
        return Markup("")
    x_max = max(x_end, points[-1].elapsed, 1.0)
    y_ticks = nice_ticks(*_y_range(objective, bound))
    x_ticks = [t for t in nice_ticks(0, x_max, 6) if t <= x_max]
    y_lo, y_hi = y_ticks[0], y_ticks[-1]
    left = 14 + CHAR_WIDTH * max(len(num(t)) for t in y_ticks)
    plot_w, plot_h = WIDTH - left - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return left + plot_w * x / x_max

    def sy(y: float) -> float:
        # Early bounds far below the final range are drawn on the bottom edge, not squashing the plot.
        return TOP + plot_h * (1 - (min(max(y, y_lo), y_hi) - y_lo) / (y_hi - y_lo))

    out = [f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-labelledby="{escape(chart_id)}-title" preserveAspectRatio="xMidYMid meet">',
           f'<title id="{escape(chart_id)}-title">{escape(_describe(objective, bound, x_max))}</title>']
    for t in y_ticks:
        y = sy(t)
        out.append(f'<line class="grid" x1="{left:.1f}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   f'<text class="tick" x="{left - 8:.1f}" y="{y + 4:.1f}" text-anchor="end">{escape(num(t))}</text>')
    for t in x_ticks:
        out.append(f'<text class="tick" x="{sx(t):.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                   f'{escape(_secs(t))}</text>')
    out.append(f'<line class="axis" x1="{left:.1f}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>')
    if bound:
        out.append(f'<path class="series bound" d="{_steps(bound, x_end, sx, sy)}"/>')
    if objective:
        out.append(f'<path class="series objective" d="{_steps(objective, x_end, sx, sy)}"/>')
        x, y = objective[-1]
        out.append(f'<circle class="dot objective" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5"/>')
    out.append("</svg>")
    return Markup("".join(out))


def _y_range(objective: list[tuple[float, float]], bound: list[tuple[float, float]]) -> tuple[float, float]:
    """Every objective value and the latest bound: where the interesting part of the solve is."""
    values = [v for _, v in objective] + [v for _, v in bound[-1:]]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.06 or max(1.0, abs(hi) * 0.01)
    return (max(0.0, lo - pad) if lo >= 0 else lo - pad), hi + pad


def _secs(t: float) -> str:
    return f"{t:g} s" if t < 120 else f"{t / 60:g} min"


def _describe(objective: list[tuple[float, float]], bound: list[tuple[float, float]], x_max: float) -> str:
    parts = []
    if objective:
        parts.append(f"objective from {num(objective[0][1])} to {num(objective[-1][1])}")
    if bound:
        parts.append(f"best bound from {num(bound[0][1])} to {num(bound[-1][1])}")
    return f"Objective and best bound over time: {', '.join(parts)} in {duration(x_max)}"
