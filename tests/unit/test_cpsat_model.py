"""The cpsat_model problem type without a server: names, objective, the CP-SAT checker, hints,
parameters, and what the run page and "solve again" make of a stored run."""

from __future__ import annotations

import pytest
from google.protobuf import json_format
from ortools.sat.python import cp_model

from app.problems import InputError
from app.problems.base import apply_solver_params
from app.problems.cpsat_model import demo, pages
from app.problems.cpsat_model import proto as protos
from app.problems.cpsat_model.model import build, check, extract, hint, maximizes, solver_params
from app.problems.cpsat_model.schema import validate


def submitted(model: cp_model.CpModel, fmt: str = "base64", **extra):
    return validate({"model": protos.encode(protos.from_cp_model(model), fmt), **extra})


def solve(model: cp_model.CpModel, **params) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    apply_solver_params(solver.parameters, params)
    solver.solve(model)
    return solver


def test_every_variable_gets_a_unique_stable_name():
    model = cp_model.CpModel()
    for name in ["a", "", "b", "b", "_v5", ""]:
        model.new_int_var(0, 1, name)
    assert protos.variable_names(protos.from_cp_model(model)) == ["a", "_v1", "b@2", "b@3", "_v5", "_v5@5"]


@pytest.mark.parametrize("sense", ["minimize", "maximize"])
def test_the_objective_is_recomputed_from_the_assignment(sense):
    model = cp_model.CpModel()
    x, y = model.new_int_var(0, 5, "x"), model.new_bool_var("y")
    getattr(model, sense)(3 * x + 2 * ~y + 7)  # a negated literal and an offset
    inp = submitted(model)
    assert maximizes(inp) is (sense == "maximize")
    assert protos.objective_value(inp.proto, [4, 0]) == 3 * 4 + 2 + 7
    assert protos.objective_value(inp.proto, [4, 1]) == 3 * 4 + 7


def test_a_floating_point_objective_and_no_objective():
    model = cp_model.CpModel()
    x = model.new_int_var(0, 5, "x")
    model.maximize(0.5 * x + 1.25)
    inp = submitted(model)
    assert maximizes(inp) and protos.objective_value(inp.proto, [3]) == 2.75
    assert protos.objective_value(submitted(cp_model.CpModel()).proto, []) is None


def test_the_checker_verifies_with_cp_sat_and_names_what_is_wrong():
    inp = demo.queens(6)
    model, variables = build(inp)
    solution = extract(inp, variables, solve(model).value)
    good = check(inp, solution)
    assert good.ok and good.objective == 0 and good.penalties == []  # n-queens has no objective
    same_row = {**solution, "assignment": [solution["assignment"][0]] * 6}
    assert check(inp, same_row).violations == ["CP-SAT, with every variable fixed to this assignment, says INFEASIBLE"]
    assert "outside its domain" in check(inp, {**solution, "assignment": [9] * 6}).violations[0]
    assert "each of the 6 variables" in check(inp, {"values": {}, "assignment": [0]}).violations[0]


def test_the_checker_counts_the_objective():
    inp = demo.job_shop(4, 3, seed=1)
    model, variables = build(inp)
    solver = solve(model)
    found = check(inp, extract(inp, variables, solver.value))
    assert found.ok and found.objective == solver.objective_value
    assert found.penalties[0].detail == "verified by CP-SAT with all 25 variables fixed"


def test_a_complete_hint_is_cp_sats_first_solution():
    inp = demo.job_shop(15, 10, seed=7)
    model, variables = build(inp)
    earlier = extract(inp, variables, solve(model, max_time_in_seconds=1.0).value)
    model, variables = build(inp)
    hint(model, variables, inp, earlier)
    first = solve(model, stop_after_first_solution=True, cp_model_presolve=False)
    assert first.objective_value == check(inp, earlier).objective


def test_the_submitted_hint_is_kept():
    model = cp_model.CpModel()
    x = model.new_int_var(0, 9, "x")
    model.add_hint(x, 7)
    built, _ = build(submitted(model, "json"))
    assert list(built.proto.solution_hint.values) == [7]


