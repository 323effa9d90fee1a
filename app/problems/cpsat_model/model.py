"""Solving a submitted model: rebuild it for CP-SAT, read solutions back by name, hint, and check.

A solution is {"values": {name: value} of the returned variables, "assignment": [value of every
variable, by index]}; the full assignment is what the checker verifies and what a resumed or
re-submitted run gives CP-SAT as hints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format
from ortools.sat.python import cp_model, cp_model_helper

from app.problems.base import Check, Penalty, SearchContext, ValueOf
from app.problems.cpsat_model import proto as protos
from app.problems.cpsat_model.schema import Input, SatParameters

CHECK_TIME_LIMIT = 60.0  # seconds; a fully fixed model is usually verified in milliseconds


def build(inp: Input) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """The submitted model, as a CpModel, and its variables by index (hints in it are kept)."""
    model = inp.cp_model()
    return model, [model.get_int_var_from_proto_index(i) for i in range(len(inp.proto.variables))]


def extract(inp: Input, variables: list[cp_model.IntVar], value: ValueOf) -> dict:
    """The values of the returned variables by name, and the full assignment."""
    assignment = [value(v) for v in variables]
    return {"values": {inp.names[i]: assignment[i] for i in inp.returned()}, "assignment": assignment}


def hint(model: cp_model.CpModel, variables: list[cp_model.IntVar], inp: Input, solution: dict) -> None:
    """Hint every variable with its value in `solution`, replacing the model's own hint.

    CP-SAT only adopts a complete hint as its first solution, so a resumed run starts from the
    checkpoint rather than from scratch.
    """
    set_hint(model.proto, solution["assignment"])


def set_hint(proto, assignment: Sequence[int]) -> None:
    """Replace the hint of `proto` (either representation) with a value for every variable."""
    if isinstance(proto, protos.CpModelProto):
        proto.ClearField("solution_hint")
    else:
        proto.clear_solution_hint()
    proto.solution_hint.vars.extend(range(len(assignment)))
    proto.solution_hint.values.extend(int(v) for v in assignment)


def check(inp: Input, solution: dict) -> Check:
    """Re-verify an assignment with CP-SAT itself: every variable fixed to its value, then solved.

    The objective is recomputed from the model's objective and the assignment.
    """
    out = Check()
    assignment = solution.get("assignment")
    n = len(inp.proto.variables)
    if not isinstance(assignment, list) or len(assignment) != n:
        out.violations.append(f"the assignment must give a value for each of the {n} variables")
        return out
    out.violations = _outside_domains(inp, assignment)
    if not out.violations:
        status = _solve_fixed(inp, assignment)
        if status not in ("OPTIMAL", "FEASIBLE"):
            out.violations.append(f"CP-SAT, with every variable fixed to this assignment, says {status}")
    objective = protos.objective_value(inp.proto, assignment)
    if objective is not None:
        out.penalties.append(Penalty("objective", objective, detail=f"verified by CP-SAT with all {n} variables fixed"))
    return out


def _outside_domains(inp: Input, assignment: list[int]) -> list[str]:
    out = []
    for i, (var, value) in enumerate(zip(inp.proto.variables, assignment, strict=True)):
        d = var.domain
        if not any(d[k] <= value <= d[k + 1] for k in range(0, len(d), 2)):
            out.append(f"{inp.names[i]} = {value} is outside its domain {list(d)}")
            if len(out) >= 5:
                break
    return out


def _solve_fixed(inp: Input, assignment: list[int]) -> str:
    model = inp.cp_model()
    model.clear_hints()
    for var, value in zip(model.proto.variables, assignment, strict=True):
        var.domain.clear()
        var.domain.extend([value, value])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = CHECK_TIME_LIMIT
    return solver.status_name(solver.solve(model))


def summary(inp: Input) -> dict[str, int]:
    """Size facts for run lists: {"variables": 120, "constraints": 340}."""
    return {"variables": len(inp.proto.variables), "constraints": len(inp.proto.constraints)}


def estimate(inp: Input) -> dict[str, int]:
    """The model's size, exactly: it is given."""
    return summary(inp)


def maximizes(inp: Input) -> bool:
    """True for a model that maximises (CP-SAT stores that as a negative scaling factor)."""
    if inp.proto.HasField("floating_point_objective"):
        return inp.proto.floating_point_objective.maximize
    return inp.proto.HasField("objective") and inp.proto.objective.scaling_factor < 0


def search(ctx: SearchContext) -> str | None:
    """The default strategy, with the submission's own CP-SAT parameters: one solve of the model as
    submitted (its hints kept, replaced by the checkpoint's on a resumed attempt)."""
    inp: Input = ctx.inp
    model, variables = build(inp)
    if ctx.checkpoint:
        hint(model, variables, inp, ctx.checkpoint)
    result = ctx.solve(
        model,
        lambda value: extract(inp, variables, value),
        time_limit=ctx.remaining(),
        params=solver_params(inp.parameters),
    )
    return result.status if result.status in ("OPTIMAL", "INFEASIBLE", "MODEL_INVALID") else None


def solver_params(parameters: dict[str, Any]) -> dict[str, Any]:
    """The submitted parameters (JSON, as validated) as values `CpSolver().parameters` accepts:
    enums by name become OR-Tools' enum members, repeated fields lists."""
    parsed = json_format.ParseDict(parameters, SatParameters())
    out: dict[str, Any] = {}
    for field, value in parsed.ListFields():
        if field.enum_type is not None:
            names = [field.enum_type.values_by_number[v].name for v in (value if _repeated(field) else [value])]
            members = [getattr(cp_model_helper.SatParameters, name) for name in names]
            out[field.name] = members if _repeated(field) else members[0]
        else:
            out[field.name] = list(value) if _repeated(field) else value
    return out


def _repeated(field) -> bool:
    return field.is_repeated
