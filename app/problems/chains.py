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
from typing import Any

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
