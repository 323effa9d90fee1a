"""Simulated annealing on whole rosters, from a roster CP-SAT found, for the time CP-SAT no longer gains.

CP-SAT finds a first roster within seconds and proves the small ones optimal, but on rosters of 20-40
people it stalls 5-60 % above the best known within a minute: at 2 workers its own large-neighbourhood
search is weak, and its LP bound comes late. A local search that tries about 3 million small
changes a second (moves.py, compiled with numba) keeps improving from there: one person's shift on one
day, one person's shift or day off over 2-4 days running, 1-3 days of one person's row swapped with as
many other days of it (their shifts and minutes stay as they are, cover moves between the days), and two
people's days swapped over a window of 1-7 days, which keeps cover as it is. The row swap is what moves a
person's work onto a short day while they are at their minutes limit: it took 20 s of annealing from
the constructed roster to 1448 / 1467 on Instance8 (1936 / 1863 without it) and 4357 / 4450 on
Instance12 (4455 / 4705); seeds 0 / 1 and 1 / 2, in-process.

Hard rules are a penalty whose weight oscillates (as in TTSA): it rises while the walk spends most of
a phase breaking a rule and falls while it does not, so the walk can cross a rule to reach a better
roster. Only rosters that break no rule are kept, and every better one goes to `ctx.report`, so the
runner's checker sees it like any other. The temperature falls geometrically within each cycle, from
HOT to COLD (in penalty units: a request is worth 1-3, a missing person 100 on the benchmark); each
cycle starts from the best roster so far. A run with 2 threads anneals two chains in threads of their
own (the walk releases the GIL), sharing their best roster.
"""

from __future__ import annotations

import logging
import random
from functools import partial
from typing import Any

import numpy as np

from app.problems.chains import Best, Schedule, Shared, cool, run_chains
from app.problems.shift_scheduling import moves
from app.problems.shift_scheduling.schema import Input

log = logging.getLogger(__name__)
PHASE_MOVES = 20_000  # moves between two updates of temperature and hard-break weight
CYCLES = 2  # annealing cycles in the time given; each starts from the best roster so far
HOT, COLD = 4.0, 0.3  # a cycle's first and last temperature, in penalty units


def tables(inp: Input) -> moves.Tables:
    """The input as the arrays the compiled walk reads."""
    people, days, kinds = len(inp.staff), inp.horizon_days, len(inp.shifts)
    index = {shift.id: s for s, shift in enumerate(inp.shifts)}
    staff = {person.id: p for p, person in enumerate(inp.staff)}
    cell = np.zeros((people, days, kinds + 1))
    for r in inp.shift_on_requests:  # refused unless the person works that shift
        if r.weight > 0:
            cell[staff[r.staff], r.day, :] += r.weight
            cell[staff[r.staff], r.day, index[r.shift]] -= r.weight
    for r in inp.shift_off_requests:
        if r.weight > 0:
            cell[staff[r.staff], r.day, index[r.shift]] += r.weight
    limit = np.full((people, kinds), moves.NONE, dtype=np.int64)
    values = np.full((people, kinds + 1), kinds, dtype=np.int64)
    n_values = np.ones(people, dtype=np.int64)  # off, then every shift the person may work
    minutes = np.zeros((people, 2), dtype=np.int64)
    stretch = np.zeros((people, 4), dtype=np.int64)
    day_off = np.zeros((people, days), dtype=np.bool_)
    for p, person in enumerate(inp.staff):
        for shift_id, cap in person.max_shifts.items():
            limit[p, index[shift_id]] = cap
        for s in range(kinds):
            if limit[p, s] > 0:
                values[p, n_values[p]] = s
                n_values[p] += 1
        most = person.max_total_minutes
        minutes[p] = person.min_total_minutes, most if most is not None else moves.NONE
        stretch[p] = (
            person.max_consecutive_shifts if person.max_consecutive_shifts is not None else moves.NONE,
            person.min_consecutive_shifts,
            person.min_consecutive_days_off,
            person.max_weekends if person.max_weekends is not None else moves.NONE,
        )
        day_off[p, list(set(person.days_off))] = True
    forbidden = np.zeros((kinds, kinds), dtype=np.bool_)
    for s, shift in enumerate(inp.shifts):
        for follower in shift.cannot_follow:
            forbidden[s, index[follower]] = True
    weekend = np.full((max(1, len(inp.weekends())), 2), -1, dtype=np.int64)
    for w, wdays in enumerate(inp.weekends()):
        weekend[w, : len(wdays)] = wdays[:2]
    cover = np.zeros((days, kinds, 3), dtype=np.int64)
    for c in inp.cover:
        cover[c.day, index[c.shift]] = c.requirement, c.weight_under, c.weight_over
    unit = sum(shift.length_minutes for shift in inp.shifts) / kinds
    return moves.Tables(cell, values, n_values, limit, np.array([s.length_minutes for s in inp.shifts], dtype=np.int64),
                        minutes, stretch, day_off, forbidden, weekend, cover, float(unit))  # fmt: skip


