"""Problem-specific views of a finished run, through the problem contract: extra template context
(`ProblemType.page_context`) and extra downloads (`ProblemType.exports`).

Templates live in templates/problems/<type>/_result.html; a type without one gets the generic
templates/problems/_result.html (the stored solution as JSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app import problems
from app.models import Run
from app.problems import Export

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _problem(run: Run) -> problems.ProblemType | None:
    try:
        return problems.get(run.problem_type)
    except KeyError:  # a type no longer installed: its runs still show their JSON
        return None


def context(run: Run, query: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Extra context for the run's result template (nothing until there is a solution)."""
    problem = _problem(run)
    if not run.result or problem is None or problem.page_context is None:
        return {}
    return problem.page_context(run.input, run.result, query or {})


def exports(run: Run) -> list[Export]:
    problem = _problem(run)
    return list(problem.exports) if run.result and problem else []


def export(run: Run, filename: str) -> Export | None:
    return next((e for e in exports(run) if e.filename == filename), None)


def breakdown_when(item: dict[str, Any]) -> str:
    """When a penalty happened: the type's own words ("when"), else 'day 3 (Thu), shift N'."""
    if item.get("when"):
        return item["when"]
    day = item.get("day")
    parts = [f"day {day} ({WEEKDAYS[day % 7]})"] if day is not None else []
    if item.get("shift"):
        parts.append(f"shift {item['shift']}")
    return ", ".join(parts)
