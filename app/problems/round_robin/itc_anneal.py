"""ITC2021 leagues: simulated annealing over whole double round robins, with TTSA's five moves.

The competition's strongest entries were local searches over complete timetables (e.g. Rosati, Petris,
Di Gaspero and Schaerf, "Multi-neighborhood simulated annealing for the sports timetabling competition
ITC2021", J. Scheduling 2022): every move keeps a valid (phased, if asked) double round robin, the cost
is the SOFT penalty plus a weight on the HARD deviation, and the weight moves so the walk can cross
infeasible timetables. This is that search on the compiled walk of itc_cost.py, in the cooling loop the
traveling tournament uses (app/problems/chains.py): chains in threads, sharing their best timetable,
which goes to ctx.report (so the runner checks it) whenever it improves.

A timetable is ttsa.py's n x (2n - 2) array: S[t, s] = o + 1 if t hosts o in slot s, -(o + 1) if t
plays at o.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from functools import partial

import numpy as np

from app.problems.base import SearchContext
from app.problems.chains import Best, Schedule, Shared, cool, run_chains
from app.problems.round_robin import itc_cost
from app.problems.round_robin.schema import Input
from app.problems.round_robin.travel import to_games, to_rows

Game = tuple[int, int, int]
PHASE_MOVES = 2000  # moves between two updates of temperature and HARD weight
CYCLES = 2  # annealing cycles in the time given; each starts from the best timetable so far
HOT, COLD = 2.0, 0.1  # a cycle's first and last temperature, as shares of the mean SOFT penalty
START_WEIGHT = 4.0  # the first HARD weight, in mean SOFT penalties per unit of HARD deviation
# Feasibility first: from a start with HARD deviation, anneal on the HARD deviation alone (its weight so
# large that SOFT penalties are noise) until a timetable meets them all, in cycles that go on from where
# the last one ended.
FEASIBLE_CYCLES = 3
FEASIBLE_HOT, FEASIBLE_COLD = 0.35, 0.035  # temperatures in units of HARD deviation
BIG = 1e4  # the HARD weight of that phase, in SOFT penalty units
NONE = 1 << 62  # the compiled walk's "no feasible timetable yet"
log = logging.getLogger(__name__)


class League:
    """A timetable array with the deviation of every unit and the count of every counter (itc_cost.Units),
    kept by the walk."""

    def __init__(self, inp: Input, U: itc_cost.Units, rows):
        self.U, self.phased = U, inp.phased
        self.S = np.array(rows, dtype=np.int64)
        self.dev, self.count = itc_cost.fresh(U)
        self.hard, self.soft = itc_cost.recount(U, self.S, self.dev, self.count)
        self.least = self.hard  # the least HARD deviation seen at the end of a walk

    def walk(self, moves: int, temperature: float, weight: float, best: Best) -> int:
        """`moves` annealing steps (itc_cost.walk); `best` keeps the best timetable seen with no HARD
        deviation. The number of steps that ended with none."""
        known = int(best.cost) if best.cost < NONE else NONE
        feasible, soft, self.hard, self.soft = itc_cost.walk(
            self.U, self.S, self.dev, self.count, self.phased, moves, temperature, weight, best.array, known
        )
        best.cost = soft if soft < NONE else math.inf
        self.least = min(self.least, self.hard)
        return feasible


def mean_penalty(inp: Input) -> float:
    pens = [con.penalty for con in inp.constraints if con.type == "SOFT" and con.penalty]
    return sum(pens) / len(pens) if pens else 1.0


def anneal(ctx: SearchContext, inp: Input, games: list[Game], rng: random.Random, chains: int = 1) -> list[Game] | None:
    """Simulated annealing from `games` (any valid double round robin, HARD constraints met or not) until
    ctx.remaining() runs out or a stop. Returns the best timetable with no HARD deviation found (each better
    one reported to ctx on the way), or None if none was."""
    U = itc_cost.units(inp)
    start = League(inp, U, to_rows(inp.n, games))
    shared = Shared(
        Best(start.S.copy(), start.soft if start.hard == 0 else math.inf),
        reported=math.inf,  # the start too goes to ctx (once more, if it came from there: the runner keeps one)
        solution=lambda S: {"games": to_games(S.tolist())},
    )
    if start.hard:
        found = Phase(ctx, lambda: shared.best.cost < math.inf)
        run_chains(found, shared, partial(_feasible_chain, found, inp, U, start.S), chains, rng)
        if shared.best.cost == math.inf:
            return None
        shared.done.clear()
    perfect = Phase(ctx, lambda: shared.best.cost == 0)  # nothing charged: nothing to gain
    run_chains(perfect, shared, partial(_chain, perfect, inp, U), chains, rng)
    return [tuple(g) for g in to_games(shared.best.array.tolist())]


class Phase:
    """The run's context for a phase that ends once `over()` (or with the run)."""

    def __init__(self, ctx: SearchContext, over: Callable[[], bool]):
        self.ctx, self.over = ctx, over

    def remaining(self) -> float:
        return self.ctx.remaining()

    def stopped(self) -> bool:
        return self.ctx.stopped() or self.over()

    def report(self, solution: dict) -> bool:
        return self.ctx.report(solution)


def _feasible_chain(ctx: Phase, inp: Input, U: itc_cost.Units, start: np.ndarray, shared: Shared, seed: int,
                    reports: bool) -> None:  # fmt: skip
    """One chain of the feasibility phase: cycles of cooling on the HARD deviation, each going on from where
    the last one ended."""
    itc_cost.seed(seed)
    weight = BIG * mean_penalty(inp)
    schedule = Schedule(FEASIBLE_HOT * weight, FEASIBLE_COLD * weight, FEASIBLE_CYCLES, PHASE_MOVES, weight_step=1.0)
    league = League(inp, U, start)
    cool(ctx, shared, lambda best: league, schedule, weight, reports)
    log.debug("feasibility chain %d: hard=%d", seed, league.least)


def _chain(ctx: Phase, inp: Input, U: itc_cost.Units, shared: Shared, seed: int, reports: bool) -> None:
    """One chain of the improvement phase: cycles of cooling, each from the best timetable so far (there is
    one: the start, or the feasibility phase's)."""
    itc_cost.seed(seed)  # numba's random stream is per thread
    unit = mean_penalty(inp)
    schedule = Schedule(HOT * unit, COLD * unit, CYCLES, PHASE_MOVES)
    cool(ctx, shared, lambda best: League(inp, U, best.array), schedule, START_WEIGHT * unit, reports)
