"""The compiled core of the traveling-tournament annealer (travel.py): TTSA's five moves, each team's
travel and rule breaks, and the Metropolis walk, as numba functions over integer arrays.

A timetable is an n x (2n - 2) array S: S[t, s] = o + 1 if t hosts o in slot s, -(o + 1) if t plays at o.
`rule` is [max_home, max_away, min_gap]. Every move keeps a compact double round robin, and applied
twice with the same arguments gives back the timetable it started from, so a refused move costs no copy.

Compiled, one chain makes about a million moves a second on 8 teams, some 50 times the same walk in
plain Python, which is what long cooling schedules need. The functions are cached on disk (`cache=True`),
so only the first run on a machine pays the compilation (a few seconds). They release the GIL.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

JIT = {"cache": True, "nogil": True}
KINDS = 5  # swap homes, swap rounds, swap teams, partial swap rounds, partial swap teams


@njit(**JIT)
def seed(value: int) -> None:
    """Seed the random stream of the compiled moves (numba's own, per thread)."""
    np.random.seed(value)


@njit(**JIT)
def team_cost(S, dist, rule, t: int, seen) -> tuple[int, int]:
    """(travel, breaks) of team t: its tour from home and back, and its rule breaks, counted as the checker
    counts them (each game past a run limit, each missing slot between a pair's two meetings)."""
    slots = S.shape[1]
    here, km, breaks, run, run_home = t, 0, 0, 0, -1
    for s in range(slots):
        g = S[t, s]
        home = 1 if g > 0 else 0
        there = t if home else -g - 1
        km += dist[here, there]
        here = there
        if home == run_home:
            run += 1
            if run > (rule[0] if home else rule[1]):
                breaks += 1
        else:
            run, run_home = 1, home
    km += dist[here, t]
    if rule[2] > 0:
        seen[:] = -1
        for s in range(slots):
            g = S[t, s]
            o = (g if g > 0 else -g) - 1
            if seen[o] >= 0:
                short = rule[2] - (s - seen[o] - 1)
                if short > 0:
                    breaks += short
            else:
                seen[o] = s
    return km, breaks


@njit(**JIT)
def recount(S, dist, rule, travel, breaks) -> None:
    """Fill travel[t] and breaks[t] for every team."""
    seen = np.empty(S.shape[0], np.int64)
    for t in range(S.shape[0]):
        travel[t], breaks[t] = team_cost(S, dist, rule, t, seen)


@njit(**JIT)
def _swap_games(S, i: int, j: int, s: int) -> None:
    """Teams i and j trade their games of slot s; their opponents follow."""
    gi, gj = S[i, s], S[j, s]
    S[i, s], S[j, s] = gj, gi
    S[abs(gj) - 1, s] = -(i + 1) if gj > 0 else i + 1
    S[abs(gi) - 1, s] = -(j + 1) if gi > 0 else j + 1


@njit(**JIT)
def apply_move(S, kind: int, a: int, b: int, c: int, changed, flags) -> int:
    """Apply move `kind` with arguments (a, b, c) in place; the teams whose rows changed go to changed[:k],
    and k is returned (0: the move does not apply here and nothing changed). `flags` is scratch, length >= 2n + 1.

    0 swap homes (i=a, j=b): the two games of i and j change venues.
    1 swap rounds (k=a, m=b): slots k and m trade all their games.
    2 swap teams (i=a, j=b): i and j trade schedules, except their own two games.
    3 partial swap rounds (t=a, k=b, m=c): slots k and m trade the games of t and every team linked to t
      through those two slots.
    4 partial swap teams (i=a, j=b, s=c): i and j trade their games of slot s, and of as few other slots as
      it takes to stay a round robin.
    """
    n, slots = S.shape
    if kind == 0:
        for s in range(slots):
            if S[a, s] == b + 1:
                S[a, s], S[b, s] = -(b + 1), a + 1
            elif S[a, s] == -(b + 1):
                S[a, s], S[b, s] = b + 1, -(a + 1)
        changed[0], changed[1] = a, b
        return 2
    if kind == 1:
        for t in range(n):
            S[t, a], S[t, b] = S[t, b], S[t, a]
            changed[t] = t
        return n
    if kind == 2:
        for s in range(slots):
            gi = S[a, s]
            if gi != b + 1 and gi != -(b + 1):
                _swap_games(S, a, b, s)
        for t in range(n):
            changed[t] = t
        return n
    if kind == 3:
        flags[:n] = 0
        flags[a] = 1
        changed[0], k, done = a, 1, 0
        while done < k:
            u = changed[done]
            done += 1
            for s in (b, c):
                o = abs(S[u, s]) - 1
                if flags[o] == 0:
                    flags[o] = 1
                    changed[k] = o
                    k += 1
        for x in range(k):
            u = changed[x]
            S[u, b], S[u, c] = S[u, c], S[u, b]
        return k
    # kind 4: the chain of slots is the smallest set holding slot c in which i's games and j's games are
    # the same opponents at the same venues; it is found before anything changes.
    if abs(S[a, c]) == b + 1:
        return 0
    have = flags  # have[g + n]: 1 if i has game g in the chain, 2 if j has it, 3 both
    have[: 2 * n + 1] = 0
    chain = np.empty(slots, np.int64)
    chain[0], length = c, 1
    have[S[a, c] + n] |= 1
    have[S[b, c] + n] |= 2
    while True:
        missing = 0  # no game is 0
        for g in range(2 * n + 1):
            if have[g] == 2:
                missing = g - n
                break
        if missing == 0:
            break
        nxt = -1
        for s in range(slots):
            if S[a, s] == missing:
                nxt = s
                break
        if nxt == -1:
            return 0
        chain[length] = nxt
        length += 1
        have[S[a, nxt] + n] |= 1
        have[S[b, nxt] + n] |= 2
    have[:n] = 0  # now: which teams changed
    for x in range(length):
        s = chain[x]
        gi, gj = S[a, s], S[b, s]
        _swap_games(S, a, b, s)
        have[abs(gi) - 1] = 1
        have[abs(gj) - 1] = 1
    have[a] = have[b] = 1
    k = 0
    for t in range(n):
        if have[t]:
            changed[k] = t
            k += 1
    return k


@njit(**JIT)
def random_move(n: int, slots: int, phased: bool = False) -> tuple[int, int, int, int]:
    """(kind, a, b, c): one of the five moves with random distinct teams and slots, as TTSA draws them;
    `phased`: the two rounds of a swap are in the same half of the season."""
    i = np.random.randint(n)
    j = np.random.randint(n - 1)
    j += j >= i
    k = np.random.randint(slots)
    if phased:  # both rounds in the same half: a phased league stays phased
        half = slots // 2
        m = (k // half) * half + np.random.randint(half - 1)
    else:
        m = np.random.randint(slots - 1)
    m += m >= k
    kind = np.random.randint(KINDS)
    if kind == 0 or kind == 2:
        return kind, i, j, 0
    if kind == 1:
        return kind, k, m, 0
    if kind == 3:
        return kind, i, k, m
    return kind, i, j, k


@njit(**JIT)
def step(S, dist, rule, travel, breaks, kind: int, a: int, b: int, c: int) -> int:
    """Apply a move and recount the teams it changed; the number of them."""
    n = S.shape[0]
    changed, flags, seen = np.empty(n, np.int64), np.empty(2 * n + 1, np.int64), np.empty(n, np.int64)
    k = apply_move(S, kind, a, b, c, changed, flags)
    for x in range(k):
        t = changed[x]
        travel[t], breaks[t] = team_cost(S, dist, rule, t, seen)
    return k


@njit(**JIT)
def penalised(travel: int, breaks: int, weight: float) -> float:
    """The travel, and for an infeasible timetable TTSA's penalty, which grows slower than its breaks."""
    if breaks == 0:
        return float(travel)
    return travel + weight * (1.0 + math.sqrt(breaks) * math.log(breaks) / 2.0)


@njit(**JIT)
def walk(S, dist, rule, travel, breaks, moves: int, temperature: float, weight: float, best_S, best: int):
    """`moves` Metropolis steps at one temperature and penalty weight, from S (changed in place, with its
    counts). A better feasible timetable than `best` is copied into best_S. Returns (the number of steps
    that ended feasible, the best travel)."""
    n = S.shape[0]
    changed, flags, seen = np.empty(n, np.int64), np.empty(2 * n + 1, np.int64), np.empty(n, np.int64)
    old_travel, old_breaks = np.empty(n, np.int64), np.empty(n, np.int64)
    total_travel, total_breaks = travel.sum(), breaks.sum()
    current = penalised(total_travel, total_breaks, weight)
    feasible = 0
    for _ in range(moves):
        kind, a, b, c = random_move(n, S.shape[1])
        k = apply_move(S, kind, a, b, c, changed, flags)
        new_travel, new_breaks = total_travel, total_breaks
        for x in range(k):
            t = changed[x]
            old_travel[x], old_breaks[x] = travel[t], breaks[t]
            km, br = team_cost(S, dist, rule, t, seen)
            new_travel += km - travel[t]
            new_breaks += br - breaks[t]
            travel[t], breaks[t] = km, br
        value = penalised(new_travel, new_breaks, weight)
        delta = value - current
        if delta <= 0 or np.random.random() < math.exp(-delta / temperature):
            current, total_travel, total_breaks = value, new_travel, new_breaks
            if new_breaks == 0 and new_travel < best:
                best = new_travel
                best_S[:, :] = S
        else:
            for x in range(k):
                t = changed[x]
                travel[t], breaks[t] = old_travel[x], old_breaks[x]
            apply_move(S, kind, a, b, c, changed, flags)
        if total_breaks == 0:
            feasible += 1
    return feasible, best


def warm() -> None:
    """Compile (or load from the disk cache) every function above, on a 4-team timetable."""
    S = np.array([[2, 3, -4, -2, -3, 4], [-1, 4, 3, 1, -4, -3], [4, -1, -2, -4, 1, 2], [-3, -2, 1, 3, 2, -1]])
    dist = np.ones((4, 4), np.int64) - np.eye(4, dtype=np.int64)
    rule = np.array([3, 3, 1], np.int64)
    travel, breaks = np.zeros(4, np.int64), np.zeros(4, np.int64)
    seed(0)
    recount(S, dist, rule, travel, breaks)
    step(S, dist, rule, travel, breaks, *random_move(4, 6))
    walk(S, dist, rule, travel, breaks, 10, 1.0, 1.0, S.copy(), 1 << 62)
