"""The home/away-pattern phase: the pattern model keeps the venue-only HARD constraints (breaks,
home counts, phasing), the opponent model fills a pattern with a round robin, and the search's
pattern start gives the checker a feasible timetable on a small league."""

from __future__ import annotations

import importlib
import random
import time
from itertools import combinations

import pytest
from ortools.sat.python import cp_model

from app import problems
from app.problems.round_robin.check import check, deviations
from app.problems.round_robin.pattern import assign_opponents, find_pattern, pattern_model, pattern_of, venue_only
from app.problems.round_robin.robinx import import_instance, import_solution
from app.problems.round_robin.schema import validate
from app.problems.round_robin.search import pattern_start
from tests.support import BENCHMARKS
from workers.runner import Search

TEAMS = ["A", "B", "C", "D", "E", "F"]
SLOTS = list(range(10))


def league(*constraints, phased=True):
    return validate({"teams": TEAMS, "phased": phased, "constraints": [{"type": "HARD", **c} for c in constraints]})


CONSTRAINTS = [
    {"constraint": "BR1", "teams": [0], "slots": SLOTS, "mode2": "HA", "intp": 0},  # team 0 never breaks
    {"constraint": "CA1", "teams": [1], "slots": [0, 1], "mode": "H", "max": 0},  # team 1 away in 0 and 1
    {"constraint": "BR2", "teams": list(range(6)), "slots": SLOTS, "intp": 8},
    {"constraint": "GA1", "meetings": [[2, 3]], "slots": [0], "min": 1, "max": 1},  # C hosts D first
]


def context(inp, seconds: float) -> Search:
    t0 = time.monotonic()
    problem = problems.get("round_robin")
    return Search(problem, inp, threads=2, seed=1, deadline=t0 + seconds, elapsed=lambda: time.monotonic() - t0)


def test_only_constraints_on_venues_go_into_the_pattern_model():
    inp = league(
        *CONSTRAINTS,
        {"constraint": "CA2", "teams1": [0], "teams2": list(range(6)), "slots": [0], "mode1": "A", "max": 0},
        {"constraint": "CA2", "teams1": [0], "teams2": [1, 2], "slots": [0], "mode1": "A", "max": 0},
        {"constraint": "CA4", "teams1": [0, 1], "teams2": list(range(6)), "slots": [0], "mode1": "H",
         "mode2": "EVERY", "max": 1},
    )  # fmt: skip
    assert [venue_only(inp, c) for c in inp.constraints] == [True, True, True, False, True, False, True]


def test_the_pattern_keeps_breaks_home_counts_and_phases():
    inp = league(*CONSTRAINTS)
    model, home = pattern_model(inp)
    for seed in range(3):
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        assert solver.status_name(solver.solve(model)) == "OPTIMAL"
        p = [[solver.value(v) for v in row] for row in home]
        assert all(sum(p[t][s] for t in range(6)) == 3 for s in SLOTS)
        assert all(sum(row) == 5 for row in p)
        assert all(p[0][s] != p[0][s - 1] for s in SLOTS[1:])
        assert p[1][0] == p[1][1] == 0
        assert p[2][0] == 1 and p[3][0] == 0  # C can host D in slot 0 (GA1)
        breaks = sum(p[t][s] == p[t][s - 1] for t in range(6) for s in SLOTS[1:])
        assert breaks <= 8
        for i, j in combinations(range(6), 2):  # each pair can meet once in each half, once at each home
            for half in (range(5), range(5, 10)):
                assert any(p[i][s] != p[j][s] for s in half)
            assert any(p[i][s] and not p[j][s] for s in SLOTS) and any(p[j][s] and not p[i][s] for s in SLOTS)


def test_an_impossible_pattern_constraint_leaves_no_pattern():
    inp = league({"constraint": "CA1", "teams": [0], "slots": SLOTS, "mode": "H", "max": 4})  # needs 5 home games
    model, _ = pattern_model(inp)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.status_name(solver.solve(model)) == "INFEASIBLE"


def test_the_opponents_fill_the_pattern_with_a_double_round_robin():
    inp = league(*CONSTRAINTS[:3])
    ctx = context(inp, 30)
    cuts, found = [], None
    while found is None and len(cuts) < 20:  # a pattern may have no round robin: then the next one
        pattern = find_pattern(ctx, inp, 10, cuts)
        assert pattern is not None
        cuts.append(pattern)
        found = assign_opponents(ctx, inp, pattern, 10)
    games, hard = found
    assert pattern_of(inp, games) == pattern  # the venues are the pattern's
    result = check(inp, {"games": [list(g) for g in games]})
    assert not any("round robin" in v or "phase" in v for v in result.violations)
    assert hard == deviations(inp, games)[0]


def test_a_second_pattern_differs_from_the_first():
    inp = league(*CONSTRAINTS)
    ctx = context(inp, 30)
    first = find_pattern(ctx, inp, 10, [])
    second = find_pattern(ctx, inp, 10, [first])
    assert second is not None and second != first


def test_the_pattern_start_is_feasible_on_a_small_league_and_the_search_keeps_it():
    inp = league(*CONSTRAINTS[:3])
    ctx = context(inp, 30)
    games = pattern_start(ctx, inp, random.Random(0))
    assert games is not None and check(inp, {"games": [list(g) for g in games]}).ok
    ctx = context(inp, 30)  # proved optimal in about a second on a quiet machine; room for a loaded one
    problems.get("round_robin").search(ctx)
    solution, objective = ctx.incumbent()
    assert check(inp, solution).ok and objective == 0


ITC = BENCHMARKS / "sports_itc2021"
NAMES = sorted(p.stem for p in (ITC / "instances").glob("*.xml")) if ITC.is_dir() else []


@pytest.mark.skipif(not NAMES, reason="needs ../shared/benchmarks/sports_itc2021")
@pytest.mark.parametrize("name", NAMES)
def test_the_venues_of_every_published_best_schedule_satisfy_the_pattern_model(name):
    """The pattern model (implied bounds included) cuts off no feasible timetable: the 40 best known keep."""
    inp = import_instance((ITC / "instances" / f"{name}.xml").read_text())
    solution, _ = import_solution((ITC / "solutions" / f"{name}.xml").read_text())
    model, home = pattern_model(inp, soft=False)
    for t, row in enumerate(pattern_of(inp, solution["games"])):
        for s, at_home in enumerate(row):
            model.add(home[t][s] == at_home)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.status_name(solver.solve(model)) == "OPTIMAL"


def test_without_the_direct_try_the_search_goes_pattern_first_and_reaches_a_checked_timetable(monkeypatch):
    search_module = importlib.import_module("app.problems.round_robin.search")  # the package's `search` is the function

    monkeypatch.setattr(search_module, "direct_feasible", lambda ctx, inp: None)
    monkeypatch.setattr(search_module, "PATTERN_KEEP_SHARE", 0.2)
    inp = league(*CONSTRAINTS)
    ctx = context(inp, 15)
    problems.get("round_robin").search(ctx)
    solution, objective = ctx.incumbent()
    assert check(inp, solution).ok and objective == 0
