"""The CP-SAT model agrees with the checker, class by class: on the hand-made timetable a SOFT
constraint costs what the checker counts, and a HARD one is infeasible exactly when it is broken."""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from app.problems.round_robin.check import check
from app.problems.round_robin.model import build, extract
from tests.unit.robin_timetable import CASES, GAMES, league


def solve_fixed(inp, games=GAMES, **build_args):
    """Solve the model with every game fixed where `games` has it."""
    model, v = build(inp, **build_args)
    played = {tuple(g) for g in games}
    for key, var in v.x.items():
        model.add(var == int(key in played))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    return solver, status, v


@pytest.mark.parametrize(("constraint", "deviation"), CASES)
def test_a_soft_constraint_costs_penalty_times_deviation(constraint, deviation):
    inp = league({**constraint, "penalty": 3})
    solver, status, v = solve_fixed(inp)
    assert solver.status_name(status) == "OPTIMAL"
    assert round(solver.objective_value) == 3 * deviation == check(inp, extract(inp, v, solver.value)).objective


@pytest.mark.parametrize(("constraint", "deviation"), CASES)
def test_a_hard_constraint_forbids_exactly_the_timetables_that_break_it(constraint, deviation):
    inp = league({**constraint, "type": "HARD"})
    solver, status, _ = solve_fixed(inp)
    assert solver.status_name(status) == ("INFEASIBLE" if deviation else "OPTIMAL")
    relaxed, status, _ = solve_fixed(inp, relaxed=True)  # the feasibility phase counts it instead
    assert round(relaxed.objective_value) == deviation


def test_the_model_finds_only_double_round_robins():
    inp = league(phased=False)
    model, v = build(inp)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.enumerate_all_solutions = False
    assert solver.solve(model) == cp_model.OPTIMAL
    assert check(inp, extract(inp, v, solver.value)).ok


def test_travel_in_the_model_is_the_checkers_travel():
    d = [[0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]]
    inp = league(distances=d)
    solver, status, v = solve_fixed(inp)
    assert (
        round(solver.objective_value)
        == check(inp, {"games": GAMES}).objective
        == sum(p.cost for p in check(inp, {"games": GAMES}).penalties)
    )
