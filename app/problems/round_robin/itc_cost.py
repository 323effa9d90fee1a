"""The compiled core of the ITC2021 annealer (itc_anneal.py): every constraint's deviation, counted as the
checker (check.py) counts it, kept along a Metropolis walk over TTSA's five moves (ttsa.apply_move).

A timetable is the n x (2n - 2) array of ttsa.py: S[t, s] = o + 1 if t hosts o in slot s, -(o + 1) if t
plays at o. The input's constraints become *units* (`Units`): a constraint that the checker sums over its
teams (CA1, CA2, CA3, BR1) gives one unit per team, counted from that team's row alone; every other one
(CA4, GA1, BR2, FA2, SE1) is one unit. Each team lists the units its row feeds, so a move recounts only the
units of the rows it changed. The walk's cost is the SOFT penalty plus `weight` x the HARD deviation; only
timetables with no HARD deviation are kept as the best.

A phased league (the first n - 1 slots a single round robin) stays phased: rounds are only swapped within
a half, and a partial swap of teams that would break the phase is undone and refused.
"""

from __future__ import annotations

import math
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
WORD = 63  # slots per bit word (2 words: up to 126 slots, more than schema.MAX_TEAMS allows)


class Units(NamedTuple):
    """The input's constraints as arrays, one row per unit (see the module doc)."""

    cls: np.ndarray  # int [U]: the class code
    hard: np.ndarray  # int [U]: 1 HARD, 0 SOFT
    pen: np.ndarray  # int [U]: penalty per unit of deviation (SOFT)
    lo: np.ndarray  # int [U]: min
    hi: np.ndarray  # int [U]: max (BR1, BR2, FA2: intp; SE1: max or NO_MAX)
    intp: np.ndarray  # int [U]: CA3's window
    mode: np.ndarray  # int [U]: CA1 mode, CA2-4 mode1, BR1 mode2 (0 H, 1 A, 2 HA)
    every: np.ndarray  # int [U]: CA4 mode2 EVERY
    team: np.ndarray  # int [U]: the team of a per-team unit, else -1
    in2: np.ndarray  # uint8 [U, n]: teams2 (CA2, CA3, CA4)
    in1: np.ndarray  # uint8 [U, n]: teams1 (CA4)
    tptr: np.ndarray  # int [U + 1]: the unit's teams (CA4 teams1, BR2, FA2, SE1) in tlist[tptr[u]:tptr[u+1]]
    tlist: np.ndarray
    sptr: np.ndarray  # int [U + 1]: the unit's slots (FA2: sorted) in slist[sptr[u]:sptr[u+1]]
    slist: np.ndarray
    mptr: np.ndarray  # int [U + 1]: GA1's meetings in meets[mptr[u]:mptr[u+1]]
    meets: np.ndarray  # int [M, 2]: (home, away)
    iptr: np.ndarray  # int [n + 1]: the units team t's row feeds, in ilist[iptr[t]:iptr[t+1]]
    ilist: np.ndarray
    bits: np.ndarray  # int [U, 2]: the slots whose games the unit depends on, as bits (slot s: word s // 63)


