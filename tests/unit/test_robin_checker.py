"""The independent round-robin checker: the competition's deviation rules, class by class, and the
published objective of every ITC2021 best-known schedule reproduced exactly."""

from __future__ import annotations

import csv

import pytest

from app.problems.round_robin.check import check
from app.problems.round_robin.robinx import export_solution, import_instance, import_solution
from tests.support import BENCHMARKS
from tests.unit.robin_timetable import ALL_SLOTS, CASES, GAMES, league

ITC = BENCHMARKS / "sports_itc2021"
NAMES = sorted(p.stem for p in (ITC / "instances").glob("*.xml")) if ITC.is_dir() else []
BEST_ROWS = csv.DictReader((ITC / "best_known.csv").read_text().splitlines()) if NAMES else []
BEST = {r["instance"]: int(r["best_known"]) for r in BEST_ROWS}

needs_itc = pytest.mark.skipif(not NAMES, reason="needs ../shared/benchmarks/sports_itc2021")


def cost(*constraints, games=GAMES) -> int:
    result = check(league(*constraints), {"games": games})
    assert result.ok, result.violations
    return result.objective


def test_the_hand_made_timetable_is_a_valid_phased_double_round_robin():
    assert check(league(), {"games": GAMES}).ok


@pytest.mark.parametrize(("constraint", "deviation"), CASES)
def test_each_class_counts_its_deviation_as_the_competition_does(constraint, deviation):
    assert cost(constraint) == deviation
    assert cost({**constraint, "penalty": 7}) == 7 * deviation


def test_a_broken_hard_constraint_is_a_violation_naming_class_teams_and_slots():
    result = check(
        league({"constraint": "CA1", "type": "HARD", "teams": [1], "slots": [2, 3, 4], "mode": "H", "max": 1}),
        {"games": GAMES},
    )
    assert not result.ok and result.objective == 0
    assert result.violations == ["constraint #0 CA1 (hard): teams 1 in slots 2, 3, 4 (+2); deviation 2"]


def test_a_soft_penalty_names_class_teams_and_slots():
    result = check(
        league({"constraint": "BR1", "teams": [1], "slots": ALL_SLOTS, "intp": 1, "penalty": 3}), {"games": GAMES}
    )
    [penalty] = result.penalties
    assert (penalty.rule, penalty.cost, penalty.who, penalty.when) == ("BR1", 6, "teams 1", "slots 1, 3, 4")
    assert "slots 1, 3, 4" in penalty.detail


@pytest.mark.parametrize(
    ("games", "problem"),
    [
        (GAMES[:-1], "team 2 never hosts team 1"),
        ([*GAMES[:-1], [2, 1, 4]], "team 1 plays 2 games in slot 4"),
        ([*GAMES[:-1], [2, 1, 9]], "not a game of this league: [2, 1, 9]"),
    ],
)
def test_a_timetable_that_is_no_double_round_robin_is_rejected(games, problem):
    assert problem in check(league(), {"games": games}).violations


def test_phased_leagues_must_meet_everyone_in_the_first_half():
    swapped = [[h, a, {2: 3, 3: 2}.get(s, s)] for h, a, s in GAMES]  # 0-1 and 2-3 twice in the first half
    assert check(league(phased=False), {"games": swapped}).ok
    assert check(league(), {"games": swapped}).violations == [
        "phased: the first 3 slots do not form a single round robin"
    ]


def test_travel_is_from_home_through_each_away_game_and_back():
    d = [[0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]]
    result = check(league(distances=d), {"games": GAMES})
    # team 0: 0 -> (s1 at 2) -> 0 -> (s3 at 1) -> 0 -> (s5 at 3) -> 0
    assert {p.detail: p.cost for p in result.penalties}["team 0 (A) travels 12"] == 12
    assert result.objective == sum(p.cost for p in result.penalties)


@needs_itc
@pytest.mark.parametrize("name", NAMES)
def test_the_published_objective_of_every_best_known_schedule_is_reproduced(name):
    inp = import_instance((ITC / "instances" / f"{name}.xml").read_text())
    solution, stated = import_solution((ITC / "solutions" / f"{name}.xml").read_text())
    result = check(inp, solution)
    assert result.ok, result.violations[:3]
    assert result.objective == stated == BEST[name]


@needs_itc
def test_all_forty_instances_are_covered():
    assert len(NAMES) == 40 and set(NAMES) == set(BEST)


@needs_itc
def test_a_solution_file_round_trips_through_export_and_import():
    inp = import_instance((ITC / "instances" / "ITC2021_Early_01.xml").read_text())
    solution, stated = import_solution((ITC / "solutions" / "ITC2021_Early_01.xml").read_text())
    again, objective = import_solution(export_solution(inp, solution, stated))
    assert sorted(again["games"]) == sorted(solution["games"]) and objective == stated == 362
    assert check(inp, again).objective == 362
