"""The `cpsat_model` input: a CpModelProto as built by `ortools.sat.python.cp_model`, with options.

`validate()` does everything before a run is stored: it decodes the proto, enforces the configured
size limits, runs CP-SAT's own model validation and checks the options (variable names, the CP-SAT
parameters a user may set). Every problem is an InputError naming the field, e.g.
`model: Out of bound integer variable 3 in constraint #0 ...` or `parameters.num_workers: ...`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from google.protobuf import json_format, text_format
from ortools.sat import sat_parameters_pb2
from ortools.sat.python import cp_model
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic import ValidationError as PydanticValidationError

from app import config
from app.problems.base import InputError, Model
from app.problems.cpsat_model import proto as protos

SatParameters = sat_parameters_pb2.SatParameters

# CP-SAT parameters a submission may set: they steer or shorten the search of its own model.
# Everything that sizes or times the solve (workers, time, memory, seed) or changes what the server
# reads back (logging, enumerating solutions) is the server's to set.
ALLOWED_PARAMETERS = frozenset(
    """relative_gap_limit absolute_gap_limit max_deterministic_time stop_after_first_solution
    max_number_of_conflicts search_branching linearization_level cp_model_presolve cp_model_probing_level
    symmetry_level optimize_with_core optimize_with_lb_tree_search optimize_with_max_hs use_lns use_lns_only
    extra_subsolvers subsolvers ignore_subsolvers add_lp_constraints_lazily use_objective_lb_search
    use_objective_shaving_search num_violation_ls use_feasibility_jump boolean_encoding_level
    max_presolve_iterations fix_variables_to_their_hinted_value repair_hint hint_conflict_limit
    preferred_variable_order instantiate_all_variables use_optional_variables cp_model_use_sat_presolve
    mip_max_bound mip_var_scaling mip_wanted_precision mip_max_activity_exponent mip_check_precision
    use_timetable_edge_finding_in_cumulative use_overload_checker_in_cumulative
    use_disjunctive_constraint_in_cumulative exploit_all_precedences use_hard_precedences_in_cumulative
    use_strong_propagation_in_disjunctive max_all_diff_cut_size add_cg_cuts add_mir_cuts add_clique_cuts
    add_zero_half_cuts add_rlt_cuts cut_level expand_alldiff_constraints expand_reservoir_constraints
    encode_complex_linear_constraint_with_integer polish_lp_solution""".split()
)
# Where the server's own settings come from, for a clearer message than "not allowed".
SERVER_PARAMETERS = {
    "num_workers": "threads",
    "num_search_workers": "threads",
    "max_time_in_seconds": "time_limit",
    "random_seed": "seed",
}


class Input(BaseModel):
    """A CP-SAT model to solve, as its CpModelProto, with the options of the solve."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: dict[str, Any] | str = Field(
        description="The CpModelProto: its protobuf JSON form (an object, e.g. "
        "json_format.MessageToDict(model.proto)) or base64 of its binary form (a string)."
    )
    model_format: Literal["json", "base64"] | None = Field(
        default=None, description="json or base64; by default read from the type of `model` (object or string)."
    )
    variables: list[str] | None = Field(
        default=None,
        max_length=1_000_000,
        description="Names of the variables whose values the result returns; default: every named variable. "
        "Unnamed variables are called _v<index>.",
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="CP-SAT parameters (SatParameters field names), from an allow-list; workers, time limit and "
        "seed are the submission's threads, time_limit and seed.",
    )

    _proto: protos.CpModelProto | None = PrivateAttr(default=None)
    _names: list[str] | None = PrivateAttr(default=None)
    _cp_model: cp_model.CpModel | None = PrivateAttr(default=None)
    _returned: list[int] | None = PrivateAttr(default=None)

    @property
    def proto(self) -> protos.CpModelProto:
        """The decoded model (decoded once, when the input is validated)."""
        if self._proto is None:
            self._proto = protos.decode(self.model, self.model_format or "json")
        return self._proto

    def cp_model(self) -> cp_model.CpModel:
        """A fresh CpModel holding the decoded model (converted once, then copied in C++)."""
        if self._cp_model is None:
            self._cp_model = protos.to_cp_model(self.proto)
        model = Model()
        model.proto.copy_from(self._cp_model.proto)
        return model

    @property
    def names(self) -> list[str]:
        """Every variable's unique name, by index."""
        if self._names is None:
            self._names = protos.variable_names(self.proto)
        return self._names

    def returned(self) -> list[int]:
        """Indices of the variables whose values the result returns (worked out once: read per solution)."""
        if self._returned is None:
            if self.variables is not None:
                index = {name: i for i, name in enumerate(self.names)}
                self._returned = [index[name] for name in self.variables]
            else:
                named = [i for i, v in enumerate(self.proto.variables) if v.name]
                self._returned = named or list(range(len(self.proto.variables)))
        return self._returned


