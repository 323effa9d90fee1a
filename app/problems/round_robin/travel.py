"""Traveling tournament: simulated annealing over double round robins, with the classic TTSA moves.

A traveling tournament (distances, at most k home or away games in a row, no pair meeting in two
slots running, minimise the total travel) is a different search problem from an ITC2021 league: the
hard rules are few and local, and everything is in the objective. CP-SAT's bound on travel is weak,
and fix-and-optimise on CP-SAT stalled 8-34 % above the best known. This is simulated annealing on
whole timetables after TTSA (Anagnostopoulos, Michel, Van Hentenryck and Vergados, "A simulated
annealing approach to the traveling tournament problem", J. Scheduling 2006): its five moves, which
keep a valid double round robin and each undo itself, and its penalty for broken hard rules, whose
weight oscillates so the walk crosses infeasible regions. The temperature falls with the time left
(two cycles, the second from the best timetable), not with a move count: a run's length is known.

`rules(inp)` says whether an input is of this kind, from its constraints alone (never its name):
only HARD CA3 run limits over all teams, HARD SE1 separations over all teams, no phase, distances
given. `anneal` then runs until the time is up or a stop is asked; every better feasible timetable goes
to `ctx.report`, so the runner checks it like any other. The walk itself is compiled (ttsa.py): about a
million moves a second on 8 teams, where plain Python made 17,000. A run with more threads runs as
many chains, each in a thread of its own, sharing their best timetable.

A timetable is a row per team: S[t][s] = o + 1 if t hosts o in slot s, -(o + 1) if t plays at o.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import partial

import numpy as np

from app.problems.base import SearchContext
from app.problems.chains import Best, Schedule, Shared, cool, run_chains
from app.problems.round_robin import ttsa
from app.problems.round_robin.schema import Input

Game = tuple[int, int, int]
PHASE_MOVES = 1000  # moves between two updates of temperature and penalty weight (per 4 teams)
CYCLES = 2  # annealing cycles in the time given; each starts from the best timetable so far
START_HEAT, COLD = 0.3, 0.02  # a cycle's first and last temperature, as shares of the mean distance


@dataclass(frozen=True)
class Rules:
    """The hard rules of a traveling tournament: run limits and the minimum gap between a pair's games."""

    max_home: int  # at most this many home games in a row (num_slots: no limit)
    max_away: int
    min_gap: int  # at least this many slots between the two meetings of a pair (0: none)


def rules(inp: Input) -> Rules | None:
    """The input's hard rules if it is a traveling tournament the annealer covers exactly, else None."""
    if inp.distances is None or inp.phased:
        return None
    everyone = set(range(inp.n))
    limits = {"H": inp.num_slots, "A": inp.num_slots}
    gap = 0
    for con in inp.constraints:
        if con.type != "HARD":
            return None
        if con.constraint == "CA3":
            whole = set(con.teams1) == everyone and set(con.teams2) >= everyone
            if not whole or con.mode1 not in limits or con.min > 0 or con.intp != con.max + 1:
                return None
            limits[con.mode1] = min(limits[con.mode1], con.max)
        elif con.constraint == "SE1":
            if set(con.teams) != everyone or (con.max is not None and con.max < inp.num_slots - 2):
                return None
            gap = max(gap, con.min)
        else:
            return None
    if min(limits.values()) < 1:
        return None
    return Rules(limits["H"], limits["A"], gap)


def to_rows(n: int, games: list[Game]) -> list[list[int]]:
    rows = [[0] * (2 * n - 2) for _ in range(n)]
    for h, a, s in games:
        rows[h][s], rows[a][s] = a + 1, -(h + 1)
    return rows


def to_games(rows: list[list[int]]) -> list[list[int]]:
    return [[t, g - 1, s] for t, row in enumerate(rows) for s, g in enumerate(row) if g > 0]


