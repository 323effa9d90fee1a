"""The roster search strategy (app/problems/shift_scheduling/search.py) driven by the real runner."""

from __future__ import annotations

import threading
import time

import pytest

from app.problems.shift_scheduling import PROBLEM, demo, import_text
from app.problems.shift_scheduling.search import search
from tests.unit.conftest import SHIFT_BENCHMARKS
from workers import runner


class Recording(runner.Search):
    """The runner's context, also keeping every solution the strategy offers, checked or not."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.offered: list[tuple[dict, float]] = []
        self.offered_lock = threading.Lock()

    def report(self, solution: dict, solver_objective: float | None = None) -> bool:
        with self.offered_lock:
            self.offered.append((solution, solver_objective))
        return super().report(solution, solver_objective)


def run(inp, time_limit: float, cancel_after: float | None = None, checkpoint: dict | None = None, threads: int = 2):
    """runner.run with the roster problem; returns (outcome, seconds taken, Recording context)."""
    made: list[Recording] = []
    original = runner.Search

    def make(*args, **kwargs):
        made.append(Recording(*args, **kwargs))
        return made[-1]

    t0 = time.monotonic()
    runner.Search = make
    try:
        outcome = runner.run(
            PROBLEM,
            inp,
            time_limit=time_limit,
            threads=threads,
            seed=0,
            cancel_requested=lambda: cancel_after is not None and time.monotonic() - t0 > cancel_after,
            flush=lambda live: None,
            interval=0.5,
            checkpoint=checkpoint,
        )
    finally:
        runner.Search = original
    return outcome, time.monotonic() - t0, made[0]


def benchmark(n: int):
    return import_text((SHIFT_BENCHMARKS / f"Instance{n}.txt").read_text())


def test_the_roster_problem_uses_its_own_search():
    assert PROBLEM.search is search


@pytest.mark.parametrize("inp", [demo("small"), demo("medium")], ids=["small", "medium"])
def test_every_roster_the_search_offers_passes_the_checker(inp):
    outcome, _, ctx = run(inp, time_limit=4)
    assert outcome.solution is not None and PROBLEM.check(inp, outcome.solution).ok
    assert ctx.offered, "the search offered no roster"
    rejected = [c.violations for c in (PROBLEM.check(inp, s) for s, _ in ctx.offered) if not c.ok]
    assert rejected == []


def test_a_small_roster_is_proved_optimal():
    outcome, _, _ = run(benchmark(1), time_limit=10)
    assert outcome.status == "OPTIMAL" and outcome.objective == 607


def test_deadline_is_kept_within_a_second():
    outcome, took, _ = run(benchmark(8), time_limit=3)
    assert outcome.solution is not None and PROBLEM.check(benchmark(8), outcome.solution).ok
    assert took < 3 + 1


def test_cancel_stops_the_neighbourhood_search_within_a_second():
    # Long enough into the run that the lanes are searching neighbourhoods when the cancel comes.
    outcome, took, ctx = run(benchmark(8), time_limit=60, cancel_after=5)
    assert outcome.stop_reason == "canceled"
    assert took < 5 + 1
    assert outcome.solution is not None and ctx.totals["solves"] > 2  # it got past the first solve


def test_a_resumed_run_starts_from_its_checkpoint():
    inp = benchmark(8)
    first, _, _ = run(inp, time_limit=4)
    outcome, _, ctx = run(inp, time_limit=3, checkpoint=first.solution)
    offered = [PROBLEM.check(inp, s).objective for s, _ in ctx.offered]
    assert offered[0] == first.objective  # the runner offers the checkpoint first
    # Every roster the strategy offers after it is at least as good: it searched from the checkpoint.
    assert max(offered) <= first.objective
    assert outcome.objective <= first.objective
