"""The compiled core of the ITC2021 annealer (itc_anneal.py): every constraint's deviation, counted as the
checker (check.py) counts it, kept along a Metropolis walk over TTSA's five moves (ttsa.apply_move).

A timetable is the n x (2n - 2) array of ttsa.py: S[t, s] = o + 1 if t hosts o in slot s, -(o + 1) if t
plays at o. The input's constraints become *units* (`Units`): a constraint that the checker sums over its
teams (CA1, CA2, CA3, BR1) gives one unit per team; every other one (CA4, GA1, BR2, FA2, SE1) is one unit.

A unit's deviation is the sum over its *counters* of how far each count lies outside [lo, hi] (CA1, CA2,
GA1, BR1, BR2, CA4 GLOBAL: one counter; CA3: one per window of `intp` slots; CA4 EVERY: one per listed
slot; FA2: one per pair of teams). Most counts are sums of 0/1 terms, each read from one cell S[t, s] (an
*entry*: "t plays at home in s", "t meets a team of teams2 in s", ...) or from one break position (t, s):
t's venue in s equals its venue in s - 1. A move that changes cells adds the difference of their entries'
terms to the counters, so it costs in proportion to the entries of the cells it changed, not to the size
of the constraints. An FA2 pair's count is the largest difference of the two teams' home games over the
listed slots; it is recounted when either team's venues change. SE1 units are recounted whole when a row
they read changes.

The walk's cost is the SOFT penalty plus `weight` x the HARD deviation; only timetables with no HARD
deviation are kept as the best. A phased league (the first n - 1 slots a single round robin) stays phased:
rounds are only swapped within a half, and a partial swap of teams that would break the phase is undone
and refused.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import NamedTuple

import numpy as np
from numba import njit

from app.problems.round_robin.ttsa import apply_move, random_move

JIT = {"cache": True, "nogil": True}
CA1, CA2, CA3, CA4, GA1, BR1, BR2, FA2, SE1 = range(9)
CLASS_CODES = {"CA1": CA1, "CA2": CA2, "CA3": CA3, "CA4": CA4, "GA1": GA1, "BR1": BR1, "BR2": BR2, "FA2": FA2,
               "SE1": SE1}  # fmt: skip
MODES = {"H": 0, "A": 1, "HA": 2}
NO_MAX = 1 << 30


class Units(NamedTuple):
    """The input's constraints as arrays (see the module doc). Cells are numbered t * slots + s."""

    cls: np.ndarray  # int [U]: the class code
    hard: np.ndarray  # int [U]: 1 HARD, 0 SOFT
    pen: np.ndarray  # int [U]: penalty per unit of deviation (SOFT)
    lo: np.ndarray  # int [U]: SE1's min
    hi: np.ndarray  # int [U]: SE1's max (or NO_MAX)
    mode: np.ndarray  # int [U]: CA1 mode, CA2-4 mode1 (0 H, 1 A, 2 HA)
    in2: np.ndarray  # uint8 [U, n]: teams2 (CA2, CA3, CA4)
    in1: np.ndarray  # uint8 [U, n]: teams1 (CA4)
    tptr: np.ndarray  # int [U + 1]: SE1's teams in tlist[tptr[u]:tptr[u+1]]
    tlist: np.ndarray
    sptr: np.ndarray  # int [U + 1]: FA2's slots (sorted, once each) in slist[sptr[u]:sptr[u+1]]
    slist: np.ndarray
    wptr: np.ndarray  # int [n + 1]: the SE1 units (recounted whole) team t's row feeds, in wlist[wptr[t]:...]
    wlist: np.ndarray
    uc: np.ndarray  # int [U + 1]: unit u's counters are uc[u] .. uc[u+1] - 1
    c_unit: np.ndarray  # int [C]: a counter's unit
    c_lo: np.ndarray  # int [C]
    c_hi: np.ndarray  # int [C]
    c_a: np.ndarray  # int [C]: FA2 pair counters: the pair's two teams (else -1)
    c_b: np.ndarray
    pptr: np.ndarray  # int [n + 1]: the FA2 pair counters team t is in, in plist[pptr[t]:pptr[t+1]]
    plist: np.ndarray
    e_unit: np.ndarray  # int [E]: an entry's unit
    e_c0: np.ndarray  # int [E]: the entry adds its term to counters e_c0 .. e_c0 + e_cn - 1
    e_cn: np.ndarray  # int [E]
    e_arg: np.ndarray  # int [E]: GA1: the meeting's away team; a break entry: its mode (0 H, 1 A, 2 HA)
    cptr: np.ndarray  # int [n * slots + 1]: the entries read from cell x, in clist[cptr[x]:cptr[x+1]]
    clist: np.ndarray
    bptr: np.ndarray  # int [n * slots + 1]: the entries read from break position x, in blist[...]
    blist: np.ndarray


