"""The compiled core of the roster annealer (anneal.py): a roster's cost, counted as the checker counts
it, and a Metropolis walk over four kinds of move, as numba functions over integer arrays.

A roster is a people x days array A: A[p, d] = the shift index worked, or K (the number of shifts) for a
day off. `Tables` holds the input as arrays. Each person's cost is recounted in full after a move that
touches their row (a few hundred operations for a 4-week plan), and cover is kept per day and shift, so a
move costs well under a microsecond on the benchmark rosters.

The cost of a roster is its soft penalty (requests and cover, exactly as the checker charges them) plus
`weight` x its hard breaks. A hard break is counted in days: each day too many or too few in a
stretch, each shift over a limit, each weekend over the limit, each forbidden succession, each day
worked that is a day off, and a shortfall or excess of minutes in units of the mean shift length
(rounded up). Every cost is a whole number, so the sums kept along the walk stay exact. The
walk may cross rosters that break hard rules; only rosters that break none are kept as the best.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

JIT = {"cache": True, "nogil": True}
NONE = 1 << 40  # "no limit"
# The mix of moves: a draw r in [0, 1) below CHANGE sets one cell, below BLOCK sets 2-4 days, below
# ROW swaps 1-3 days of one person's row with as many other days of it, below SWAP_ONE swaps one day
# between two people, else 2-7 days.
CHANGE, BLOCK, ROW, SWAP_ONE = 0.35, 0.45, 0.55, 0.75


class Tables(NamedTuple):
    """The input as arrays (see anneal.tables)."""

    cell: np.ndarray  # float [P, D, K + 1]: request penalty of each value of a cell (K = off)
    values: np.ndarray  # int [P, K + 1]: the values a person may take (off first), padded
    n_values: np.ndarray  # int [P]
    limit: np.ndarray  # int [P, K]: max shifts of each kind
    length: np.ndarray  # int [K]: minutes
    minutes: np.ndarray  # int [P, 2]: min and max total minutes
    stretch: np.ndarray  # int [P, 4]: max consecutive shifts, min consecutive shifts, min days off, max weekends
    day_off: np.ndarray  # bool [P, D]
    forbidden: np.ndarray  # bool [K, K]: forbidden[s, t]: t may not follow s
    weekend: np.ndarray  # int [W, 2]: the days of each weekend (-1: none)
    cover: np.ndarray  # int [D, K, 3]: requirement, weight under, weight over (all 0: no cover asked)
    unit: float  # minutes counted as one hard break (the mean shift length)


@njit(**JIT)
def seed(value: int) -> None:
    """Seed the random stream of the compiled moves (numba's own, per thread)."""
    np.random.seed(value)


@njit(**JIT)
def person_cost(A, p: int, cell, limit, length, minutes, stretch, day_off, forbidden, weekend, unit, counts):
    """(request penalty, hard breaks) of person p's row, in one pass over it (stretches included: two
    passes made the walk 14 % slower on the benchmark's 4-week rosters)."""
    days, kinds = A.shape[1], length.shape[0]
    soft, hard = 0.0, 0.0
    counts[:] = 0
    worked_minutes = 0
    start = 0  # the first day of the stretch (worked or off) that holds day d
    run_on = A[p, 0] < kinds  # whether that stretch is worked
    before = kinds  # the day before's value (off before the plan)
    for d in range(days):
        v = A[p, d]
        soft += cell[p, d, v]
        on = v < kinds
        if on:
            counts[v] += 1
            worked_minutes += length[v]
            hard += day_off[p, d]
            if before < kinds:
                hard += forbidden[before, v]
        if on != run_on:  # a stretch ended the day before
            # a stretch touching the first or the last day may go on outside the plan (no minimum)
            run = d - start
            if run_on:
                if run > stretch[p, 0]:
                    hard += run - stretch[p, 0]
                if start > 0 and run < stretch[p, 1]:
                    hard += stretch[p, 1] - run
            elif start > 0 and run < stretch[p, 2]:
                hard += stretch[p, 2] - run
            start, run_on = d, on
        before = v
    if run_on and days - start > stretch[p, 0]:  # the last stretch
        hard += days - start - stretch[p, 0]
    for s in range(kinds):
        if counts[s] > limit[p, s]:
            hard += counts[s] - limit[p, s]
    if worked_minutes < minutes[p, 0]:
        hard += math.ceil((minutes[p, 0] - worked_minutes) / unit)
    if worked_minutes > minutes[p, 1]:
        hard += math.ceil((worked_minutes - minutes[p, 1]) / unit)
    worked = 0
    for w in range(weekend.shape[0]):
        for x in range(2):
            d = weekend[w, x]
            if d >= 0 and A[p, d] < kinds:
                worked += 1
                break
    if worked > stretch[p, 3]:
        hard += worked - stretch[p, 3]
    return soft, hard


@njit(**JIT)
def cover_cost(cover, d: int, s: int, n: int) -> float:
    need = cover[d, s, 0]
    if n < need:
        return float(cover[d, s, 1] * (need - n))
    return float(cover[d, s, 2] * (n - need))


@njit(**JIT)
def place(cover, on_shift, x: int, old: int, new: int, kinds: int) -> float:
    """Count one person on day x as working `new` instead of `old` (K: off); the change of cover penalty."""
    delta = 0.0
    if old < kinds:
        n = on_shift[x, old]
        delta += cover_cost(cover, x, old, n - 1) - cover_cost(cover, x, old, n)
        on_shift[x, old] -= 1
    if new < kinds:
        n = on_shift[x, new]
        delta += cover_cost(cover, x, new, n + 1) - cover_cost(cover, x, new, n)
        on_shift[x, new] += 1
    return delta


@njit(**JIT)
def _same_row(A, p: int, d: int, e: int, span: int) -> bool:
    for i in range(span):
        if A[p, d + i] != A[p, e + i]:
            return False
    return True


@njit(**JIT)
def _swap_within(A, cover, on_shift, p: int, d: int, e: int, span: int, kinds: int) -> float:
    """Swap person p's days d.. and e.. (span each); the change of cover penalty. Done twice, undone."""
    delta = 0.0
    for i in range(span):
        a, b = A[p, d + i], A[p, e + i]
        if a != b:
            delta += place(cover, on_shift, d + i, a, b, kinds) + place(cover, on_shift, e + i, b, a, kinds)
            A[p, d + i], A[p, e + i] = b, a
    return delta


@njit(**JIT)
def recount(A, cell, limit, length, minutes, stretch, day_off, forbidden, weekend, unit, cover, soft, hard, on_shift):
    """Fill each person's soft and hard cost and the count on each (day, shift); the cover penalty."""
    people, days = A.shape
    kinds = length.shape[0]
    counts = np.empty(kinds, np.int64)
    for p in range(people):
        soft[p], hard[p] = person_cost(
            A, p, cell, limit, length, minutes, stretch, day_off, forbidden, weekend, unit, counts
        )
    on_shift[:, :] = 0
    for p in range(people):
        for d in range(days):
            if A[p, d] < kinds:
                on_shift[d, A[p, d]] += 1
    total = 0.0
    for d in range(days):
        for s in range(kinds):
            total += cover_cost(cover, d, s, on_shift[d, s])
    return total


@njit(**JIT)
def walk(
    A, cell, values, n_values, limit, length, minutes, stretch, day_off, forbidden, weekend, unit, cover,
    soft, hard, on_shift, cover_total, moves, temperature, weight, best_A, best,
):  # fmt: skip
    """`moves` Metropolis steps at one temperature and hard-break weight, from A (changed in place with
    soft, hard, on_shift). Moves: give one person one value (a shift, or off) on one day or on 2-4 days
    running; swap 1-3 days of one person's row with as many other days of it (their shifts and minutes
    unchanged); swap two people's days over a window of 1-7 days (cover unchanged). A better roster with no
    hard break than `best` is copied into best_A. Returns (steps that ended with no hard break, the best
    cost, the cover penalty now)."""
    people, days = A.shape
    kinds = length.shape[0]
    counts = np.empty(kinds, np.int64)
    saved = np.empty(8, np.int64)
    total_soft, total_hard = soft.sum(), hard.sum()
    current = total_soft + cover_total + weight * total_hard
    feasible = 0
    for _ in range(moves):
        p = np.random.randint(people)
        d = np.random.randint(days)
        r = np.random.random()
        if r < ROW:  # one person's row changes
            if r < BLOCK:  # they take one value (a shift, or off) on one day, or on 2-4 days running
                if n_values[p] < 2:
                    continue
                v = values[p, np.random.randint(n_values[p])]
                end = min(days, d + (1 if r < CHANGE else 2 + np.random.randint(3)))
                delta_cover = 0.0
                for x in range(d, end):
                    old = A[p, x]
                    saved[x - d] = old
                    if old != v:
                        delta_cover += place(cover, on_shift, x, old, v, kinds)
                        A[p, x] = v
            else:  # their work moves between two stretches of their own row: minutes and counts kept
                span = 1 + np.random.randint(3)
                e = np.random.randint(days)
                if d + span > days or e + span > days or (e < d + span and d < e + span) or _same_row(A, p, d, e, span):
                    continue
                delta_cover = _swap_within(A, cover, on_shift, p, d, e, span, kinds)
            s1, h1 = person_cost(A, p, cell, limit, length, minutes, stretch, day_off, forbidden, weekend, unit, counts)
            new = current + delta_cover + (s1 - soft[p]) + weight * (h1 - hard[p])
            if new <= current or np.random.random() < math.exp((current - new) / temperature):
                cover_total += delta_cover
                total_soft += s1 - soft[p]
                total_hard += h1 - hard[p]
                soft[p], hard[p] = s1, h1
                current = new
            elif r < BLOCK:
                for x in range(d, end):
                    old = saved[x - d]
                    if old != A[p, x]:
                        place(cover, on_shift, x, v, old, kinds)
                        A[p, x] = old
            else:
                _swap_within(A, cover, on_shift, p, d, e, span, kinds)  # swapped back
        else:  # swap two people's days over a window
            q = np.random.randint(people - 1) if people > 1 else 0
            if people < 2:
                continue
            q += q >= p
            span = 1 if r < SWAP_ONE else 2 + np.random.randint(6)
            end = min(days, d + span)
            same = True
            for x in range(d, end):
                if A[p, x] != A[q, x]:
                    same = False
                    A[p, x], A[q, x] = A[q, x], A[p, x]
            if same:
                continue
            s1, h1 = person_cost(A, p, cell, limit, length, minutes, stretch, day_off, forbidden, weekend, unit, counts)
            s2, h2 = person_cost(A, q, cell, limit, length, minutes, stretch, day_off, forbidden, weekend, unit, counts)
            new = current + (s1 - soft[p]) + (s2 - soft[q]) + weight * (h1 - hard[p] + h2 - hard[q])
            if new <= current or np.random.random() < math.exp((current - new) / temperature):
                total_soft += s1 - soft[p] + s2 - soft[q]
                total_hard += h1 - hard[p] + h2 - hard[q]
                soft[p], hard[p], soft[q], hard[q] = s1, h1, s2, h2
                current = new
            else:
                for x in range(d, end):
                    A[p, x], A[q, x] = A[q, x], A[p, x]
        if total_hard == 0:
            feasible += 1
            cost = total_soft + cover_total
            if cost < best:
                best = cost
                best_A[:, :] = A
    return feasible, best, cover_total


def warm() -> None:
    """Compile (or load from the disk cache) every function above, on a 2-person, 3-day roster."""
    people, days, kinds = 2, 3, 1
    t = Tables(
        cell=np.zeros((people, days, kinds + 1)),
        values=np.array([[1, 0], [1, 0]], np.int64),
        n_values=np.array([2, 2], np.int64),
        limit=np.full((people, kinds), 3, np.int64),
        length=np.array([480], np.int64),
        minutes=np.array([[0, 1440], [0, 1440]], np.int64),
        stretch=np.array([[3, 1, 1, 1], [3, 1, 1, 1]], np.int64),
        day_off=np.zeros((people, days), np.bool_),
        forbidden=np.zeros((kinds, kinds), np.bool_),
        weekend=np.array([[-1, -1]], np.int64),
        cover=np.ones((days, kinds, 3), np.int64),
        unit=480.0,
    )
    A = np.zeros((people, days), np.int64)
    soft, hard, on_shift = np.zeros(people), np.zeros(people), np.zeros((days, kinds), np.int64)
    seed(0)
    total = recount(A, t.cell, t.limit, t.length, t.minutes, t.stretch, t.day_off, t.forbidden, t.weekend, t.unit,
                    t.cover, soft, hard, on_shift)  # fmt: skip
    walk(A, t.cell, t.values, t.n_values, t.limit, t.length, t.minutes, t.stretch, t.day_off, t.forbidden, t.weekend,
         t.unit, t.cover, soft, hard, on_shift, total, 10, 1.0, 1.0, A.copy(), math.inf)  # fmt: skip
