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


def test_format_detection():
    assert forms.detect_format("knapsack", "auto", "x.json", "") == "json"
    assert forms.detect_format("knapsack", "auto", "", '  {"a": 1}') == "json"
    assert forms.detect_format("knapsack", "benchmark_text", "", "{") == "benchmark_text"
    assert forms.detect_format("nope", "auto", "x.txt", "SECTION_HORIZON") == "json"
