"""`app.problems.base.Model`: a CpModel without OR-Tools' pre-PEP 8 aliases, which every problem type
builds its models with (binding the aliases cost a third of a tiny roster's model build)."""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from app import problems
from app.problems.base import Model


def test_a_model_solves_as_a_cp_model_does_without_the_aliases():
    model = Model()
    x, y = model.new_int_var(0, 10, "x"), model.new_bool_var("y")
    model.add(x + 3 * y <= 7)
    model.maximize(x + 2 * y)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    assert (solver.value(x), solver.value(y), solver.objective_value) == (7, 0, 7)
    assert isinstance(model, cp_model.CpModel)
    assert hasattr(cp_model.CpModel(), "NewBoolVar") and not hasattr(model, "NewBoolVar")
    assert isinstance(model.clone(), cp_model.CpModel)


@pytest.mark.parametrize("problem", problems.all_types(), ids=lambda p: p.name)
def test_every_problem_type_builds_its_models_with_it(problem):
    demo = min(problem.demos, key=lambda name: len(problem.demos[name]().model_dump_json()))
    model, _ = problem.build(problem.demos[demo]())
    assert type(model) is Model
