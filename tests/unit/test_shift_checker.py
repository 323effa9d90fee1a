"""The independent checker: it recomputes a known objective and catches every kind of broken roster."""

from __future__ import annotations

import copy

import pytest

from app.problems import get
from app.problems.shift_scheduling import check, validate

INPUT = validate(
    {
        "horizon_days": 7,
        "shifts": [
            {"id": "E", "length_minutes": 480},
            {"id": "L", "length_minutes": 480, "cannot_follow": ["E"]},
            {"id": "N", "length_minutes": 600, "cannot_follow": ["E", "L"]},
        ],
        "staff": [
            {
                "id": "Anna",
                "max_shifts": {"N": 1},
                "min_total_minutes": 960,
                "max_total_minutes": 2880,
                "max_consecutive_shifts": 5,
                "min_consecutive_shifts": 2,
                "min_consecutive_days_off": 2,
                "max_weekends": 1,
                "days_off": [6],
            },
            {"id": "Ben", "max_consecutive_shifts": 5, "max_weekends": 0},
        ],
        "shift_on_requests": [
            {"staff": "Anna", "day": 0, "shift": "E", "weight": 2},
            {"staff": "Anna", "day": 4, "shift": "L", "weight": 3},
        ],
        "shift_off_requests": [{"staff": "Ben", "day": 1, "shift": "L", "weight": 4}],
        "cover": [
            {"day": 0, "shift": "E", "requirement": 1, "weight_under": 100, "weight_over": 1},
            {"day": 1, "shift": "L", "requirement": 2, "weight_under": 100, "weight_over": 1},
            {"day": 3, "shift": "E", "requirement": 0, "weight_under": 100, "weight_over": 1},
        ],
    }
)
ROSTER = {"Anna": ["E", "E", "L", "L", None, None, None], "Ben": [None, "L", None, "E", None, None, None]}


def with_rows(**rows: list[str | None]) -> dict:
    roster = copy.deepcopy(ROSTER)
    roster.update(rows)
    return {"roster": roster}


def test_a_good_roster_and_its_penalties():
    result = check(INPUT, {"roster": ROSTER})
    assert result.ok, result.violations
    found = sorted((p.rule, p.cost, p.who, p.day, p.shift) for p in result.penalties)
    assert found == [
        ("cover_over", 1, None, 3, "E"),  # Ben on E, nobody needed
        ("cover_under", 100, None, 1, "L"),  # only Ben on L, two needed
        ("shift_off_requests", 4, "Ben", 1, "L"),
        ("shift_on_requests", 3, "Anna", 4, "L"),
    ]
    assert result.objective == 108
    [missed] = [p for p in result.penalties if p.rule == "shift_on_requests"]
    assert missed.detail == "asked to work L, was off"


def test_breakdown_groups_penalties_by_rule():
    problem = get("shift_scheduling")
    breakdown = problem.breakdown(check(INPUT, {"roster": ROSTER}))
    assert [(rule["rule"], rule["cost"], rule["count"]) for rule in breakdown] == [
        ("shift_on_requests", 3, 1),
        ("shift_off_requests", 4, 1),
        ("cover_under", 100, 1),
        ("cover_over", 1, 1),
    ]


@pytest.mark.parametrize(
    ("rows", "violation"),
    [
        (
            {"Anna": ["E", "L", "E", "L", None, None, None]},
            "Anna works E on day 2 right after L on day 1 (E may not follow L)",
        ),
        ({"Anna": ["E", "E", "L", "L", None, None, "E"]}, "Anna works E on day 6, a day off"),
        ({"Anna": ["N", "N", None, None, None, None, None]}, "Anna works 2 N shifts (max 1)"),
        ({"Anna": ["E", None, None, None, None, None, None]}, "Anna works 480 minutes (min 960)"),
        ({"Anna": ["E", "E", "E", "E", "E", "E", None]}, "Anna works 6 days in a row from day 0 (max 5)"),
        ({"Anna": ["E", "E", None, None, "E", None, None]}, "Anna works only 1 day(s) in a row from day 4 (min 2)"),
        ({"Anna": ["E", "E", None, "E", "E", None, None]}, "Anna has only 1 day(s) off in a row from day 2 (min 2)"),
        ({"Ben": [None, None, None, None, None, None, "E"]}, "Ben works 1 weekends (max 0): weekends starting day 5"),
    ],
)
def test_each_broken_rule_is_named(rows, violation):
    result = check(INPUT, with_rows(**rows))
    assert result.violations == [violation]


def test_stretches_at_the_edges_of_the_plan_are_not_too_short():
    # A stretch of work or rest touching day 0 or the last day may continue outside the plan.
    result = check(INPUT, with_rows(Anna=["E", None, None, "L", "L", None, None]))
    assert result.ok, result.violations
    result = check(INPUT, with_rows(Anna=[None, "E", "E", "E", None, None, None]))
    assert result.ok, result.violations


@pytest.mark.parametrize(
    ("solution", "problem"),
    [
        (None, 'the solution has no "roster"'),
        ({"roster": ["E"]}, 'the solution has no "roster"'),
        (with_rows(Anna=["E", "X", None, None, None, None, None]), "Anna works unknown shift 'X' on day 1"),
        (with_rows(Anna=["E", 3, None, None, None, None, None]), "Anna works unknown shift 3 on day 1"),
        (with_rows(Anna=["E", ["E"], None, None, None, None, None]), "Anna works unknown shift ['E'] on day 1"),
        (with_rows(Anna=["E", "E"]), "Anna's roster has 2 days, expected 7"),
        (with_rows(Zed=[None] * 7), "roster names unknown staff 'Zed'"),
        ({"roster": {"Anna": ROSTER["Anna"]}}, "Ben has no roster"),
    ],
)
def test_malformed_solutions_are_reported_not_raised(solution, problem):
    result = check(INPUT, solution)
    assert not result.ok
    assert any(problem in v for v in result.violations), result.violations
