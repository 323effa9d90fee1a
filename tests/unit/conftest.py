"""Helpers for the shift-scheduling unit tests: tiny inputs, a solve that always re-checks, benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ortools.sat.python import cp_model

from app.problems.base import Check, apply_solver_params
from app.problems.shift_scheduling import PROBLEM, build, check, extract, validate
from app.problems.shift_scheduling.schema import Input

BENCHMARKS = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"
SHIFT_BENCHMARKS = BENCHMARKS / "shift_scheduling"


@dataclass
class Solved:
    status: str
    objective: int | None = None
    roster: dict[str, list[str | None]] | None = None
    check: Check | None = None


def solve(inp: Input, time_limit: float = 10, workers: int = 4) -> Solved:
    """Solve with CP-SAT; whenever there is a roster, also run the independent checker on it."""
    model, variables = build(inp)
    solver = cp_model.CpSolver()
    apply_solver_params(solver.parameters, PROBLEM.solver_params)
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Solved(solver.status_name(status))
    solution = extract(inp, variables, solver.value)
    return Solved(solver.status_name(status), round(solver.objective_value), solution["roster"], check(inp, solution))


def solve_optimal(inp: Input) -> Solved:
    """Solve to optimality and assert the checker agrees with the solver on feasibility and cost."""
    solved = solve(inp)
    assert solved.status == "OPTIMAL"
    assert solved.check is not None and solved.check.ok, solved.check.violations
    assert solved.check.objective == solved.objective
    return solved


def tiny(days: int = 3, staff: int = 1, **fields: Any) -> Input:
    """A small valid input: one 8-hour shift 'D', people named P0, P1..., no rules unless given.

    `person` (a dict) adds fields to every staff member; other keyword arguments are top-level fields.
    """
    person = fields.pop("person", {})
    payload: dict[str, Any] = {
        "horizon_days": days,
        "shifts": [{"id": "D", "length_minutes": 480}],
        "staff": [{"id": f"P{i}", **person} for i in range(staff)],
        **fields,
    }
    return validate(payload)


def cover(
    days: range | list[int], requirement: int = 1, shift: str = "D", under: int = 100, over: int = 0
) -> list[dict[str, Any]]:
    """Cover needs of `requirement` people on `shift` for each of `days`."""
    return [
        {"day": d, "shift": shift, "requirement": requirement, "weight_under": under, "weight_over": over} for d in days
    ]


@pytest.fixture
def shift_benchmarks() -> Path:
    if not SHIFT_BENCHMARKS.is_dir():
        pytest.skip(f"benchmark instances not found at {SHIFT_BENCHMARKS} (the shared folder beside the repo)")
    return SHIFT_BENCHMARKS