def units(inp) -> Units:
    """The Units of a round-robin Input (schema.Input)."""
    n, slots = inp.n, inp.num_slots
    rows: list[dict] = []
    for con in inp.constraints:
        code = CLASS_CODES[con.constraint]
        base = {
            "cls": code, "hard": int(con.type == "HARD"), "pen": con.penalty if con.type == "SOFT" else 0,
            "lo": getattr(con, "min", 0) or 0, "hi": getattr(con, "max", 0), "intp": getattr(con, "intp", 0),
            "mode": 0, "every": 0, "team": -1, "teams1": [], "teams2": [], "slots": list(getattr(con, "slots", [])),
            "meets": [], "feeds": [],
        }  # fmt: skip
        if code == CA1:
            base["mode"] = MODES[con.mode]
            rows += [base | {"team": t, "feeds": [t]} for t in con.teams]
        elif code in (CA2, CA3):
            base |= {"mode": MODES[con.mode1], "teams2": con.teams2}
            rows += [base | {"team": t, "feeds": [t]} for t in con.teams1]
        elif code == BR1:
            base |= {"mode": MODES[con.mode2], "hi": con.intp}
            rows += [base | {"team": t, "feeds": [t]} for t in con.teams]
        elif code == CA4:
            t1 = list(dict.fromkeys(con.teams1))
            base |= {"mode": MODES[con.mode1], "every": int(con.mode2 == "EVERY"), "teams1": t1,
                     "teams2": con.teams2, "feeds": t1}  # fmt: skip
            rows.append(base)
        elif code == GA1:
            meets = [(h, a) for h, a in con.meetings]
            rows.append(base | {"meets": meets, "feeds": list(dict.fromkeys(h for h, _ in meets))})
        elif code == BR2:
            rows.append(base | {"hi": con.intp, "teams1": con.teams, "feeds": con.teams})
        elif code == FA2:  # the worst slot of each pair: the slots' order and repeats do not matter
            rows.append(
                base | {"hi": con.intp, "teams1": con.teams, "feeds": con.teams, "slots": sorted(set(con.slots))}
            )
        else:  # SE1
            hi = NO_MAX if con.max is None else con.max
            rows.append(base | {"hi": hi, "teams1": con.teams, "feeds": con.teams, "slots": []})
    count = len(rows)

    def column(key: str) -> np.ndarray:
        return np.array([r[key] for r in rows], dtype=np.int64)

    def csr(lists: list[list]) -> tuple[np.ndarray, np.ndarray]:
        ptr = np.zeros(len(lists) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(x) for x in lists])
        flat = [v for x in lists for v in x]
        return ptr, np.array(flat, dtype=np.int64)

    in1, in2 = np.zeros((count, n), np.uint8), np.zeros((count, n), np.uint8)
    for u, r in enumerate(rows):
        in1[u, r["teams1"]] = 1
        in2[u, r["teams2"]] = 1
    tptr, tlist = csr([r["teams1"] for r in rows])
    sptr, slist = csr([r["slots"] for r in rows])  # as given: the checker counts a repeated slot twice
    mptr, flat = csr([[v for m in r["meets"] for v in m] for r in rows])
    mptr //= 2
    feeds: list[list[int]] = [[] for _ in range(n)]
    for u, r in enumerate(rows):
        for t in r["feeds"]:
            feeds[t].append(u)
    iptr, ilist = csr(feeds)
    bits = np.zeros((count, 2), np.int64)
    for u, r in enumerate(rows):
        if r["cls"] in (CA3, FA2, SE1):
            needs = set(range(slots))
        elif r["cls"] in (BR1, BR2):  # a break in slot s depends on slot s - 1 too
            needs = {x for s in r["slots"] for x in (s - 1, s) if x >= 0}
        else:
            needs = set(r["slots"])
        for s in needs:
            bits[u, s // WORD] |= 1 << (s % WORD)
    return Units(column("cls"), column("hard"), column("pen"), column("lo"), column("hi"), column("intp"),
                 column("mode"), column("every"), column("team"), in2, in1, tptr, tlist, sptr, slist, mptr,
                 flat.reshape(-1, 2), iptr, ilist, bits)  # fmt: skip


@njit(**JIT)
def seed(value: int) -> None:
    """Seed the random stream of the compiled walk (numba's own, per thread)."""
    np.random.seed(value)


@njit(**JIT)
def _excess(count: int, lo: int, hi: int) -> int:
    return max(0, lo - count) + max(0, count - hi)


@njit(**JIT)
def _hit(g: int, in2, u: int, mode: int) -> bool:
    """A game g (from a team's row) is against a team of teams2, at the venue `mode` asks (from that side)."""
    o = (g if g > 0 else -g) - 1
    if in2[u, o] == 0:
        return False
    return mode == 2 or (mode == 0) == (g > 0)


@njit(**JIT)
def _is_break(S, t: int, s: int, mode: int) -> bool:
    if s == 0 or (S[t, s] > 0) != (S[t, s - 1] > 0):
        return False
    return mode == 2 or (mode == 0) == (S[t, s] > 0)


@njit(inline="always", **JIT)
def unit_dev(U: Units, S, u: int, scratch) -> int:
    """The deviation of unit u in timetable S, as check.py counts it. `scratch`: int array >= 2 * slots."""
    c, slots = U.cls[u], S.shape[1]
    lo, hi, mode = U.lo[u], U.hi[u], U.mode[u]
    s0, s1 = U.sptr[u], U.sptr[u + 1]
    if c == CA1:
        t, count = U.team[u], 0
        for x in range(s0, s1):
            if (S[t, U.slist[x]] > 0) == (mode == 0):
                count += 1
        return _excess(count, lo, hi)
    if c == CA2:
        t, count = U.team[u], 0
        for x in range(s0, s1):
            if _hit(S[t, U.slist[x]], U.in2, u, mode):
                count += 1
        return _excess(count, lo, hi)
    if c == CA3:
        t, width, dev = U.team[u], U.intp[u], 0
        for s in range(slots):
            scratch[s] = 1 if _hit(S[t, s], U.in2, u, mode) else 0
        window = 0
        for s in range(slots):
            window += scratch[s]
            if s >= width:
                window -= scratch[s - width]
            if s >= width - 1:
                dev += _excess(window, lo, hi)
        return dev
    if c == BR1:
        t, count = U.team[u], 0
        for x in range(s0, s1):
            if _is_break(S, t, U.slist[x], mode):
                count += 1
        return max(0, count - hi)
    if c == CA4:
        total, dev = 0, 0
        for x in range(s0, s1):
            s, here = U.slist[x], 0
            for y in range(U.tptr[u], U.tptr[u + 1]):
                t = U.tlist[y]
                g = S[t, s]
                o = (g if g > 0 else -g) - 1
                if U.in2[u, o] == 0:
                    continue
                if g > 0:  # t hosts o: home side
                    if mode != 1:
                        here += 1
                elif mode == 1:
                    here += 1
                elif mode == 2 and not (U.in1[u, o] == 1 and U.in2[u, t] == 1):  # else counted from o's side
                    here += 1
            if U.every[u]:
                dev += _excess(here, lo, hi)
            total += here
        return dev if U.every[u] else _excess(total, lo, hi)
    if c == GA1:
        count = 0
        for y in range(U.mptr[u], U.mptr[u + 1]):
            h, a = U.meets[y, 0], U.meets[y, 1]
            for x in range(s0, s1):
                if S[h, U.slist[x]] == a + 1:
                    count += 1
                    break
        return _excess(count, lo, hi)
    if c == BR2:
        count = 0
        for y in range(U.tptr[u], U.tptr[u + 1]):
            t = U.tlist[y]
            for x in range(s0, s1):
                if _is_break(S, t, U.slist[x], 2):
                    count += 1
        return max(0, count - hi)
    if c == FA2:
        k = U.tptr[u + 1] - U.tptr[u]
        dev = 0
        for i in range(k):
            ti = U.tlist[U.tptr[u] + i]
            for j in range(i + 1, k):
                tj = U.tlist[U.tptr[u] + j]
                worst, ci, cj, x = 0, 0, 0, s0
                for s in range(slots):
                    ci += S[ti, s] > 0
                    cj += S[tj, s] > 0
                    if x < s1 and U.slist[x] == s:
                        x += 1
                        over = abs(ci - cj) - hi
                        if over > worst:
                            worst = over
                dev += worst
        return dev
    # SE1: the two meetings of each pair, from the first team's row
    k = U.tptr[u + 1] - U.tptr[u]
    dev = 0
    for i in range(k):
        ti = U.tlist[U.tptr[u] + i]
        for s in range(slots):
            g = S[ti, s]
            o = (g if g > 0 else -g) - 1
            scratch[2 * o + (0 if g > 0 else 1)] = s
        for j in range(i + 1, k):
            tj = U.tlist[U.tptr[u] + j]
            between = abs(scratch[2 * tj] - scratch[2 * tj + 1]) - 1
            dev += max(0, lo - between) + max(0, between - hi)
    return dev


@njit(**JIT)
def recount(U: Units, S, dev) -> tuple[int, int]:
    """Fill dev[u] for every unit; (total HARD deviation, total SOFT penalty)."""
    scratch = np.empty(max(2 * S.shape[0], S.shape[1]) + 2, np.int64)
    hard, soft = 0, 0
    for u in range(U.cls.shape[0]):
        dev[u] = unit_dev(U, S, u, scratch)
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
def _row_bits(S, before, t: int, out) -> None:
    """out[:] = the slots where row t of S differs from `before`, as bits."""
    out[0], out[1] = 0, 0
    for s in range(S.shape[1]):
        if S[t, s] != before[t, s]:
            out[s // WORD] |= 1 << (s % WORD)


@njit(**JIT)
def walk(U: Units, S, dev, phased: bool, moves: int, temperature: float, weight: float, best_S, best: int):
    """`moves` Metropolis steps at one temperature and HARD weight, from S (changed in place, with dev).
    A timetable with no HARD deviation and a SOFT penalty below `best` is copied into best_S.
    Returns (the steps that ended with no HARD deviation, the best penalty, HARD now, SOFT now).

    A move recounts a unit only if a row it is fed by changed in a slot it depends on (`Units.bits`)."""
    n, slots = S.shape
    changed, flags, seen = np.empty(n, np.int64), np.empty(2 * n + 1, np.int64), np.empty(n, np.int64)
    scratch = np.empty(max(2 * n, slots) + 2, np.int64)
    count = U.cls.shape[0]
    stamp = np.zeros(count, np.int64)
    touched, old = np.empty(count, np.int64), np.empty(count, np.int64)
    before = S.copy()
    row_bits, any_bits = np.zeros((n, 2), np.int64), np.zeros(2, np.int64)
    hard, soft = 0, 0
    for u in range(count):
        if U.hard[u]:
            hard += dev[u]
        else:
            soft += U.pen[u] * dev[u]
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
        any_bits[0], any_bits[1] = 0, 0
        for x in range(k):
            t = changed[x]
            _row_bits(S, before, t, row_bits[t])
            any_bits[0] |= row_bits[t, 0]
            any_bits[1] |= row_bits[t, 1]
        m, new_hard, new_soft = 0, hard, soft
        for x in range(k):
            t = changed[x]
            for y in range(U.iptr[t], U.iptr[t + 1]):
                u = U.ilist[y]
                if stamp[u] == step:
                    continue
                stamp[u] = step
                if U.team[u] >= 0:
                    hit = (U.bits[u, 0] & row_bits[t, 0]) | (U.bits[u, 1] & row_bits[t, 1])
                else:
                    hit = (U.bits[u, 0] & any_bits[0]) | (U.bits[u, 1] & any_bits[1])
                if hit == 0:
                    continue
                touched[m], old[m] = u, dev[u]
                m += 1
                d = unit_dev(U, S, u, scratch)
                dev[u] = d
                if U.hard[u]:
                    new_hard += d - old[m - 1]
                else:
                    new_soft += U.pen[u] * (d - old[m - 1])
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
                dev[touched[x]] = old[x]
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
    dev = np.zeros(U.cls.shape[0], np.int64)
    seed(0)
    recount(U, S, dev)
    walk(U, S, dev, False, 10, 1.0, 1.0, S.copy(), 1 << 62)
