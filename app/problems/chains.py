"""Annealing chains in threads of their own that share their best solution (traveling tournaments in
round_robin/travel.py, rosters in shift_scheduling/anneal.py).

Each chain's walk is compiled with numba and releases the GIL, so a run with 2 threads keeps both cores
busy with two chains in one process. Between two phases of its walk (milliseconds), a chain offers its
best to the others, looks at ctx.stopped(), and the first chain reports the shared best to ctx (at most
every REPORT_EVERY seconds, and once more at the end), so the runner's checker sees every solution kept.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

REPORT_EVERY = 0.5  # seconds between two reports of a better solution (the last one is always reported)


@dataclass
class Best:
    """A chain's best feasible solution as the walk's array, and its cost (inf while there is none)."""

    array: np.ndarray
    cost: float = math.inf


@dataclass
class Shared:
    """The best solution of all chains, and what was last reported to ctx."""

    best: Best
    reported: float  # the cost last reported (the start's, if it was feasible: the runner has it)
    solution: Callable[[np.ndarray], dict]  # the walk's array -> the solution ctx.report takes
    last_report: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)  # the reporting chain has returned

    def offer(self, best: Best) -> None:
        """Keep a chain's best if it beats the shared one."""
        with self.lock:
            if best.cost < self.best.cost:
                self.best.cost, self.best.array[...] = best.cost, best.array

    def take(self, best: Best) -> None:
        """Copy the shared best into a chain's `best` if it is better (a cycle starts from it)."""
        with self.lock:
            if self.best.cost < best.cost:
                best.cost, best.array[...] = self.best.cost, self.best.array

    def report(self, ctx: Any, last: bool = False) -> None:
        """Send the shared best to ctx if it beats the last one sent, and that one came long enough ago."""
        with self.lock:
            if self.best.cost >= self.reported:
                return
            if not last and time.monotonic() - self.last_report < REPORT_EVERY:
                return
            cost, array = self.best.cost, self.best.array.copy()
        ctx.report(self.solution(array))
        self.reported, self.last_report = cost, time.monotonic()

    def over(self, ctx: Any) -> bool:
        """Time to return: a stop, the deadline, or the reporting chain has returned."""
        return ctx.stopped() or ctx.remaining() <= 0 or self.done.is_set()


Chain = Callable[[Shared, int, bool], None]  # (shared, seed, reports?) -> runs until shared.over(ctx)


def run_chains(ctx: Any, shared: Shared, chain: Chain, chains: int, rng: random.Random) -> None:
    """Run `chains` chains: this thread runs the first (the one that reports), the others a thread each.
    Returns once all have, with the shared best reported."""
    others = [
        threading.Thread(target=chain, args=(shared, rng.randrange(2**31), False), daemon=True)
        for _ in range(chains - 1)
    ]
    for thread in others:
        thread.start()
    try:
        chain(shared, rng.randrange(2**31), True)
    finally:
        shared.done.set()
        for thread in others:
            thread.join()
    shared.report(ctx, last=True)


@dataclass(frozen=True)
class Schedule:
    """How one chain cools. Cycles share the time left: each cools geometrically from `hot` to `cold` as
    its time passes and starts from the best solution any chain has found. The weight of hard-rule breaks
    oscillates (TTSA's strategic oscillation): up while a phase spends most of its moves breaking a rule,
    down while it does not, so the walk can cross a rule to reach a better solution."""

    hot: float
    cold: float
    cycles: int
    phase_moves: int  # moves between two updates of the temperature and the weight
    weight_step: float = 1.1
    feasible_share: float = 0.5  # the share of a phase's moves the walk should spend breaking no rule


class Walk(Protocol):
    def walk(self, moves: int, temperature: float, weight: float, best: Best) -> int:
        """`moves` steps; `best` keeps the best solution seen that breaks no rule. Steps that broke none."""
        ...


def cool(ctx: Any, shared: Shared, seed_walk: Callable[[Best], Walk], schedule: Schedule, weight: float,
         reports: bool) -> None:  # fmt: skip
    """Run one chain until shared.over(ctx): `seed_walk(best)` gives the walk a cycle starts from."""
    best = Best(shared.best.array.copy())
    for cycle in range(schedule.cycles, 0, -1):
        left = max(0.0, ctx.remaining())
        length = left / cycle
        temperature = schedule.hot
        shared.take(best)
        walk = seed_walk(best)
        while left - ctx.remaining() < length or cycle == 1:
            feasible = walk.walk(schedule.phase_moves, temperature, weight, best)
            shared.offer(best)
            if shared.over(ctx):
                return
            if reports:
                shared.report(ctx)
            if feasible > schedule.feasible_share * schedule.phase_moves:
                weight /= schedule.weight_step
            else:
                weight *= schedule.weight_step
            done = min(1.0, (left - ctx.remaining()) / length) if length else 1.0
            temperature = schedule.hot * (schedule.cold / schedule.hot) ** done