def to_array(inp: Input, solution: dict) -> np.ndarray:
    """A roster ({"roster": {staff id: [shift id or None per day]}}) as the walk's array."""
    index = {shift.id: s for s, shift in enumerate(inp.shifts)}
    kinds, rows = len(inp.shifts), solution["roster"]
    return np.array([[index.get(v, kinds) for v in rows[p.id]] for p in inp.staff], dtype=np.int64)


def to_solution(inp: Input, A: np.ndarray) -> dict:
    ids = [shift.id for shift in inp.shifts] + [None]
    return {"roster": {person.id: [ids[v] for v in A[p].tolist()] for p, person in enumerate(inp.staff)}}


class Roster:
    """A roster array with each person's costs and the count on each (day, shift), kept by the walk."""

    def __init__(self, t: moves.Tables, A: np.ndarray):
        self.t, self.A = t, np.array(A, dtype=np.int64)
        people, days = self.A.shape
        self.soft, self.hard = np.zeros(people), np.zeros(people)
        self.on_shift = np.zeros((days, len(t.length)), dtype=np.int64)
        self.cover_total = moves.recount(
            self.A, t.cell, t.limit, t.length, t.minutes, t.stretch, t.day_off, t.forbidden, t.weekend, t.unit,
            t.cover, self.soft, self.hard, self.on_shift,
        )  # fmt: skip

    @property
    def cost(self) -> float:
        return float(self.soft.sum() + self.cover_total)

    @property
    def breaks(self) -> float:
        return float(self.hard.sum())

    def walk(self, steps: int, temperature: float, weight: float, best: Best) -> int:
        """`steps` annealing steps (moves.walk); `best` keeps the best roster seen that breaks no hard rule.
        The number of steps that ended breaking none."""
        t = self.t
        feasible, best.cost, self.cover_total = moves.walk(
            self.A, t.cell, t.values, t.n_values, t.limit, t.length, t.minutes, t.stretch, t.day_off, t.forbidden,
            t.weekend, t.unit, t.cover, self.soft, self.hard, self.on_shift, self.cover_total, steps, temperature,
            weight, best.array, best.cost,
        )  # fmt: skip
        return feasible


def anneal(ctx: Any, start: dict, chains: int = 1, seed: int = 0) -> None:
    """Anneal from the roster `start` (which must break no hard rule) until ctx.remaining() runs out or a
    stop; every better roster goes to ctx.report. `chains`: walks at once, a thread each (chains.py)."""
    inp: Input = ctx.inp
    t = tables(inp)
    first = Roster(t, to_array(inp, start))
    if first.breaks:
        log.warning("anneal: the start breaks %s hard rules; not annealing", first.breaks)
        return
    shared = Shared(Best(first.A.copy(), first.cost), reported=first.cost, solution=partial(to_solution, inp))
    run_chains(ctx, shared, partial(_chain, ctx, t), chains, random.Random(seed))


def _chain(ctx: Any, t: moves.Tables, shared: Shared, seed: int, reports: bool) -> None:
    """One chain: cycles of cooling, each from the best roster so far."""
    moves.seed(seed)  # numba's random stream is per thread
    weight = float(t.cover[:, :, 1].max(initial=1)) or 1.0  # about one missing person
    cool(ctx, shared, lambda best: Roster(t, best.array), Schedule(HOT, COLD, CYCLES, PHASE_MOVES), weight, reports)


__all__ = ["anneal", "tables"]