def validate(payload: Any) -> Input:
    """The Input described by a parsed JSON document; InputError (with field paths) if it is not valid."""
    if isinstance(payload, Input):
        return payload
    if _bare_model(payload):
        payload = {"model": payload, "model_format": "json"}  # an uploaded MessageToJson file
    try:
        inp = Input.model_validate(payload)
    except PydanticValidationError as exc:
        raise InputError.from_pydantic(exc) from None
    if inp.model_format is None:
        inp.model_format = "json" if isinstance(inp.model, dict) else "base64"
    _check_model(inp, config.current())
    errors = _check_variables(inp) + _check_parameters(inp.parameters)
    if errors:
        raise InputError(errors)
    return inp


def _bare_model(payload: Any) -> bool:
    """A CpModelProto's JSON form itself, rather than an Input holding one."""
    if not isinstance(payload, dict) or not payload or "model" in payload:
        return False
    fields = protos.CpModelProto.DESCRIPTOR.fields
    return set(payload) <= {f.name for f in fields} | {f.json_name for f in fields}


def import_text_format(text: str) -> Input:
    """A model saved in protobuf text format (`model.export_to_file("model.pb.txt")`)."""
    proto = protos.CpModelProto()
    try:
        text_format.Parse(text, proto)
    except text_format.ParseError as exc:
        _fail("(root)", f"not a CpModelProto in protobuf text format: {exc}")
    return validate({"model": protos.encode(proto, "base64"), "model_format": "base64"})


def _check_model(inp: Input, settings: config.Settings) -> None:
    """Decode the proto, hold it to the size limits, then let CP-SAT validate it."""
    limit = settings.CPSAT_MAX_MODEL_BYTES
    if isinstance(inp.model, str) and len(inp.model) * 3 // 4 > limit + 3:
        _fail("model", f"the model has about {len(inp.model) * 3 // 4} bytes; at most {limit}")
    try:
        proto = inp.proto
    except protos.BadModel as exc:
        _fail("model", str(exc))
    errors = []
    if proto.ByteSize() > limit:
        errors.append(f"the model has {proto.ByteSize()} bytes; at most {limit}")
    if len(proto.variables) > settings.CPSAT_MAX_VARIABLES:
        errors.append(f"the model has {len(proto.variables)} variables; at most {settings.CPSAT_MAX_VARIABLES}")
    if len(proto.constraints) > settings.CPSAT_MAX_CONSTRAINTS:
        errors.append(f"the model has {len(proto.constraints)} constraints; at most {settings.CPSAT_MAX_CONSTRAINTS}")
    floats = [*proto.floating_point_objective.coeffs, proto.floating_point_objective.offset]
    floats += [proto.objective.offset, proto.objective.scaling_factor]
    if not all(math.isfinite(f) for f in floats):
        # CP-SAT's validator lets a NaN coefficient through; a NaN objective is not JSON.
        errors.append("the objective has a coefficient, offset or scaling factor that is not a finite number")
    if errors:
        raise InputError([{"path": "model", "message": e} for e in errors])
    message = inp.cp_model().validate()
    if message:
        _fail("model", f"CP-SAT rejects the model: {message}")


def _check_variables(inp: Input) -> list[dict[str, str]]:
    if inp.variables is None:
        return []
    known = set(inp.names)
    return [
        {"path": f"variables[{i}]", "message": f"no variable is called {name!r}"}
        for i, name in enumerate(inp.variables)
        if name not in known
    ]


def _check_parameters(parameters: dict[str, Any]) -> list[dict[str, str]]:
    errors = []
    for name, value in parameters.items():
        path = f"parameters.{name}"
        if name in SERVER_PARAMETERS:
            instead = SERVER_PARAMETERS[name]
            errors.append({"path": path, "message": f"set by the server; use the submission's {instead}"})
        elif name not in SatParameters.DESCRIPTOR.fields_by_name:
            errors.append({"path": path, "message": "not a CP-SAT parameter (SatParameters field name)"})
        elif name not in ALLOWED_PARAMETERS:
            errors.append({"path": path, "message": "not allowed here; the server sets it"})
        else:
            try:
                json_format.ParseDict({name: value}, SatParameters())
            except (json_format.ParseError, ValueError, TypeError) as exc:
                errors.append({"path": path, "message": f"invalid value: {exc}"})
    return errors


def _fail(path: str, message: str):
    raise InputError([{"path": path, "message": message}])
