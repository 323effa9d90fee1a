"""Problem types, registered by name. Web, API and worker dispatch through `get()` and `all_types()`."""

from __future__ import annotations

import importlib
import os

from app.problems.base import Check, Export, InputError, Penalty, ProblemType, Rule, SearchContext, SubSolve

_REGISTRY: dict[str, ProblemType] = {}


def register(problem: ProblemType) -> ProblemType:
    _REGISTRY[problem.name] = problem
    return problem


def get(name: str) -> ProblemType:
    """The problem type called `name`; KeyError if there is none."""
    _load_builtin()
    return _REGISTRY[name]


def all_types() -> list[ProblemType]:
    _load_builtin()
    return list(_REGISTRY.values())


def _load_builtin() -> None:
    # Imported lazily so `import app` stays cheap; the worker imports these eagerly instead.
    # PROBLEM_MODULES (comma-separated dotted names) adds problem types from outside this package.
    from app.problems import shift_scheduling  # noqa: F401

    for name in filter(None, os.environ.get("PROBLEM_MODULES", "").split(",")):
        importlib.import_module(name.strip())


__all__ = [
    "Check",
    "Export",
    "InputError",
    "Penalty",
    "ProblemType",
    "Rule",
    "SearchContext",
    "SubSolve",
    "all_types",
    "get",
    "register",
]
