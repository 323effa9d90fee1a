"""Numbers as text, and the SVG chart."""

from __future__ import annotations

from app.web import charts, formatting, forms


def test_numbers_and_durations_read_as_text():
    assert formatting.num(1234567) == "1,234,567" and formatting.num(12.50) == "12.5" and formatting.num(None) == "—"
    assert formatting.duration(4.24) == "4.2 s" and formatting.duration(185) == "3 min 05 s"
    assert formatting.duration(7380) == "2 h 03 min"
    assert formatting.pct(0.0321) == "3.2 %" and formatting.pct(0) == "0 %" and formatting.pct(0.00001) == "< 0.1 %"


def test_nice_ticks_cover_the_range_with_round_steps():
    assert charts.nice_ticks(0, 10) == [0, 2.5, 5, 7.5, 10]
    ticks = charts.nice_ticks(103, 987)
    assert ticks == [0, 250, 500, 750, 1000]


def test_chart_draws_objective_and_bound_as_steps_up_to_now():
    svg = charts.progress_chart([charts.Point(0.5, 100, 10), charts.Point(2.0, 60, 40)], x_end=5.0)
    assert svg.startswith("<svg") and svg.count("<path") == 2
    assert "Objective and best bound over time: objective from 100 to 60, best bound from 10 to 40" in svg
    assert charts.progress_chart([], 3.0) == ""
    assert charts.progress_chart([charts.Point(1.0, None, None)], 3.0) == ""


def test_chart_thins_long_solves():
    points = [charts.Point(i / 10, 1000 - i, i) for i in range(5000)]
    svg = charts.progress_chart(points, 500)
    assert svg.count("H") < 2 * (charts.MAX_POINTS + 5) * 2


# Drawn by the single-stage chart before ProgressChart split it (y once per point set, time per poll):
# the split must not change a byte of what the browser gets.
CHART_SNAPSHOT = (
    '<svg class="chart" id="c" viewBox="0 0 960 280" role="img" aria-labelledby="c-title" '
    'preserveAspectRatio="xMidYMid meet">'
    '<title id="c-title">Objective and best bound over time: objective from 100 to 60, '
    'best bound from 10 to 45 in 5.0 s</title>'
    '<line class="grid" x1="36.2" x2="944" y1="250.0" y2="250.0"/>'
    '<text class="tick" x="28.2" y="254.0" text-anchor="end">40</text>'
    '<line class="grid" x1="36.2" x2="944" y1="191.0" y2="191.0"/>'
    '<text class="tick" x="28.2" y="195.0" text-anchor="end">60</text>'
    '<line class="grid" x1="36.2" x2="944" y1="132.0" y2="132.0"/>'
    '<text class="tick" x="28.2" y="136.0" text-anchor="end">80</text>'
    '<line class="grid" x1="36.2" x2="944" y1="73.0" y2="73.0"/>'
    '<text class="tick" x="28.2" y="77.0" text-anchor="end">100</text>'
    '<line class="grid" x1="36.2" x2="944" y1="14.0" y2="14.0"/>'
    '<text class="tick" x="28.2" y="18.0" text-anchor="end">120</text>'
    '<text class="tick" x="36.2" y="272" text-anchor="middle">0 s</text>'
    '<text class="tick" x="217.8" y="272" text-anchor="middle">1 s</text>'
    '<text class="tick" x="399.3" y="272" text-anchor="middle">2 s</text>'
    '<text class="tick" x="580.9" y="272" text-anchor="middle">3 s</text>'
    '<text class="tick" x="762.4" y="272" text-anchor="middle">4 s</text>'
    '<text class="tick" x="944.0" y="272" text-anchor="middle">5 s</text>'
    '<line class="axis" x1="36.2" x2="944" y1="250" y2="250"/>'
    '<path class="series bound" d="M127.0,250.0H399.3V250.0H580.9V235.2H944.0"/>'
    '<path class="series objective" d="M127.0,73.0H399.3V191.0H944.0"/>'
    '<circle class="dot objective" cx="399.3" cy="191.0" r="3.5"/></svg>'
)


def test_chart_markup_is_unchanged_by_the_two_stage_drawing():
    points = [charts.Point(0.5, 100, 10), charts.Point(2.0, 60, 40), charts.Point(3.0, 60, 45)]
    assert charts.progress_chart(points, x_end=5.0, chart_id="c") == CHART_SNAPSHOT
    chart = charts.ProgressChart(points)
    assert chart.svg(5.0, "c") == CHART_SNAPSHOT and chart.svg(5.0, "c") == CHART_SNAPSHOT  # drawn twice, same
    assert chart.svg(9.0, "c") != CHART_SNAPSHOT  # a later 'now' stretches the time axis


def test_format_detection():
    assert forms.detect_format("knapsack", "auto", "x.json", "") == "json"
    assert forms.detect_format("knapsack", "auto", "", '  {"a": 1}') == "json"
    assert forms.detect_format("knapsack", "benchmark_text", "", "{") == "benchmark_text"
    assert forms.detect_format("nope", "auto", "x.txt", "SECTION_HORIZON") == "json"
