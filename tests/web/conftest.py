"""Fixtures for the page tests: runs stored directly in the test's database, in any state."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from app.models import Run
from tests.web.factories import store_run

SHIFT_INPUT: dict[str, Any] = {
    "horizon_days": 7,
    "shifts": [{"id": "D", "length_minutes": 480, "cannot_follow": []},
               {"id": "N", "length_minutes": 600, "cannot_follow": ["D"]}],
    "staff": [{"id": "Ann", "days_off": [6]}, {"id": "Bob"}],
    "shift_on_requests": [{"staff": "Ann", "day": 0, "shift": "D", "weight": 3},
                          {"staff": "Bob", "day": 1, "shift": "N", "weight": 2}],
    "shift_off_requests": [{"staff": "Bob", "day": 2, "shift": "D", "weight": 4}],
    "cover": [{"day": d, "shift": "D", "requirement": 1, "weight_under": 100, "weight_over": 1} for d in range(7)]
    + [{"day": 3, "shift": "N", "requirement": 1, "weight_under": 100, "weight_over": 1}],
}
# Ann gets her Monday D; Bob asked for N on Tuesday (works D instead) and not to work D on Wednesday
# (does); Thursday has two on D (over) and nobody on N (under); Sunday nobody on D (under).
SHIFT_SOLUTION = {"roster": {"Ann": ["D", None, "D", "D", None, "D", None],
                             "Bob": [None, "D", "D", "D", "D", None, None]}}
SHIFT_BREAKDOWN = [
    {"rule": "shift_on_requests", "label": "Shift requests not granted", "cost": 2, "count": 1,
     "items": [{"rule": "shift_on_requests", "cost": 2, "who": "Bob", "day": 1, "shift": "N",
                "detail": "asked to work N, worked D"}]},
    {"rule": "shift_off_requests", "label": "Day-off requests not granted", "cost": 4, "count": 1,
     "items": [{"rule": "shift_off_requests", "cost": 4, "who": "Bob", "day": 2, "shift": "D",
                "detail": "asked not to work D"}]},
    {"rule": "cover_under", "label": "Shifts short of staff", "cost": 200, "count": 2,
     "items": [{"rule": "cover_under", "cost": 100, "who": None, "day": 3, "shift": "N",
                "detail": "0 on N, 1 needed"},
               {"rule": "cover_under", "cost": 100, "who": None, "day": 6, "shift": "D",
                "detail": "0 on D, 1 needed"}]},
    {"rule": "cover_over", "label": "Shifts with more staff than needed", "cost": 1, "count": 1,
     "items": [{"rule": "cover_over", "cost": 1, "who": None, "day": 3, "shift": "D", "detail": "2 on D, 1 needed"}]},
]


@pytest.fixture
def make_run(database_url):
    """Store a run as if a worker had got it to `status` (finished ones with a result)."""
    return partial(store_run, database_url)


@pytest.fixture
def shift_run(make_run):
    """A finished shift-scheduling run with a roster that misses some requests and some cover."""

    def make(status: str = "succeeded", **fields: Any) -> Run:
        result = {"solution": SHIFT_SOLUTION, "breakdown": SHIFT_BREAKDOWN, "checked": True, "summary": {}}
        return make_run(status, "shift_scheduling", input=SHIFT_INPUT, result=result, objective=207,
                        best_bound=150, gap=0.275, num_solutions=4, **fields)

    return make
