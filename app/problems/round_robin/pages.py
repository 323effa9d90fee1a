"""The round-robin result for people: a team x slot grid, and the schedule as RobinX XML and CSV.

Cells show the opponent and the venue; breaks (the same venue as in the slot before) are marked, and
so are the games a SOFT constraint charges for, so the breakdown below the grid can be found in it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.problems.round_robin.check import DEVIATIONS, Timetable
from app.problems.round_robin.robinx import export_solution
from app.problems.round_robin.schema import validate


@dataclass
class Cell:
    opponent: str
    short: str  # what the cell shows: the opponent's index, or its name when that is short
    home: bool
    brk: bool
    notes: list[str] = field(default_factory=list)  # constraints that charge for this game


@dataclass
class Grid:
    slots: list[int]
    rows: list[tuple[str, list[Cell], int]]  # team name, cells, breaks
    breaks: int
    marked: int


def grid(inp_raw: dict, solution: dict) -> Grid:
    """The timetable as rows of cells, one row per team."""
    inp = validate(inp_raw)
    tt = Timetable(inp.n, inp.num_slots, [tuple(g) for g in solution["games"]])
    notes: dict[tuple[int, int], list[str]] = {}
    for k, con in enumerate(inp.constraints):
        deviation, parts = DEVIATIONS[con.constraint](con, tt)
        for _, teams, slots in parts if deviation else []:
            for t in teams:
                for s in slots:
                    notes.setdefault((t, s), []).append(f"#{k} {con.constraint} ({con.type.lower()})")
    rows = []
    for t in range(inp.n):
        cells = [
            Cell(
                inp.teams[tt.opp[t][s]],
                _short(inp.teams, tt.opp[t][s]),
                tt.home[t][s],
                tt.breaks(t, s) is not None,
                notes.get((t, s), []),
            )
            for s in range(inp.num_slots)
        ]
        rows.append((inp.teams[t], cells, sum(c.brk for c in cells)))
    return Grid(list(range(inp.num_slots)), rows, sum(r[2] for r in rows), len(notes))


def _short(teams: list[str], team: int) -> str:
    return teams[team] if len(teams[team]) <= 3 else str(team)


def page_context(inp: dict, result: dict, query: Mapping[str, str]) -> dict[str, Any]:
    """Context for templates/problems/round_robin/_result.html."""
    return {"timetable": grid(inp, result["solution"])}


def robinx_export(inp: dict, result: dict) -> str:
    """The schedule as a RobinX solution file, with the checked objective."""
    objective = sum(rule.get("cost", 0) for rule in result.get("breakdown", []))
    return export_solution(validate(inp), result["solution"], objective)


def csv_export(inp: dict, result: dict) -> str:
    """One line per game: slot, home team, away team (names and indices)."""
    teams = inp["teams"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["slot", "home", "away", "home_index", "away_index"])
    for h, a, s in sorted(result["solution"]["games"], key=lambda g: (g[2], g[0])):
        writer.writerow([s, teams[h], teams[a], h, a])
    return out.getvalue()
