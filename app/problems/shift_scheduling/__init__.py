"""Shift scheduling (nurse rostering): who works which shift on which day.

The flagship problem type, modelled on the Employee Shift Scheduling Benchmark (Curtois & Qu):
hard per-person rules (one shift a day, rest after lates, limits on minutes, stretches and weekends,
days off) and soft wishes (shift requests, cover needs) whose weighted misses are minimised.
"""

from __future__ import annotations

from functools import partial

from app.problems import register
from app.problems.base import Export, ProblemType, Rule
from app.problems.shift_scheduling import construct, moves, rosters
from app.problems.shift_scheduling.check import check
from app.problems.shift_scheduling.demo import SIZES, demo
from app.problems.shift_scheduling.estimate import estimate
from app.problems.shift_scheduling.importer import import_text
from app.problems.shift_scheduling.model import build, extract, hint
from app.problems.shift_scheduling.schema import Input, validate
from app.problems.shift_scheduling.search import search


def summary(inp: Input) -> dict[str, int]:
    """Size facts for run lists, e.g. {"staff": 8, "days": 14, "shifts": 1}."""
    return {"staff": len(inp.staff), "days": inp.horizon_days, "shifts": len(inp.shifts)}


def page_context(inp: dict, result: dict, query) -> dict:
    """One page of the roster grid (`?staff_page=N`) for templates/problems/shift_scheduling/_result.html."""
    raw = str(query.get("staff_page", "1"))
    page = int(raw) if raw.isdigit() and len(raw) < 7 else 1
    return {"roster": rosters.build(inp, result["solution"], result.get("breakdown", []), page)}


RULES = [
    Rule("shift_on_requests", "Shift requests not granted"),
    Rule("shift_off_requests", "Day-off requests not granted"),
    Rule("cover_under", "Shifts short of staff"),
    Rule("cover_over", "Shifts with more staff than needed"),
]

PROBLEM = register(
    ProblemType(
        name="shift_scheduling",
        title="Shift scheduling",
        description="Build a staff roster over a horizon of days: who works which shift, within each "
        "person's limits, granting as many shift requests and covering each shift as well as possible.",
        input_model=Input,
        validate=validate,
        importers={"benchmark_text": import_text},
        demos={size: partial(demo, size) for size in SIZES},
        build=build,
        extract=extract,
        hint=hint,
        check=check,
        rules=RULES,
        summary=summary,
        # The LP relaxation with every clause (max_lp) is what proves these rosters optimal; the
        # default portfolio only runs it from 6 workers up.
        solver_params={"extra_subsolvers": ["max_lp"]},
        estimate=estimate,
        # A first roster built person group by person group within seconds, a whole-model solve, then
        # simulated annealing from its best roster (construct.py, anneal.py). search.py and decompose.py
        # (large-neighbourhood searches of the roster's own) are not the default: measured at equal CPU they
        # trail it (README, "How a roster is searched"). Use one with dataclasses.replace(PROBLEM, search=...).
        search=construct.search,
        prepare=moves.warm,
        page_context=page_context,
        exports=[Export("roster.csv", "Roster (CSV)", "text/csv", rosters.csv_export)],
    )
)

__all__ = [
    "PROBLEM",
    "Input",
    "build",
    "check",
    "demo",
    "estimate",
    "extract",
    "hint",
    "import_text",
    "search",
    "summary",
    "validate",
]
