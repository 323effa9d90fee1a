"""Meetings first, venues second: the other way round from pattern.py.

Many ITC2021 leagues limit how often the teams of a group meet each other in given slots (CA4 with
teams1 = teams2: "at most 2 games among these 6 teams in these 6 slots"). Such a limit does not depend
on who hosts, and with the venues fixed first (pattern.py) CP-SAT rarely meets dozens of them: even
with the published best schedule's venues fixed it finds no opponents in 30 s. Without venues the same
limits are easy:

1. The meeting model has one Boolean meet[i, j, s] per pair of teams and slot: every team meets one
   other team in every slot, every pair meets twice (phased: once in each half), and every HARD
   constraint that only counts meetings is posted strictly (`meeting_only`: CA2/CA3/CA4 in mode HA,
   CA4 among one group of teams in any mode), plus what GA1 implies for meetings (a listed game held
   in its slots is a meeting held there).
2. The venue model is the whole model with the HARD constraints relaxed and every meeting fixed:
   CP-SAT only chooses who hosts each meeting. Breaks and venue limits can then be what is broken,
   which the repair (search.py) takes on; on leagues without tight break limits it is often nothing.
"""

from __future__ import annotations

import logging
from itertools import combinations
from typing import Any

from ortools.sat.python import cp_model

from app.problems.base import Model, SearchContext
from app.problems.round_robin.model import build, extract
from app.problems.round_robin.schema import Input

log = logging.getLogger(__name__)
Meetings = dict[tuple[int, int], list[int]]  # (i, j) with i < j -> the two slots where they meet


def meeting_only(con: Any) -> bool:
    """True if `con`'s deviation depends only on which teams meet in which slot, not on who hosts."""
    if con.constraint in ("CA2", "CA3"):
        return con.mode1 == "HA"
    if con.constraint == "CA4":
        return con.mode1 == "HA" or set(con.teams1) == set(con.teams2)
    return False


class MeetingModel:
    """meet[i, j, s] for i < j: teams i and j meet in slot s (venue unknown)."""

    def __init__(self, inp: Input):
        self.inp, self.model = inp, Model()
        n, num_slots = inp.n, inp.num_slots
        self.meet = {
            (i, j, s): self.model.new_bool_var(f"m{i}_{j}_{s}")
            for i, j in combinations(range(n), 2)
            for s in range(num_slots)
        }
        m = self.model
        for s in range(num_slots):
            for t in range(n):
                m.add_exactly_one(self.of(t, o, s) for o in range(n) if o != t)
        half = n - 1
        for i, j in combinations(range(n), 2):
            if inp.phased:
                m.add_exactly_one(self.meet[i, j, s] for s in range(half))
                m.add_exactly_one(self.meet[i, j, s] for s in range(half, num_slots))
            else:
                m.add(sum(self.meet[i, j, s] for s in range(num_slots)) == 2)
        for con in inp.constraints:
            if con.type != "HARD":
                continue
            if meeting_only(con):
                self.add_count_limit(con)
            elif con.constraint == "GA1":
                self.add_ga1(con)

    def of(self, a: int, b: int, s: int) -> cp_model.IntVar:
        return self.meet[min(a, b), max(a, b), s]

    def between(self, t1: list[int], t2: list[int], s: int) -> Any:
        """Meetings in slot s of a team of t1 with a team of t2, each meeting counted once."""
        pairs = {(min(a, b), max(a, b)) for a in t1 for b in t2 if a != b}
        return sum(self.meet[i, j, s] for i, j in pairs)

    def add_count_limit(self, con: Any) -> None:
        """CA2/CA3 (per team of teams1) or CA4 (teams1 together) as a bound on meetings."""
        m, num_slots = self.model, self.inp.num_slots
        if con.constraint == "CA4":
            groups = [con.slots] if con.mode2 == "GLOBAL" else [[s] for s in con.slots]
            for group in groups:
                count = sum(self.between(con.teams1, con.teams2, s) for s in group)
                m.add(count <= con.max)
                if con.min:
                    m.add(count >= con.min)
            return
        windows = (
            [con.slots]
            if con.constraint == "CA2"
            else [range(k, k + con.intp) for k in range(num_slots - con.intp + 1)]
        )
        for t in con.teams1:
            for window in windows:
                count = sum(self.between([t], con.teams2, s) for s in window)
                m.add(count <= con.max)
                if con.min:
                    m.add(count >= con.min)

    def add_ga1(self, con: Any) -> None:
        """A listed game held in (outside) its slots is a meeting of that pair held there."""
        outside = [s for s in range(self.inp.num_slots) if s not in set(con.slots)]
        for where, least in ((con.slots, con.min), (outside, len(con.meetings) - con.max)):
            if least > 0:
                self.model.add(sum(self.of(h, a, s) for h, a in con.meetings for s in where) >= least)


def find_meetings(ctx: SearchContext, inp: Input, seconds: float) -> Meetings | None:
    """Which pair meets in which slots, under every meeting-only HARD constraint; None if none was found."""
    mm = MeetingModel(inp)

    def read(value) -> dict:
        met: Meetings = {}
        for (i, j, s), var in mm.meet.items():
            if value(var):
                met.setdefault((i, j), []).append(s)
        return {"meetings": met}

    params = {"stop_after_first_solution": True}
    result = ctx.solve(mm.model, read, time_limit=seconds, params=params, full=False, report=False)
    log.debug("meetings: %s %.1fs", result.status, result.wall_time)
    return result.solution["meetings"] if result.solution else None


def assign_venues(ctx: SearchContext, inp: Input, meetings: Meetings, seconds: float) -> tuple[list, int] | None:
    """The timetable with these meetings that breaks the HARD constraints least: (games, its deviation)."""
    model, v = build(inp, relaxed=True, soft=False)
    met = {(i, j, s) for (i, j), slots in meetings.items() for s in slots}
    for i, j in combinations(range(inp.n), 2):
        for s in range(inp.num_slots):
            model.add(v.x[i, j, s] + v.x[j, i, s] == int((i, j, s) in met))
    result = ctx.solve(model, lambda value: extract(inp, v, value), time_limit=seconds, full=False, report=False)
    log.debug("venues: %s %.1fs hard=%s", result.status, result.wall_time, result.objective)
    if result.solution is None:
        return None
    return [tuple(g) for g in result.solution["games"]], round(result.objective)
