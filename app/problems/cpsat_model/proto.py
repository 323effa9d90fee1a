"""The submitted CpModelProto: decoding it from its JSON or base64 form, and handing it to CP-SAT.

Two representations meet here. The Python protobuf message (`cp_model_pb2.CpModelProto`) reads and
writes the wire formats (binary, JSON); OR-Tools 9.15's `CpModel` wraps a C++ proto that only speaks
protobuf text format. Text format is lossless, so it is the bridge between the two.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format, text_format
from google.protobuf.message import DecodeError
from ortools.sat import cp_model_pb2
from ortools.sat.python import cp_model

from app.problems.base import Model

CpModelProto = cp_model_pb2.CpModelProto


class BadModel(ValueError):
    """The payload is not a CpModelProto in the format it claims."""


def decode(model: dict[str, Any] | str, model_format: str) -> CpModelProto:
    """The CpModelProto in `model`: its protobuf JSON form (a dict) or base64 of its binary form."""
    proto = CpModelProto()
    if model_format == "json":
        if not isinstance(model, dict):
            raise BadModel("model_format json expects the model as a JSON object")
        try:
            return json_format.ParseDict(model, proto)
        except (json_format.ParseError, ValueError, TypeError) as exc:
            raise BadModel(f"not a CpModelProto in protobuf JSON form: {exc}") from None
    if not isinstance(model, str):
        raise BadModel("model_format base64 expects the model as a string")
    try:
        proto.ParseFromString(raw_bytes(model))
    except DecodeError as exc:
        raise BadModel(f"not a binary CpModelProto: {exc}") from None
    return proto


def raw_bytes(model: str) -> bytes:
    """The binary model inside a base64 string."""
    try:
        return base64.b64decode(model, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadModel(f"not valid base64: {exc}") from None


def encode(proto: CpModelProto, model_format: str) -> dict[str, Any] | str:
    """`proto` in the given submission format (the inverse of `decode`)."""
    if model_format == "json":
        return json_format.MessageToDict(proto, preserving_proto_field_name=True)
    return base64.b64encode(proto.SerializeToString()).decode("ascii")


def to_cp_model(proto: CpModelProto) -> cp_model.CpModel:
    """A CpModel (`base.Model`) holding `proto`, ready for CP-SAT's validator and solver."""
    model = Model()
    if not model.proto.parse_text_format(str(proto)):
        raise BadModel("CP-SAT could not read the model")
    return model


def from_cp_model(model: cp_model.CpModel) -> CpModelProto:
    """The protobuf message of a CpModel (what a client sends)."""
    proto = CpModelProto()
    text_format.Parse(str(model.proto), proto)
    return proto


def variable_names(proto: CpModelProto) -> list[str]:
    """A unique, stable name for every variable: its own name, `_v<index>` if it has none, and
    `<name>@<index>` when several variables share a name (values are returned by name)."""
    given = [v.name for v in proto.variables]
    counts = Counter(given)
    names = []
    for i, name in enumerate(given):
        if not name:
            name = f"_v{i}" if counts[f"_v{i}"] == 0 else f"_v{i}@{i}"
        elif counts[name] > 1:
            name = f"{name}@{i}"
        names.append(name)
    return names


def constraint_kinds(proto: CpModelProto) -> dict[str, int]:
    """Number of constraints of each kind (linear, bool_or, no_overlap, …), most frequent first."""
    kinds = Counter(c.WhichOneof("constraint") or "empty" for c in proto.constraints)
    return dict(kinds.most_common())


def objective_value(proto: CpModelProto, values: Sequence[int]) -> float | None:
    """The objective of an assignment, as CP-SAT defines it; None for a model without objective."""
    if proto.HasField("floating_point_objective"):
        obj = proto.floating_point_objective
        return obj.offset + sum(c * values[v] for v, c in zip(obj.vars, obj.coeffs, strict=True))
    if not proto.HasField("objective"):
        return None
    obj = proto.objective
    inner = sum(c * _literal_value(values, v) for v, c in zip(obj.vars, obj.coeffs, strict=True))
    return (obj.scaling_factor or 1.0) * (inner + obj.offset)


def _literal_value(values: Sequence[int], ref: int) -> int:
    # CP-SAT refers to "not x" as -x-1 (only for Booleans).
    return values[ref] if ref >= 0 else 1 - values[-ref - 1]