def test_returned_values_default_to_the_named_variables():
    model = cp_model.CpModel()
    model.new_int_var(3, 3, "a")
    model.new_int_var(4, 4, "")
    inp = submitted(model)
    built, variables = build(inp)
    assert extract(inp, variables, solve(built).value) == {"values": {"a": 3}, "assignment": [3, 4]}
    inp = submitted(model, variables=["_v1"])
    assert extract(inp, variables, solve(built).value)["values"] == {"_v1": 4}


def test_parameters_become_what_cp_sat_accepts():
    params = solver_params(
        {"search_branching": "FIXED_SEARCH", "extra_subsolvers": ["max_lp"], "relativeGapLimit": 0.5}
    )
    solver = cp_model.CpSolver()
    apply_solver_params(solver.parameters, params)
    assert solver.parameters.search_branching.name == "FIXED_SEARCH"
    assert list(solver.parameters.extra_subsolvers) == ["max_lp"] and solver.parameters.relative_gap_limit == 0.5


def test_errors_name_the_field():
    model = cp_model.CpModel()
    model.new_int_var(0, 1, "x")
    with pytest.raises(InputError) as caught:
        submitted(model, parameters={"max_time_in_seconds": 5, "cut_level": 1}, variables=["x", "y"])
    assert [e["path"] for e in caught.value.errors] == ["variables[1]", "parameters.max_time_in_seconds"]
    with pytest.raises(InputError) as caught:
        validate({"model": {"variables": [{"name": "x", "domain": ["0", "1"]}], "objective": {"vars": [1]}}})
    assert caught.value.errors[0]["path"] == "model" and "CP-SAT rejects" in caught.value.errors[0]["message"]


def stored_result(inp):
    model, variables = build(inp)
    solution = extract(inp, variables, solve(model, max_time_in_seconds=0.5).value)
    return inp.model_dump(mode="json"), {"solution": solution}


def test_the_page_shows_the_size_and_pages_and_searches_the_values():
    stored, result = stored_result(demo.job_shop(15, 10, seed=7))
    ctx = pages.page_context(stored, result, {})["cpsat"]
    assert (ctx["variables"], ctx["constraints"], ctx["objective"]) == (301, 296, "minimise")
    assert ctx["kinds"] == {"interval": 150, "linear": 135, "no_overlap": 10, "lin_max": 1}
    assert len(ctx["rows"]) == pages.PER_PAGE and ctx["pages"] == 7
    ctx = pages.page_context(stored, result, {"q": "END_14", "values_page": "99"})["cpsat"]
    assert [name for name, _ in ctx["rows"]] == [f"end_14_{t}" for t in range(10)] and ctx["page"] == 1


@pytest.mark.parametrize("fmt", ["base64", "json"])
def test_solve_again_hints_every_variable_with_the_solution(fmt):
    inp = demo.job_shop(4, 3, seed=1)
    stored, result = stored_result(
        validate({**inp.model_dump(mode="json"), "model_format": None, "model": protos.encode(inp.proto, fmt)})
    )
    again = validate(pages.resubmit(stored, result))
    assert again.model_format == fmt
    assert list(again.proto.solution_hint.vars) == list(range(25))
    assert list(again.proto.solution_hint.values) == result["solution"]["assignment"]
    assert pages.solution_csv(stored, result).splitlines()[1] == f"start_0_0,{result['solution']['assignment'][0]}"
    assert json_format.MessageToDict(again.proto)["constraints"] == json_format.MessageToDict(inp.proto)["constraints"]


def test_a_non_finite_objective_is_refused():
    doc = {"variables": [{"domain": ["0", "1"]}], "floatingPointObjective": {"vars": [0], "coeffs": ["NaN"]}}
    with pytest.raises(InputError) as caught:
        validate({"model": doc})
    assert "not a finite number" in caught.value.errors[0]["message"]
