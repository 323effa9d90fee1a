"""Round-robin timetabling: compact double round robins in the RobinX format (ITC2021, traveling tournament).

Teams meet twice, once at each home, one game per team and slot, under the ITC2021 constraint classes
(capacity CA1-CA4, game GA1, break BR1-BR2, fairness FA2, separation SE1), each HARD or SOFT with a
penalty; a traveling tournament adds distances and minimises the total travel. The search finds a
feasible timetable first, then improves it: annealing on leagues of more than 8 teams, fix-and-optimise
on smaller ones (see `search`).
"""

from __future__ import annotations

from app.problems import register
from app.problems.base import Export, ProblemType, Rule
from app.problems.round_robin import itc_cost, pages, ttsa
from app.problems.round_robin.check import check
from app.problems.round_robin.demo import DEMOS
from app.problems.round_robin.model import build, extract, hint
from app.problems.round_robin.robinx import export_solution, import_instance
from app.problems.round_robin.schema import Input, validate
from app.problems.round_robin.search import search


def summary(inp: Input) -> dict[str, int]:
    """Size facts for run lists, e.g. {"teams": 18, "slots": 34, "constraints": 400}."""
    return {"teams": inp.n, "slots": inp.num_slots, "constraints": len(inp.constraints)}


def estimate(inp: Input) -> dict[str, int]:
    """Model size: one Boolean per (home, away, slot) plus venues, and roughly one constraint per term."""
    x = inp.n * (inp.n - 1) * inp.num_slots
    return {"variables": x + inp.n * inp.num_slots * 3, "constraints": 3 * x // 2 + 4 * len(inp.constraints)}


def prepare() -> None:
    """Compile (or load from the disk cache) the two annealers' walks: traveling tournament and ITC2021."""
    ttsa.warm()
    itc_cost.warm()


RULES = [
    Rule("CA1", "CA1: home/away games of a team in given slots"),
    Rule("CA2", "CA2: games of a team against given opponents"),
    Rule("CA3", "CA3: games against given opponents in consecutive slots"),
    Rule("CA4", "CA4: games between two groups of teams"),
    Rule("GA1", "GA1: given games in given slots"),
    Rule("BR1", "BR1: breaks of a team"),
    Rule("BR2", "BR2: breaks of a group of teams"),
    Rule("FA2", "FA2: difference in home games played so far"),
    Rule("SE1", "SE1: slots between the two meetings of a pair"),
    Rule("travel", "Travel distance"),
]

PROBLEM = register(
    ProblemType(
        name="round_robin",
        title="Round-robin timetabling",
        description="Schedule a compact double round robin (every team meets every other once at home, "
        "once away, one game per slot) under ITC2021 constraints, or minimise travel (traveling tournament). "
        "Upload a RobinX XML instance.",
        input_model=Input,
        validate=validate,
        importers={"robinx_xml": import_instance},
        demos=DEMOS,
        build=build,
        extract=extract,
        hint=hint,
        check=check,
        rules=RULES,
        summary=summary,
        search=search,
        prepare=prepare,
        estimate=estimate,
        page_context=pages.page_context,
        exports=[
            Export("solution.xml", "Schedule (RobinX solution XML)", "application/xml", pages.robinx_export),
            Export("schedule.csv", "Schedule (CSV)", "text/csv", pages.csv_export),
        ],
    )
)

__all__ = [
    "PROBLEM",
    "Input",
    "build",
    "check",
    "export_solution",
    "extract",
    "hint",
    "import_instance",
    "search",
    "validate",
]
