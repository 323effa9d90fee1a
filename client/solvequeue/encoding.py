"""A CpModel as the server takes it: base64 of the binary CpModelProto, or its protobuf JSON form."""

from __future__ import annotations

import base64
import os
import tempfile
from typing import Any

from google.protobuf import json_format
from ortools.sat import cp_model_pb2
from ortools.sat.python import cp_model


def binary(model: cp_model.CpModel | cp_model_pb2.CpModelProto) -> bytes:
    """The model's CpModelProto in the protobuf binary format."""
    if isinstance(model, cp_model_pb2.CpModelProto):
        return model.SerializeToString()
    # OR-Tools' CpModel wraps a C++ proto that writes its binary form only to a file (fast, exact).
    fd, path = tempfile.mkstemp(suffix=".pb")
    os.close(fd)
    try:
        if not model.export_to_file(path):
            raise ValueError("OR-Tools could not export the model")
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def encode(model: cp_model.CpModel | cp_model_pb2.CpModelProto, model_format: str = "base64") -> Any:
    """The `model` field of a submission: a base64 string, or for "json" the protobuf JSON object."""
    raw = binary(model)
    if model_format == "base64":
        return base64.b64encode(raw).decode("ascii")
    if model_format == "json":
        proto = cp_model_pb2.CpModelProto()
        proto.ParseFromString(raw)
        return json_format.MessageToDict(proto, preserving_proto_field_name=True)
    raise ValueError(f"model_format must be 'base64' or 'json', not {model_format!r}")


def names(model: cp_model.CpModel | cp_model_pb2.CpModelProto) -> list[str]:
    """Each variable's name by index, as the server names them (`_v<index>` when unnamed, `name@index`
    when shared)."""
    proto = model if isinstance(model, cp_model_pb2.CpModelProto) else model.proto
    given = [v.name for v in proto.variables]
    counts: dict[str, int] = {}
    for n in given:
        counts[n] = counts.get(n, 0) + 1
    out = []
    for i, name in enumerate(given):
        if not name:
            name = f"_v{i}" if f"_v{i}" not in counts else f"_v{i}@{i}"
        elif counts[name] > 1:
            name = f"{name}@{i}"
        out.append(name)
    return out