class Tour:
    """A timetable (an n x (2n - 2) array, see ttsa.py) with each team's travel and rule breaks."""

    def __init__(self, inp: Input, rule: Rules, rows):
        self.n, self.slots = inp.n, inp.num_slots
        self.dist = np.asarray(inp.distances, dtype=np.int64)
        self.rule = np.array([rule.max_home, rule.max_away, rule.min_gap], dtype=np.int64)
        self.S = np.array(rows, dtype=np.int64)
        self.travel = np.zeros(self.n, dtype=np.int64)
        self.breaks = np.zeros(self.n, dtype=np.int64)
        ttsa.recount(self.S, self.dist, self.rule, self.travel, self.breaks)

    @property
    def rows(self) -> list[list[int]]:
        return self.S.tolist()

    @property
    def total_travel(self) -> int:
        return int(self.travel.sum())

    @property
    def total_breaks(self) -> int:
        return int(self.breaks.sum())

    def step(self, kind: int, a: int, b: int, c: int) -> int:
        """Apply one of the five moves (ttsa.apply_move) and recount; the number of teams it changed.
        Applied twice with the same arguments, a move gives back the timetable it started from."""
        return ttsa.step(self.S, self.dist, self.rule, self.travel, self.breaks, kind, a, b, c)

    def walk(self, moves: int, temperature: float, weight: float, best: Best) -> int:
        """`moves` annealing steps (ttsa.walk); `best` keeps the best feasible timetable seen. The number
        of steps that ended feasible."""
        known = int(best.cost) if best.cost < NONE else NONE
        feasible, travel = ttsa.walk(
            self.S, self.dist, self.rule, self.travel, self.breaks, moves, temperature, weight, best.array, known
        )
        best.cost = travel if travel < NONE else math.inf
        return feasible


NONE = 1 << 62  # the compiled walk's "no feasible timetable yet"


def anneal(
    ctx: SearchContext, inp: Input, rule: Rules, games: list[Game], rng: random.Random, chains: int = 1
) -> list[Game]:
    """Simulated annealing from `games` until ctx.remaining() runs out or a stop; returns the best feasible
    timetable found (or `games` if none), each better one reported to ctx on the way.

    `chains`: walks at once, each in a thread of its own (app/problems/chains.py). They share the best
    timetable: each cycle of each chain starts from the best any found."""
    start = Tour(inp, rule, to_rows(inp.n, games))
    feasible = start.total_breaks == 0  # then the runner has it already
    shared = Shared(
        Best(start.S.copy(), start.total_travel if feasible else math.inf),
        reported=start.total_travel if feasible else math.inf,
        solution=lambda S: {"games": to_games(S.tolist())},
    )
    run_chains(ctx, shared, partial(_chain, ctx, inp, rule, games), chains, rng)
    if shared.best.cost == math.inf:
        return games
    return [tuple(g) for g in to_games(shared.best.array.tolist())]


def _chain(ctx: SearchContext, inp: Input, rule: Rules, games: list[Game], shared: Shared, seed: int, reports: bool):
    """One chain: cycles of cooling from `games`, then from the best timetable so far."""
    ttsa.seed(seed)  # numba's random stream is per thread
    start = to_rows(inp.n, games)
    leg = mean_distance(inp)
    schedule = Schedule(START_HEAT * leg, COLD * leg, CYCLES, PHASE_MOVES * max(1, inp.n // 4))
    weight = max(1.0, Tour(inp, rule, start).total_travel / (inp.n * inp.num_slots))  # about one leg of a trip
    cool(ctx, shared, lambda best: Tour(inp, rule, best.array if best.cost < math.inf else start), schedule, weight,
         reports)  # fmt: skip


def mean_distance(inp: Input) -> float:
    """The mean distance between two venues: temperatures are shares of it (a longer trip now and then)."""
    legs = [d for row in inp.distances or [] for d in row if d]
    return sum(legs) / len(legs) if legs else 1.0
