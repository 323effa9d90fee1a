"""Problem-specific views of a finished run: extra template context and extra downloads, by problem type.

Templates live in templates/problems/<type>/_result.html; a type without one gets the generic
templates/problems/_result.html (the stored solution as JSON). Add a type here only if its template
needs context computed in Python or it offers its own download.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.models import Run
from app.web import rosters


@dataclass(frozen=True)
class Export:
    filename: str  # e.g. "roster.csv"; served at /runs/<id>/<filename>
    label: str
    mimetype: str
    render: Callable[[Run], str]


def _roster_context(run: Run) -> dict[str, Any]:
    return {"roster": rosters.build(run.input, run.result["solution"], run.result.get("breakdown", []))}


CONTEXT: dict[str, Callable[[Run], dict[str, Any]]] = {"shift_scheduling": _roster_context}
EXPORTS: dict[str, list[Export]] = {
    "shift_scheduling": [Export("roster.csv", "Roster (CSV)", "text/csv",
                                lambda run: rosters.to_csv(run.input, run.result["solution"]))],
}


def context(run: Run) -> dict[str, Any]:
    """Extra context for the run's result template (nothing until there is a solution)."""
    if not run.result or run.problem_type not in CONTEXT:
        return {}
    return CONTEXT[run.problem_type](run)


def exports(run: Run) -> list[Export]:
    return EXPORTS.get(run.problem_type, []) if run.result else []


def export(run: Run, filename: str) -> Export | None:
    return next((e for e in exports(run) if e.filename == filename), None)


def breakdown_when(item: dict[str, Any]) -> str:
    """'day 3 (Thu), shift N' from a penalty's day and shift."""
    parts = [rosters.day_label(item.get("day"))] if item.get("day") is not None else []
    if item.get("shift"):
        parts.append(f"shift {item['shift']}")
    return ", ".join(parts)
