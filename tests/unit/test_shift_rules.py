"""One test per roster rule, each on a tiny problem whose best roster is known by hand.

Every roster the solver returns is re-checked by the independent checker (see `solve_optimal`).
"""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from app.problems import get
from app.problems.shift_scheduling import build, check, demo, extract, hint, import_text, validate
from tests.unit.conftest import cover, solve, solve_optimal, tiny

TWO_SHIFTS = [{"id": "E", "length_minutes": 480}, {"id": "L", "length_minutes": 480, "cannot_follow": ["E"]}]


def works(row: list[str | None]) -> list[bool]:
    return [shift is not None for shift in row]


# --- hard rules -----------------------------------------------------------------------------------


def test_one_shift_per_day():
    inp = tiny(days=1, shifts=TWO_SHIFTS, cover=cover([0], shift="E") + cover([0], shift="L"))
    solved = solve_optimal(inp)
    assert solved.objective == 100  # one of the two shifts stays empty


def test_days_off_are_not_worked():
    inp = tiny(days=3, person={"days_off": [1]}, cover=cover(range(3)))
    solved = solve_optimal(inp)
    assert solved.objective == 100
    assert solved.roster["P0"] == ["D", None, "D"]


def test_a_late_is_not_followed_by_an_early():
    inp = tiny(days=2, shifts=TWO_SHIFTS, cover=cover([0], shift="L") + cover([1], shift="E"))
    solved = solve_optimal(inp)
    assert solved.objective == 100
    assert solved.roster["P0"] != ["L", "E"]


def test_max_shifts_of_a_kind():
    inp = tiny(days=3, person={"max_shifts": {"D": 1}}, cover=cover(range(3)))
    assert solve_optimal(inp).objective == 200


def test_max_total_minutes():
    inp = tiny(days=3, person={"max_total_minutes": 960}, cover=cover(range(3)))
    solved = solve_optimal(inp)
    assert solved.objective == 100
    assert sum(works(solved.roster["P0"])) == 2


def test_min_total_minutes():
    # Nothing needs covering and every shift worked costs 5 as overcover, yet two must be worked.
    inp = tiny(days=3, person={"min_total_minutes": 960}, cover=cover(range(3), requirement=0, over=5))
    assert solve_optimal(inp).objective == 10


def test_max_consecutive_shifts_forces_a_day_off():
    inp = tiny(days=6, person={"max_consecutive_shifts": 5}, cover=cover(range(6)))
    solved = solve_optimal(inp)
    assert solved.objective == 100
    assert None in solved.roster["P0"]


def test_min_consecutive_shifts():
    # Only day 2 needs someone; working it alone is a 1-day stretch, so three days (overcover 2).
    inp = tiny(
        days=7,
        person={"min_consecutive_shifts": 3},
        cover=cover([2]) + cover([d for d in range(7) if d != 2], requirement=0, over=1),
    )
    solved = solve_optimal(inp)
    assert solved.objective == 2
    assert sum(works(solved.roster["P0"])) == 3


def test_short_stretches_at_the_horizon_edges_are_allowed():
    # Single days at day 0 and at the last day may continue outside the plan: no minimum applies.
    inp = tiny(
        days=5, person={"min_consecutive_shifts": 3}, cover=cover([0, 4]) + cover([1, 2, 3], requirement=0, over=1)
    )
    solved = solve_optimal(inp)
    assert solved.objective == 0
    assert solved.roster["P0"] == ["D", None, None, None, "D"]


def test_min_consecutive_days_off():
    # A single day off on day 2 would be too short: cheaper to work it (overcover 1) than lose day 3.
    inp = tiny(
        days=5, person={"min_consecutive_days_off": 2}, cover=cover([0, 1, 3, 4]) + cover([2], requirement=0, over=1)
    )
    solved = solve_optimal(inp)
    assert solved.objective == 1
    assert solved.roster["P0"] == ["D"] * 5


def test_max_weekends_counts_saturday_and_sunday_as_one():
    # Days 5, 6 are the first weekend and 12 the second; with one weekend allowed, day 12 is lost.
    inp = tiny(days=14, person={"max_weekends": 1}, cover=cover([5, 6, 12]))
    solved = solve_optimal(inp)
    assert solved.objective == 100
    assert solved.roster["P0"][5] == solved.roster["P0"][6] == "D"


