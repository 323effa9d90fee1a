"""The shift-scheduling result as a roster grid (staff x days) and as CSV.

Cells are marked from the input itself (requests and cover), so the grid shows what was asked for
next to what was planned; the objective breakdown explains the cost of each mark.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class Cell:
    code: str | None
    classes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what a planner should know about this cell
    cost: int = 0


@dataclass
class Row:
    staff: str
    cells: list[Cell]
    shifts: int = 0
    minutes: int = 0
    cost: int = 0


@dataclass
class CoverCell:
    count: int
    requirement: int | None
    state: str  # ok | under | over | none (no requirement)


@dataclass
class Roster:
    days: list[dict[str, Any]]
    shifts: list[dict[str, Any]]
    rows: list[Row]  # the staff of this page only
    cover: list[tuple[str, list[CoverCell]]]  # over all staff
    counts: dict[str, int]  # marks by kind over all staff, for the legend
    page: int = 1
    pages: int = 1
    staff_total: int = 0
    first: int = 0  # index of the page's first person

    @property
    def hue(self) -> dict[str, int]:
        """Shift id -> colour index, so each shift keeps its colour in the grid and the legend."""
        return {s["id"]: s["hue"] for s in self.shifts}


# A page of the grid holds at most this many cells (staff x days), so a run page stays a few hundred
# KB however big the roster: 50 people for a 4-week plan, 13 for a whole year.
CELLS_PER_PAGE = 5_000
MAX_STAFF_PER_PAGE = 50


def staff_per_page(horizon: int) -> int:
    return max(5, min(MAX_STAFF_PER_PAGE, CELLS_PER_PAGE // max(1, horizon)))


def day_label(day: int | None) -> str:
    return "" if day is None else f"day {day} ({WEEKDAYS[day % 7]})"


def build(
    inp: dict[str, Any], solution: dict[str, Any], breakdown: list[dict[str, Any]], page: int = 1,
    per_page: int | None = None,
) -> Roster:
    """One page of the grid of a solution, with missed requests and under/over cover marked. Cover and
    the legend's counts are over all staff; cells, notes and totals only for the page's staff."""
    horizon = inp["horizon_days"]
    roster = solution.get("roster", {})
    length = {s["id"]: s["length_minutes"] for s in inp["shifts"]}
    size = per_page or staff_per_page(horizon)
    pages = max(1, math.ceil(len(inp["staff"]) / size))
    page = min(max(1, page), pages)
    first = (page - 1) * size
    shown = inp["staff"][first : first + size]
    rows = {p["id"]: Row(p["id"], [Cell(code) for code in _days(roster.get(p["id"]), horizon)]) for p in shown}
    counts: dict[str, int] = defaultdict(int)
    for req in inp.get("shift_on_requests", []):
        if _code(roster, req, horizon) != req["shift"]:
            counts["missed-on"] += 1
            if cell := _cell(rows, req):
                _mark(cell, "missed-on", f"asked to work {req['shift']} (weight {req.get('weight', 1)})")
    for req in inp.get("shift_off_requests", []):
        if _code(roster, req, horizon) == req["shift"]:
            counts["missed-off"] += 1
            if cell := _cell(rows, req):
                _mark(cell, "missed-off", f"asked not to work {req['shift']} (weight {req.get('weight', 1)})")
    for person in shown:
        for day in person.get("days_off", []):
            if day < horizon:
                rows[person["id"]].cells[day].classes.append("day-off")
    for item in (i for rule in breakdown for i in rule.get("items", [])):
        if item.get("who") in rows and item.get("day") is not None and item["day"] < horizon:
            rows[item["who"]].cells[item["day"]].cost += int(item.get("cost", 0))
        if item.get("who") in rows:
            rows[item["who"]].cost += int(item.get("cost", 0))
    for row in rows.values():
        worked = [c.code for c in row.cells if c.code]
        row.shifts, row.minutes = len(worked), sum(length.get(code, 0) for code in worked)
    cover = _cover(inp, roster, horizon, counts)
    days = [{"index": d, "weekday": WEEKDAYS[d % 7], "weekend": d % 7 >= 5} for d in range(horizon)]
    shifts = [{"id": s["id"], "hue": i} for i, s in enumerate(inp["shifts"])]
    return Roster(days, shifts, list(rows.values()), cover, dict(counts), page, pages, len(inp["staff"]), first)


def _days(codes: list[str | None] | None, horizon: int) -> list[str | None]:
    codes = list(codes or [])
    return (codes + [None] * horizon)[:horizon]


def _code(roster: dict[str, Any], req: dict[str, Any], horizon: int) -> str | None:
    codes = roster.get(req["staff"]) or []
    return codes[req["day"]] if req["day"] < min(horizon, len(codes)) else None


def _cell(rows: dict[str, Row], req: dict[str, Any]) -> Cell | None:
    row = rows.get(req["staff"])
    return row.cells[req["day"]] if row and req["day"] < len(row.cells) else None


def _mark(cell: Cell, kind: str, note: str) -> None:
    cell.classes.append(kind)
    cell.notes.append(note)


def _cover(inp: dict[str, Any], roster: dict[str, Any], horizon: int,
           counts: dict[str, int]) -> list[tuple[str, list[CoverCell]]]:
    """Per shift and day: how many work it (all staff), against the requirement."""
    need = {(c["day"], c["shift"]): c["requirement"] for c in inp.get("cover", [])}
    worked: dict[tuple[int, str], int] = defaultdict(int)
    for person in inp["staff"]:
        for day, code in enumerate(_days(roster.get(person["id"]), horizon)):
            if code:
                worked[(day, code)] += 1
    out = []
    for shift in inp["shifts"]:
        cells = []
        for day in range(horizon):
            count = worked[(day, shift["id"])]
            req = need.get((day, shift["id"]))
            state = "none" if req is None else "under" if count < req else "over" if count > req else "ok"
            if state in ("under", "over"):
                counts[f"cover-{state}"] += 1
            cells.append(CoverCell(count, req, state))
        out.append((shift["id"], cells))
    return out


# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...) and friends).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell_text(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: formula-like values get a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_START) else value


def to_csv(inp: dict[str, Any], solution: dict[str, Any]) -> str:
    """One row per person, one column per day; shift codes, empty when off."""
    horizon = inp["horizon_days"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["staff", *(f"{d} {WEEKDAYS[d % 7]}" for d in range(horizon))])
    roster = solution.get("roster", {})
    for person in inp["staff"]:
        codes = (_cell_text(code or "") for code in _days(roster.get(person["id"]), horizon))
        writer.writerow([_cell_text(person["id"]), *codes])
    return buf.getvalue()


def csv_export(inp: dict[str, Any], result: dict[str, Any]) -> str:
    """The roster download (ProblemType.exports): the stored result's roster as CSV."""
    return to_csv(inp, result["solution"])
