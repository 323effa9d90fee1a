"""What a finished `cpsat_model` run shows and offers: the model's size, its values (paged, searchable
by name), downloads (the model as submitted, the solution as JSON and CSV), and "solve again" from
the solution as hints."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from typing import Any

from app.problems.base import Export
from app.problems.cpsat_model import proto as protos
from app.problems.cpsat_model.model import maximizes, set_hint
from app.problems.cpsat_model.schema import Input

PER_PAGE = 50


def _input(stored: dict) -> Input:
    # Stored inputs were validated on submission; decoding is all the pages need.
    inp = Input.model_validate(stored)
    inp.model_format = inp.model_format or ("json" if isinstance(inp.model, dict) else "base64")
    return inp


def page_context(stored: dict, result: dict, query: Mapping[str, str]) -> dict[str, Any]:
    """The model's size and one page of its values, filtered by `q` (part of a name), page `values_page`."""
    inp = _input(stored)
    values = (result.get("solution") or {}).get("values", {})
    q = (query.get("q") or "").strip()
    rows = [(name, value) for name, value in values.items() if q.lower() in name.lower()]
    pages = max(1, math.ceil(len(rows) / PER_PAGE))
    page = min(max(1, _int(query.get("values_page"), 1)), pages)
    proto = inp.proto
    objective = "none"
    if proto.HasField("objective") or proto.HasField("floating_point_objective"):
        objective = "maximise" if maximizes(inp) else "minimise"
    return {
        "cpsat": {
            "variables": len(proto.variables),
            "constraints": len(proto.constraints),
            "kinds": protos.constraint_kinds(proto),
            "objective": objective,
            "hinted": len(proto.solution_hint.vars),
            "parameters": inp.parameters,
            "q": q,
            "rows": rows[(page - 1) * PER_PAGE : page * PER_PAGE],
            "matching": len(rows),
            "returned": len(values),
            "page": page,
            "pages": pages,
        }
    }


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw or default)
    except ValueError:
        return default


def model_binary(stored: dict, result: dict) -> bytes:
    """The model as a binary CpModelProto (byte for byte what was sent, if it was sent as base64)."""
    inp = _input(stored)
    if inp.model_format == "base64":
        return protos.raw_bytes(inp.model)
    return inp.proto.SerializeToString()


def model_json(stored: dict, result: dict) -> str:
    """The model in protobuf JSON form."""
    return json.dumps(protos.encode(_input(stored).proto, "json"), indent=1)


def all_values(stored: dict, result: dict) -> dict[str, int]:
    """Every variable's value by name (the result returns only the chosen ones)."""
    return dict(zip(_input(stored).names, result["solution"]["assignment"], strict=True))


def solution_json(stored: dict, result: dict) -> str:
    return json.dumps({"values": all_values(stored, result)}, indent=1)


def solution_csv(stored: dict, result: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["variable", "value"])
    writer.writerows(all_values(stored, result).items())
    return out.getvalue()


EXPORTS = [
    Export("model.pb", "Model (binary CpModelProto)", "application/octet-stream", model_binary),
    Export("model.json", "Model (JSON)", "application/json", model_json),
    Export("solution.json", "Solution (JSON)", "application/json", solution_json),
    Export("solution.csv", "Solution (CSV)", "text/csv", solution_csv),
]


def resubmit(stored: dict, result: dict) -> dict:
    """The same submission, with the run's solution as the model's hint (every variable)."""
    inp = _input(stored)
    proto = protos.CpModelProto()
    proto.CopyFrom(inp.proto)
    set_hint(proto, result["solution"]["assignment"])
    return {**stored, "model": protos.encode(proto, inp.model_format), "model_format": inp.model_format}