def test_contradictory_limits_are_infeasible():
    # Six of seven days with day 3 off means two 3-day stretches, but at most 2 in a row are allowed.
    inp = tiny(days=7, person={"min_total_minutes": 480 * 6, "max_consecutive_shifts": 2, "days_off": [3]})
    assert solve(inp).status == "INFEASIBLE"


# --- soft rules -----------------------------------------------------------------------------------


def test_shift_on_request_cost():
    inp = tiny(
        days=2, person={"days_off": [0]}, shift_on_requests=[{"staff": "P0", "day": 0, "shift": "D", "weight": 7}]
    )
    solved = solve_optimal(inp)
    assert solved.objective == 7
    [penalty] = solved.check.penalties
    assert (penalty.rule, penalty.who, penalty.day, penalty.shift) == ("shift_on_requests", "P0", 0, "D")


def test_shift_off_request_cost():
    inp = tiny(
        days=2,
        person={"min_total_minutes": 960},
        shift_off_requests=[{"staff": "P0", "day": 1, "shift": "D", "weight": 4}],
    )
    solved = solve_optimal(inp)
    assert solved.objective == 4
    assert [p.rule for p in solved.check.penalties] == ["shift_off_requests"]


def test_cover_under_cost():
    inp = tiny(days=1, cover=cover([0], requirement=3, under=10))
    solved = solve_optimal(inp)
    assert solved.objective == 20
    assert [(p.rule, p.cost) for p in solved.check.penalties] == [("cover_under", 20)]


def test_cover_over_cost():
    inp = tiny(days=1, staff=3, person={"min_total_minutes": 480}, cover=cover([0], requirement=1, over=5))
    solved = solve_optimal(inp)
    assert solved.objective == 10
    assert [(p.rule, p.cost) for p in solved.check.penalties] == [("cover_over", 10)]


def test_requests_are_weighed_against_each_other():
    # Two people, one shift needed: the heavier request wins.
    inp = tiny(
        days=1,
        staff=2,
        cover=cover([0], over=50),
        shift_on_requests=[
            {"staff": "P0", "day": 0, "shift": "D", "weight": 2},
            {"staff": "P1", "day": 0, "shift": "D", "weight": 3},
        ],
    )
    solved = solve_optimal(inp)
    assert solved.objective == 2
    assert solved.roster == {"P0": [None], "P1": ["D"]}


# --- the whole model ------------------------------------------------------------------------------


def test_instance1_reaches_the_published_optimum(shift_benchmarks):
    inp = import_text((shift_benchmarks / "Instance1.txt").read_text())
    solved = solve_optimal(inp)
    assert solved.objective == 607


def test_extract_works_inside_a_solution_callback():
    inp = demo("small")
    model, variables = build(inp)
    rosters = []

    class Collect(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            rosters.append((round(self.objective_value), extract(inp, variables, self.value)))

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.solve(model, Collect())
    assert rosters
    for objective, solution in rosters:
        result = check(inp, solution)
        assert result.ok, result.violations
        assert result.objective <= objective  # the solver's figure may only overstate


def test_hint_restores_a_previous_roster():
    inp = demo("small")
    first = solve_optimal(inp)
    model, variables = build(inp)
    hint(model, variables, inp, {"roster": first.roster})
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True  # feasible only if the hint is complete
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    assert extract(inp, variables, solver.value) == {"roster": first.roster}


def test_hint_tolerates_a_stale_roster():
    inp = tiny(days=3, staff=2)
    model, variables = build(inp)
    hint(model, variables, inp, {"roster": {"P0": ["D", "X"], "Ghost": ["D"]}})
    assert cp_model.CpSolver().solve(model) == cp_model.OPTIMAL


@pytest.mark.parametrize("size", ["small", "medium", "large"])
def test_demos_are_valid_and_deterministic(size):
    inp = get("shift_scheduling").demos[size]()
    assert validate(inp.model_dump()) == inp
    assert demo(size) == inp
    assert demo(size, seed=1) != inp


def test_small_demo_solves_to_optimal():
    solve_optimal(demo("small"))


def test_registered_problem_type():
    problem = get("shift_scheduling")
    assert [rule.key for rule in problem.rules] == [
        "shift_on_requests",
        "shift_off_requests",
        "cover_under",
        "cover_over",
    ]
    assert problem.summary(demo("small")) == {"staff": 6, "days": 14, "shifts": 2}
    assert "benchmark_text" in problem.importers
    assert "horizon_days" in problem.input_model.model_json_schema()["properties"]