def _csr(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    return ptr, np.array([v for x in lists for v in x], dtype=np.int64)


def units(inp) -> Units:
    """The Units of a round-robin Input (schema.Input). Slots are taken as listed: the checker counts a
    repeated slot twice (except GA1's, where a meeting counts once)."""
    n, slots = inp.n, inp.num_slots
    cols: dict[str, list[int]] = defaultdict(list)
    in1_rows, in2_rows, team_lists, slot_lists = [], [], [], []
    counters: list[tuple[int, int, int, int, int]] = []  # (unit, lo, hi, pair's a, pair's b)
    uc = [0]
    entries: list[tuple[int, int, int, int]] = []  # (unit, c0, cn, arg)
    cells: list[list[int]] = [[] for _ in range(n * slots)]
    breaks: list[list[int]] = [[] for _ in range(n * slots)]
    se1_feeds: list[list[int]] = [[] for _ in range(n)]
    pairs: list[list[int]] = [[] for _ in range(n)]

    def unit(code: int, con, mode: int = 0, teams1=(), teams2=(), lo: int = 0, hi: int = 0,
             se1_teams=(), fa2_slots=()) -> int:  # fmt: skip
        u = len(cols["cls"])
        for key, value in (("cls", code), ("hard", int(con.type == "HARD")),
                           ("pen", con.penalty if con.type == "SOFT" else 0), ("lo", lo), ("hi", hi),
                           ("mode", mode)):  # fmt: skip
            cols[key].append(value)
        in1, in2 = np.zeros(n, np.uint8), np.zeros(n, np.uint8)
        in1[list(teams1)], in2[list(teams2)] = 1, 1
        in1_rows.append(in1)
        in2_rows.append(in2)
        team_lists.append(list(se1_teams))
        slot_lists.append(list(fa2_slots))
        for t in dict.fromkeys(se1_teams):
            se1_feeds[t].append(u)
        return u

    def counter(u: int, lo: int, hi: int, a: int = -1, b: int = -1) -> int:
        counters.append((u, lo, hi, a, b))
        return len(counters) - 1

    def entry(u: int, c0: int, cn: int, arg: int = 0) -> int:
        entries.append((u, c0, cn, arg))
        return len(entries) - 1

    for con in inp.constraints:
        code = CLASS_CODES[con.constraint]
        lo, hi = getattr(con, "min", 0) or 0, getattr(con, "max", 0)
        if code == CA1:
            for t in con.teams:
                u = unit(code, con, MODES[con.mode])
                e = entry(u, counter(u, lo, hi), 1)
                for s in con.slots:
                    cells[t * slots + s].append(e)
                uc.append(len(counters))
        elif code == CA2:
            for t in con.teams1:
                u = unit(code, con, MODES[con.mode1], teams2=con.teams2)
                e = entry(u, counter(u, lo, hi), 1)
                for s in con.slots:
                    cells[t * slots + s].append(e)
                uc.append(len(counters))
        elif code == CA3:  # a counter per window of intp slots: window k holds slots k .. k + intp - 1
            windows = slots - con.intp + 1
            for t in con.teams1:
                u = unit(code, con, MODES[con.mode1], teams2=con.teams2)
                base = len(counters)
                for _ in range(max(0, windows)):
                    counter(u, lo, hi)
                for s in range(slots):
                    first, last = max(0, s - con.intp + 1), min(s, windows - 1)
                    if first <= last:
                        cells[t * slots + s].append(entry(u, base + first, last - first + 1))
                uc.append(len(counters))
        elif code == CA4:
            teams1 = list(dict.fromkeys(con.teams1))
            u = unit(code, con, MODES[con.mode1], teams1=teams1, teams2=con.teams2)
            every = con.mode2 == "EVERY"
            c = None if every else counter(u, lo, hi)
            for s in con.slots:
                e = entry(u, counter(u, lo, hi) if every else c, 1)
                for t in teams1:
                    cells[t * slots + s].append(e)
            uc.append(len(counters))
        elif code == GA1:  # a meeting counts once if played in any of the slots
            u = unit(code, con)
            c = counter(u, lo, hi)
            for h, a in con.meetings:
                e = entry(u, c, 1, a)
                for s in dict.fromkeys(con.slots):
                    cells[h * slots + s].append(e)
            uc.append(len(counters))
        elif code in (BR1, BR2):  # a break in slot 0 cannot be
            teams, mode = (con.teams, MODES[con.mode2]) if code == BR1 else (con.teams, 2)
            for group in [[t] for t in teams] if code == BR1 else [teams]:
                u = unit(code, con)
                e = entry(u, counter(u, 0, con.intp), 1, mode)
                for t in group:
                    for s in con.slots:
                        if s > 0:
                            breaks[t * slots + s].append(e)
                uc.append(len(counters))
        elif code == FA2:  # the worst slot of each pair: the slots' order and repeats do not matter
            u = unit(code, con, fa2_slots=sorted(set(con.slots)))
            for i, a in enumerate(con.teams):
                for b in con.teams[i + 1 :]:
                    z = counter(u, 0, con.intp, a, b)
                    pairs[a].append(z)
                    pairs[b].append(z)
            uc.append(len(counters))
        else:  # SE1
            unit(code, con, lo=lo, hi=NO_MAX if con.max is None else con.max, se1_teams=con.teams)
            uc.append(len(counters))

    def column(key: str) -> np.ndarray:
        return np.array(cols[key], dtype=np.int64)

    def field(rows: list, k: int) -> np.ndarray:
        return np.array([r[k] for r in rows], dtype=np.int64)

    count = len(cols["cls"])
    tptr, tlist = _csr(team_lists)
    sptr, slist = _csr(slot_lists)
    wptr, wlist = _csr(se1_feeds)
    cptr, clist = _csr(cells)
    bptr, blist = _csr(breaks)
    pptr, plist = _csr(pairs)
    return Units(
        column("cls"), column("hard"), column("pen"), column("lo"), column("hi"), column("mode"),
        np.array(in2_rows, np.uint8).reshape(count, n), np.array(in1_rows, np.uint8).reshape(count, n),
        tptr, tlist, sptr, slist, wptr, wlist, np.array(uc, np.int64),
        field(counters, 0), field(counters, 1), field(counters, 2), field(counters, 3), field(counters, 4),
        pptr, plist,
        field(entries, 0), field(entries, 1), field(entries, 2), field(entries, 3), cptr, clist, bptr, blist,
    )  # fmt: skip


def fresh(U: Units) -> tuple[np.ndarray, np.ndarray]:
    """Zeroed (dev, count) arrays for recount: a deviation per unit, a count per counter."""
    return np.zeros(len(U.cls), np.int64), np.zeros(len(U.c_unit), np.int64)


@njit(**JIT)
def seed(value: int) -> None:
    """Seed the random stream of the compiled walk (numba's own, per thread)."""
    np.random.seed(value)


@njit(**JIT)
def _excess(count: int, lo: int, hi: int) -> int:
    return max(0, lo - count) + max(0, count - hi)


@njit(**JIT)
def _term(c: int, mode: int, g: int, arg: int, hit2: int, both: int) -> int:
    """The 0/1 term an entry of a unit of class c reads from a cell holding game g, where hit2 = g's
    opponent is in teams2, both = g's opponent is in teams1 and the cell's team in teams2. (Scalars only:
    numba counts references of array arguments, which would cost more than the term.)"""
    if c == GA1:
        return 1 if g == arg + 1 else 0
    if c == CA1:
        return 1 if (g > 0) == (mode == 0) else 0
    if hit2 == 0:  # CA2, CA3, CA4: against a team of teams2 only
        return 0
    if c != CA4 or mode != 2:  # at the venue mode asks, seen from the cell's team
        return 1 if mode == 2 or (mode == 0) == (g > 0) else 0
    # CA4 "HA": a game between two teams each in both groups is counted once, from its home side
    return 1 if g > 0 or both == 0 else 0


@njit(inline="always", **JIT)
def _is_break(S, t: int, s: int, mode: int) -> int:
    if s == 0 or (S[t, s] > 0) != (S[t, s - 1] > 0):
        return 0
    return 1 if mode == 2 or (mode == 0) == (S[t, s] > 0) else 0


@njit(**JIT)
def _pair_gap(S, a: int, b: int, slist, x0: int, x1: int) -> int:
    """The largest difference between the home games of teams a and b up to each slot of slist[x0:x1]
    (sorted): an FA2 pair's count."""
    worst, ca, cb, x = 0, 0, 0, x0
    for s in range(S.shape[1]):
        if x == x1:
            break
        ca += S[a, s] > 0
        cb += S[b, s] > 0
        if slist[x] == s:
            x += 1
            worst = max(worst, abs(ca - cb))
    return worst


@njit(**JIT)
def _se1_dev(S, tlist, y0: int, y1: int, lo: int, hi: int, scratch) -> int:
    """The deviation of an SE1 unit over the teams tlist[y0:y1], as check.py counts it: the two meetings of
    each pair, from the first team's row. `scratch`: int array >= 2 * n."""
    dev = 0
    for i in range(y0, y1):
        ti = tlist[i]
        for s in range(S.shape[1]):
            g = S[ti, s]
            o = (g if g > 0 else -g) - 1
            scratch[2 * o + (0 if g > 0 else 1)] = s
        for j in range(i + 1, y1):
            tj = tlist[j]
            between = abs(scratch[2 * tj] - scratch[2 * tj + 1]) - 1
            dev += max(0, lo - between) + max(0, between - hi)
    return dev


@njit(**JIT)
def recount(U: Units, S, dev, count) -> tuple[int, int]:
    """Fill count[c] for every counter and dev[u] for every unit; (total HARD deviation, total SOFT
    penalty)."""
    n, slots = S.shape
    cls, mode, in1, in2, e_unit, e_arg = U.cls, U.mode, U.in1, U.in2, U.e_unit, U.e_arg
    count[:] = 0
    for x in range(n * slots):
        t, s = x // slots, x % slots
        for y in range(U.cptr[x], U.cptr[x + 1]):
            e = U.clist[y]
            u, o = e_unit[e], abs(S[t, s]) - 1
            if _term(cls[u], mode[u], S[t, s], e_arg[e], in2[u, o], in1[u, o] & in2[u, t]):
                for c in range(U.e_c0[e], U.e_c0[e] + U.e_cn[e]):
                    count[c] += 1
        for y in range(U.bptr[x], U.bptr[x + 1]):
            e = U.blist[y]
            if _is_break(S, t, s, U.e_arg[e]):
                count[U.e_c0[e]] += 1
    for z in range(U.c_unit.shape[0]):
        if U.c_a[z] >= 0:
            u = U.c_unit[z]
            count[z] = _pair_gap(S, U.c_a[z], U.c_b[z], U.slist, U.sptr[u], U.sptr[u + 1])
    scratch = np.empty(2 * n + 2, np.int64)
    hard, soft = 0, 0
    for u in range(U.cls.shape[0]):
        if U.cls[u] == SE1:
            dev[u] = _se1_dev(S, U.tlist, U.tptr[u], U.tptr[u + 1], U.lo[u], U.hi[u], scratch)
        else:
            dev[u] = 0
            for c in range(U.uc[u], U.uc[u + 1]):
                dev[u] += _excess(count[c], U.c_lo[c], U.c_hi[c])
        if U.hard[u]:
            hard += dev[u]
        else:
            soft += U.pen[u] * dev[u]
    return hard, soft


@njit(**JIT)
def _phased_row(S, t: int, half: int, seen) -> bool:
    seen[:] = 0
    for s in range(half):
        g = S[t, s]
        o = (g if g > 0 else -g) - 1
        if seen[o]:
            return False
        seen[o] = 1
    return True


@njit(**JIT)
def walk(U: Units, S, dev, count, phased: bool, moves: int, temperature: float, weight: float, best_S,
         best: int):  # fmt: skip
    """`moves` Metropolis steps at one temperature and HARD weight, from S (changed in place, with dev and
    count). A timetable with no HARD deviation and a SOFT penalty below `best` is copied into best_S.
    Returns (the steps that ended with no HARD deviation, the best penalty, HARD now, SOFT now).

    A move adds to the counters the change of the terms its changed cells (and the break positions next to
    them) feed, recounts the FA2 pairs of a team whose venues changed, and the SE1 units fed by a row it
    changed."""
    n, slots = S.shape
    changed, flags, seen = np.empty(n, np.int64), np.empty(2 * n + 1, np.int64), np.empty(n, np.int64)
    scratch = np.empty(2 * n + 2, np.int64)
    n_units, n_counters = U.cls.shape[0], U.c_unit.shape[0]
    c_stamp, c_touched = np.zeros(n_counters, np.int64), np.empty(n_counters, np.int64)
    c_old = np.empty(n_counters, np.int64)
    u_stamp, u_touched, u_old = np.zeros(n_units, np.int64), np.empty(n_units, np.int64), np.empty(n_units, np.int64)
    b_stamp = np.zeros(n * slots, np.int64)
    before = S.copy()  # S as it was before the move (equal to S between moves)
    # the arrays the loop reads, as locals (reading a field of U in the loop costs a reference count)
    cls, mode, in1, in2, e_unit, e_arg, e_c0, e_cn = U.cls, U.mode, U.in1, U.in2, U.e_unit, U.e_arg, U.e_c0, U.e_cn
    cptr, clist, bptr, blist, wptr, wlist = U.cptr, U.clist, U.bptr, U.blist, U.wptr, U.wlist
    c_unit, c_lo, c_hi, is_hard, pen = U.c_unit, U.c_lo, U.c_hi, U.hard, U.pen
    c_a, c_b, pptr, plist, sptr, slist = U.c_a, U.c_b, U.pptr, U.plist, U.sptr, U.slist
    tptr, tlist, lo, hi = U.tptr, U.tlist, U.lo, U.hi
    hard, soft = 0, 0
    for u in range(n_units):
        if is_hard[u]:
            hard += dev[u]
        else:
            soft += pen[u] * dev[u]
    current = soft + weight * hard
    feasible = 0
    for step in range(1, moves + 1):
        kind, a, b, c = random_move(n, slots, phased)
        k = apply_move(S, kind, a, b, c, changed, flags)
        if k == 0:
            continue
        if phased and kind == 4 and not (_phased_row(S, a, slots // 2, seen) and _phased_row(S, b, slots // 2, seen)):
            apply_move(S, kind, a, b, c, changed, flags)
            continue
        m = 0  # counters touched
        for x in range(k):
            t = changed[x]
            venue = False  # t's venue changed in some slot
            for s in range(slots):
                if S[t, s] == before[t, s]:
                    continue
                venue |= (S[t, s] > 0) != (before[t, s] > 0)
                cell = t * slots + s
                for y in range(cptr[cell], cptr[cell + 1]):
                    e = clist[y]
                    u, g, g0 = e_unit[e], S[t, s], before[t, s]
                    o, o0 = abs(g) - 1, abs(g0) - 1
                    d = _term(cls[u], mode[u], g, e_arg[e], in2[u, o], in1[u, o] & in2[u, t]) - _term(
                        cls[u], mode[u], g0, e_arg[e], in2[u, o0], in1[u, o0] & in2[u, t]
                    )
                    if d == 0:
                        continue
                    for z in range(e_c0[e], e_c0[e] + e_cn[e]):
                        if c_stamp[z] != step:
                            c_stamp[z], c_touched[m], c_old[m] = step, z, count[z]
                            m += 1
                        count[z] += d
                for p in range(cell, cell + 2 if s + 1 < slots else cell + 1):  # breaks in s and s + 1
                    if b_stamp[p] == step:
                        continue
                    b_stamp[p] = step
                    for y in range(bptr[p], bptr[p + 1]):
                        e = blist[y]
                        d = _is_break(S, t, p - t * slots, e_arg[e]) - _is_break(before, t, p - t * slots, e_arg[e])
                        if d == 0:
                            continue
                        z = e_c0[e]
                        if c_stamp[z] != step:
                            c_stamp[z], c_touched[m], c_old[m] = step, z, count[z]
                            m += 1
                        count[z] += d
            if venue:
                for y in range(pptr[t], pptr[t + 1]):
                    z = plist[y]
                    if c_stamp[z] != step:
                        c_stamp[z], c_touched[m], c_old[m] = step, z, count[z]
                        m += 1
                        u = c_unit[z]
                        count[z] = _pair_gap(S, c_a[z], c_b[z], slist, sptr[u], sptr[u + 1])
        new_hard, new_soft = hard, soft
        for x in range(m):
            z = c_touched[x]
            d = _excess(count[z], c_lo[z], c_hi[z]) - _excess(c_old[x], c_lo[z], c_hi[z])
            if d != 0:
                u = c_unit[z]
                dev[u] += d
                if is_hard[u]:
                    new_hard += d
                else:
                    new_soft += pen[u] * d
        w = 0  # SE1 units recounted
        for x in range(k):
            t = changed[x]
            for y in range(wptr[t], wptr[t + 1]):
                u = wlist[y]
                if u_stamp[u] == step:
                    continue
                u_stamp[u], u_touched[w], u_old[w] = step, u, dev[u]
                w += 1
                dev[u] = _se1_dev(S, tlist, tptr[u], tptr[u + 1], lo[u], hi[u], scratch)
                if is_hard[u]:
                    new_hard += dev[u] - u_old[w - 1]
                else:
                    new_soft += pen[u] * (dev[u] - u_old[w - 1])
        value = new_soft + weight * new_hard
        delta = value - current
        if delta <= 0 or np.random.random() < math.exp(-delta / temperature):
            current, hard, soft = value, new_hard, new_soft
            for x in range(k):
                t = changed[x]
                before[t, :] = S[t, :]
            if hard == 0 and soft < best:
                best = soft
                best_S[:, :] = S
        else:
            for x in range(m):
                z = c_touched[x]
                dev[c_unit[z]] -= _excess(count[z], c_lo[z], c_hi[z]) - _excess(c_old[x], c_lo[z], c_hi[z])
                count[z] = c_old[x]
            for x in range(w):
                dev[u_touched[x]] = u_old[x]
            apply_move(S, kind, a, b, c, changed, flags)
        if hard == 0:
            feasible += 1
    return feasible, best, hard, soft


def warm() -> None:
    """Compile (or load from the disk cache) every function above, on a 4-team league with one unit of
    each class."""
    from app.problems.round_robin.schema import validate

    teams, every = ["a", "b", "c", "d"], [0, 1, 2, 3]
    cons = [
        {"constraint": "CA1", "type": "HARD", "teams": [0], "slots": [0, 1], "mode": "H", "max": 1},
        {"constraint": "CA2", "type": "SOFT", "teams1": [0], "teams2": [1, 2], "slots": [0, 1], "mode1": "HA",
         "max": 1},
        {"constraint": "CA3", "type": "SOFT", "teams1": [1], "teams2": every, "intp": 3, "mode1": "H", "max": 2},
        {"constraint": "CA4", "type": "HARD", "teams1": [0, 1], "teams2": every, "slots": [2], "mode1": "HA",
         "mode2": "GLOBAL", "max": 1},
        {"constraint": "GA1", "type": "SOFT", "meetings": [[0, 1]], "slots": [0], "min": 1, "max": 1},
        {"constraint": "BR1", "type": "SOFT", "teams": [2], "slots": [1, 2, 3], "intp": 0},
        {"constraint": "BR2", "type": "SOFT", "teams": every, "slots": [1, 2, 3, 4, 5], "intp": 2},
        {"constraint": "FA2", "type": "SOFT", "teams": every, "slots": [2, 4], "intp": 1},
        {"constraint": "SE1", "type": "SOFT", "teams": every, "min": 1},
    ]  # fmt: skip
    U = units(validate({"teams": teams, "constraints": cons}))
    S = np.array([[2, 3, -4, -2, -3, 4], [-1, 4, 3, 1, -4, -3], [4, -1, -2, -4, 1, 2], [-3, -2, 1, 3, 2, -1]])
    dev, count = fresh(U)
    seed(0)
    recount(U, S, dev, count)
    walk(U, S, dev, count, False, 10, 1.0, 1.0, S.copy(), 1 << 62)
