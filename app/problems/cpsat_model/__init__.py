"""Bring your own CP-SAT model: any model built with OR-Tools, solved as a run.

The input is the model's CpModelProto (protobuf JSON, or base64 of the binary form), the names of
the variables to return, and CP-SAT parameters from an allow-list. The worker rebuilds the model,
solves it like any other run (progress, cancel, checkpoint and resume with hints), returns values by
variable name, and the checker re-verifies every solution with CP-SAT itself, all variables fixed.
"""

from __future__ import annotations

from app.problems import register
from app.problems.base import ProblemType, Rule
from app.problems.cpsat_model.demo import DEMOS
from app.problems.cpsat_model.model import build, check, estimate, extract, hint, maximizes, search, summary
from app.problems.cpsat_model.pages import EXPORTS, page_context, resubmit
from app.problems.cpsat_model.schema import Input, import_text_format, validate

PROBLEM = register(
    ProblemType(
        name="cpsat_model",
        title="Your own CP-SAT model",
        description="Any model built with OR-Tools' cp_model, sent as its CpModelProto (protobuf JSON, or "
        "base64 of the binary form); the result gives each variable's value by name.",
        input_model=Input,
        validate=validate,
        importers={"cpsat_text": import_text_format},
        demos=DEMOS,
        build=build,
        extract=extract,
        hint=hint,
        check=check,
        defer_check=True,
        rules=[Rule("objective", "Objective")],
        summary=summary,
        search=search,
        estimate=estimate,
        maximizes=maximizes,
        page_context=page_context,
        exports=EXPORTS,
        resubmit=resubmit,
    )
)

__all__ = ["PROBLEM", "Input", "build", "check", "extract", "hint", "search", "summary", "validate"]
