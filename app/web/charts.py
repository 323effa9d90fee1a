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


class ProgressChart:
    """The chart of one list of progress points, drawn in two stages.

    Everything that depends on the points alone (thinning, the step series, the y axis with its grid,
    each point's height) is worked out once, here; `svg(x_end)` only lays out the time axis, which
    stretches to "now" on every poll of a running solve. A process keeps one per run (app.web.present)
    until new points arrive, so a poll pays for the time axis only.
    """

    def __init__(self, points: Sequence[Point]):
        self.points = list(points)
        points = _thin(self.points)
        self.last_elapsed = points[-1].elapsed if points else 0.0
        self.objective = _changes([(p.elapsed, p.objective) for p in points if p.objective is not None])
        self.bound = _changes([(p.elapsed, p.bound) for p in points if p.bound is not None])
        self.empty = not (self.objective or self.bound)
        if self.empty:
            return
        y_ticks = nice_ticks(*_y_range(self.objective, self.bound))
        y_lo, y_hi = y_ticks[0], y_ticks[-1]
        self.left = left = 14 + CHAR_WIDTH * max(len(num(t)) for t in y_ticks)
        self.plot_w, plot_h = WIDTH - left - RIGHT, HEIGHT - TOP - BOTTOM

        def sy(y: float) -> float:
            # Early bounds far below the final range are drawn on the bottom edge, not squashing the plot.
            return TOP + plot_h * (1 - (min(max(y, y_lo), y_hi) - y_lo) / (y_hi - y_lo))

        # Each step's time, and its height as drawn (SVG text): only the times move with the axis.
        self.objective_at = [(x, f"{sy(y):.1f}") for x, y in self.objective]
        self.bound_at = [(x, f"{sy(y):.1f}") for x, y in self.bound]
        self.y_grid = "".join(
            f'<line class="grid" x1="{left:.1f}" x2="{WIDTH - RIGHT}" y1="{sy(t):.1f}" y2="{sy(t):.1f}"/>'
            f'<text class="tick" x="{left - 8:.1f}" y="{sy(t) + 4:.1f}" text-anchor="end">{escape(num(t))}</text>'
            for t in y_ticks
        )
        self.axis = f'<line class="axis" x1="{left:.1f}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>'

    def svg(self, x_end: float, chart_id: str = "chart") -> Markup:
        """The chart as inline SVG markup; `x_end` is 'now' (or the end of the solve) in seconds."""
        if self.empty:
            return Markup("")
        x_max = max(x_end, self.last_elapsed, 1.0)
        left, plot_w = self.left, self.plot_w

        def sx(x: float) -> float:
            return left + plot_w * x / x_max

        x_ticks = [t for t in nice_ticks(0, x_max, 6) if t <= x_max]
        out = [f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
               f'aria-labelledby="{escape(chart_id)}-title" preserveAspectRatio="xMidYMid meet">',
               f'<title id="{escape(chart_id)}-title">{escape(_describe(self.objective, self.bound, x_max))}</title>',
               self.y_grid]
        for t in x_ticks:
            out.append(f'<text class="tick" x="{sx(t):.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                       f'{escape(_secs(t))}</text>')
        out.append(self.axis)
        if self.bound_at:
            out.append(f'<path class="series bound" d="{_steps(self.bound_at, x_end, sx)}"/>')
        if self.objective_at:
            out.append(f'<path class="series objective" d="{_steps(self.objective_at, x_end, sx)}"/>')
            x, y = self.objective_at[-1]
            out.append(f'<circle class="dot objective" cx="{sx(x):.1f}" cy="{y}" r="3.5"/>')
        out.append("</svg>")
        return Markup("".join(out))


def _steps(series: list[tuple[float, str]], x_end: float, sx) -> str:
    """SVG path data for a step line through `series` (time, height as drawn), held flat until `x_end`."""
    (x0, y0), rest = series[0], series[1:]
    parts = [f"M{sx(x0):.1f},{y0}", *(f"H{sx(x):.1f}V{y}" for x, y in rest)]
    parts.append(f"H{sx(max(x_end, series[-1][0])):.1f}")
    return "".join(parts)


def progress_chart(points: Sequence[Point], x_end: float, chart_id: str = "chart") -> Markup:
    """The chart as inline SVG markup; `x_end` is 'now' (or the end of the solve) in seconds."""
    return ProgressChart(points).svg(x_end, chart_id)


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
