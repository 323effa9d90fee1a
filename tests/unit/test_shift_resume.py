"""Resuming never loses ground: the hint of a checkpoint is complete, so CP-SAT takes the checkpoint as
its first solution; and the model-size estimate matches the model `build` makes."""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from app.problems.shift_scheduling import build, check, estimate, extract, hint, import_text
from app.problems.shift_scheduling.decompose import lowered, on_shift
from tests.unit.conftest import SHIFT_BENCHMARKS


class FirstSolution(cp_model.CpSolverSolutionCallback):
    def __init__(self, inp, variables):
        super().__init__()
        self.inp, self.variables, self.objective = inp, variables, None

    def on_solution_callback(self) -> None:
        if self.objective is None:
            self.objective = check(self.inp, extract(self.inp, self.variables, self.value)).objective


def checkpoint_of(inp) -> tuple[dict, int]:
    """A mediocre roster, as an interrupted solve leaves one."""
    model, variables = build(inp)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.stop_after_first_solution = True
    assert solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    roster = extract(inp, variables, solver.value)
    return roster, check(inp, roster).objective


@pytest.mark.parametrize("workers", [1, 4])
def test_cp_sat_takes_the_checkpoint_as_its_first_solution(workers):
    # With the assignment variables hinted alone, CP-SAT's first solution can be worse than the
    # checkpoint (Instance7, 1 s: 2,701 for a 2,404 checkpoint with 2 or 8 workers, none with 1).
    inp = import_text((SHIFT_BENCHMARKS / "Instance3.txt").read_text())
    roster, objective = checkpoint_of(inp)
    model, variables = build(inp)
    hint(model, variables, inp, roster)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.max_deterministic_time = 1
    first = FirstSolution(inp, variables)
    solver.solve(model, first)
    assert first.objective is not None and first.objective <= objective


def test_the_hint_covers_every_variable():
    inp = import_text((SHIFT_BENCHMARKS / "Instance3.txt").read_text())  # cover, weekends, requests
    roster, _ = checkpoint_of(inp)
    model, variables = build(inp)
    hint(model, variables, inp, roster)
    hinted = set(model.proto.solution_hint.vars)
    assert hinted == set(range(len(model.proto.variables)))


@pytest.mark.parametrize("name", ["Instance1", "Instance7", "Instance12"])
def test_the_estimate_counts_the_model_build_makes(name):
    inp = import_text((SHIFT_BENCHMARKS / f"{name}.txt").read_text())
    model, _ = build(inp)
    size = estimate(inp)
    assert (size["variables"], size["constraints"]) == (len(model.proto.variables), len(model.proto.constraints))


@pytest.mark.parametrize("people", [[0], [0, 1], [0, 1, 2, 3]])
def test_the_estimate_counts_a_construction_step_without_cover_variables_where_the_sign_is_known(people):
    """A step's model of a few people, cover lowered by the rest: cells nobody is needed on, or needing at
    least everyone in the model, are linear terms, with no variable or constraint of their own."""
    inp = import_text((SHIFT_BENCHMARKS / "Instance7.txt").read_text())
    rest = on_shift([[inp.shifts[0].id] * inp.horizon_days] * 3)  # three people on the first shift every day
    step = lowered(inp, people, rest)
    assert any(c.requirement == 0 for c in step.cover) and any(c.requirement >= len(people) for c in step.cover)
    model, v = build(step)
    size = estimate(step)
    assert (size["variables"], size["constraints"]) == (len(model.proto.variables), len(model.proto.constraints))
    known = sum(c.requirement == 0 or c.requirement >= len(people) for c in step.cover)
    assert len(v.cover) == len(step.cover) - known
