"""The solve runner on its own: throttled progress, the cooperative stop (cancel, deadline, shutdown),
and what it promises every search strategy: only checked, strictly better solutions are kept."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time

from tests import problems as knapsack
from tests.support import wait_for
from workers import runner


def run(
    problem=knapsack.PROBLEM, inp=None, time_limit=30.0, cancel_after=None, interval=0.5, on_start=None, checkpoint=None
):
    inp = inp or knapsack.demo_hard()
    flushes: list[tuple[float, int]] = []
    t0 = time.monotonic()

    def flush(live: runner.Live) -> None:
        with live.lock:
            flushes.append((time.monotonic() - t0, len(live.points)))
            live.points = []

    outcome = runner.run(
        problem,
        inp,
        time_limit=time_limit,
        threads=2,
        seed=0,
        cancel_requested=lambda: cancel_after is not None and time.monotonic() - t0 > cancel_after,
        flush=flush,
        interval=interval,
        on_start=on_start,
        checkpoint=checkpoint,
    )
    return outcome, time.monotonic() - t0, flushes, inp


def shutdown_after(seconds: float):
    return lambda watcher: threading.Timer(seconds, watcher.shutdown.set).start()


def test_cancel_stops_the_search_and_keeps_the_incumbent():
    outcome, took, _, inp = run(cancel_after=1.0)
    assert outcome.stop_reason == "canceled"
    assert took < 1.0 + 0.5
    assert outcome.status == "FEASIBLE" and outcome.solution is not None
    assert knapsack.check(inp, outcome.solution).ok
    assert outcome.objective == knapsack.check(inp, outcome.solution).objective


def test_time_limit_is_a_normal_stop():
    outcome, took, _, _ = run(time_limit=1.5)
    assert outcome.status == "FEASIBLE" and outcome.solution is not None
    assert took < 1.5 + 0.5


def test_an_easy_problem_is_proved_optimal():
    tiny = knapsack.PROBLEM.demos["tiny"]()
    outcome, _, _, _ = run(inp=tiny, time_limit=10)
    assert outcome.status == "OPTIMAL" and outcome.objective == 5  # take items 0 and 1 (weights 3 + 2), leave value 5


def test_shutdown_stops_with_its_own_reason():
    outcome, took, _, _ = run(on_start=shutdown_after(0.8))
    assert outcome.stop_reason == "shutdown" and took < 1.5


def test_sigterm_reaches_the_watcher_while_cp_sat_searches():
    # The handler is what workers/jobs.py installs; Python runs it only in the main thread.
    def on_start(watcher: runner.Watcher) -> None:
        signal.signal(signal.SIGTERM, lambda *_: watcher.shutdown.set())
        threading.Timer(0.8, os.kill, (os.getpid(), signal.SIGTERM)).start()

    previous = signal.getsignal(signal.SIGTERM)
    try:
        outcome, took, _, _ = run(on_start=on_start)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert outcome.stop_reason == "shutdown" and took < 1.5


def test_a_solve_shorter_than_one_interval_leaves_its_progress_to_be_stored_with_the_result():
    outcome, _, flushes, _ = run(time_limit=1.2, interval=10.0)
    assert flushes == []  # no write while solving: the caller stores these with the result, in one go
    assert outcome.live.points and outcome.live.points[-1]["objective"] == outcome.objective


def test_progress_is_written_at_most_once_per_interval():
    _, took, flushes, _ = run(time_limit=2.0, interval=0.5)
    throttled = [t for t, _ in flushes]
    assert throttled[0] >= 0.45  # the first write waits one interval too
    assert all(b - a >= 0.45 for a, b in zip(throttled, throttled[1:], strict=False))
    assert len(throttled) <= took / 0.5 + 1
    assert sum(n for _, n in flushes) > 0  # solutions and bounds were recorded


def test_a_checkpoint_is_the_first_incumbent_and_is_never_lost():
    inp = knapsack.demo_hard()
    first, _, _, _ = run(inp=inp, time_limit=1.0)
    # A strategy that finds nothing better (it only offers a worse, and an infeasible, solution).
    offered = []

    def weak(ctx):
        offered.append(ctx.report({"take": []}))  # feasible but leaves everything behind
        offered.append(ctx.report({"take": list(range(len(inp.items)))}))  # over capacity
        return None

    weak_problem = dataclasses.replace(knapsack.PROBLEM, search=weak)
    resumed, _, _, _ = run(problem=weak_problem, inp=inp, time_limit=2, checkpoint=first.solution)
    assert offered == [False, False]
    assert resumed.solution == first.solution and resumed.objective == first.objective


def test_a_strategy_of_several_solves_is_stopped_between_and_during_them():
    solves = []

    def many(ctx):
        model, take = knapsack.build(ctx.inp)
        while not ctx.stopped():
            solves.append(ctx.solve(model, lambda v: knapsack.extract(ctx.inp, take, v), time_limit=0.3, full=False))
        return None

    outcome, took, _, _ = run(problem=dataclasses.replace(knapsack.PROBLEM, search=many), cancel_after=1.0)
    assert outcome.stop_reason == "canceled" and took < 1.6
    assert len(solves) >= 2 and outcome.solution is not None
    assert outcome.best_bound is None  # full=False: neighbourhood bounds are not the problem's


def test_a_strategy_stuck_in_python_is_abandoned_after_a_stop():
    release = threading.Event()

    def stuck(ctx):
        release.wait(30)  # like a model build that takes minutes
        return None

    try:
        outcome, took, _, _ = run(problem=dataclasses.replace(knapsack.PROBLEM, search=stuck), cancel_after=0.5)
        # Its search thread is still taken (the worker ends itself on this), and the next run gets another.
        assert runner.SEARCH_THREADS.busy() == 1
        after, _, _, _ = run(time_limit=0.5)
        assert after.solution is not None and runner.SEARCH_THREADS.busy() == 1
    finally:
        release.set()
    assert outcome.abandoned and outcome.stop_reason == "canceled"
    assert outcome.solution is None and outcome.status == "UNKNOWN"
    assert took < 0.5 + runner.ABANDON_AFTER + 1
    wait_for(lambda: runner.SEARCH_THREADS.busy() == 0, 5, what="the stuck strategy to return")


def test_a_deferred_check_runs_once_per_interval_and_never_keeps_a_rejected_solution():
    # defer_check: CP-SAT's solutions are kept on its objective and checked by the watcher, so the
    # solver's threads never wait on a costly checker. Here the checker also rejects one solution in
    # three: the result must still be a solution it accepted.
    inp = knapsack.demo_hard()
    checked: list[float] = []

    def check(inp_, solution):
        out = knapsack.check(inp_, solution)
        checked.append(out.objective)
        if len(checked) % 3 == 0:
            out.violations.append("rejected by the test")
        return out

    problem = dataclasses.replace(knapsack.PROBLEM, check=check, defer_check=True)
    outcome, took, flushes, _ = run(problem=problem, time_limit=2.0, interval=0.5)
    assert outcome.solution is not None and outcome.check is not None and outcome.check.ok
    assert knapsack.check(inp, outcome.solution).ok
    assert outcome.objective == knapsack.check(inp, outcome.solution).objective
    # at most one check per flush, one at the end (and none from the solver's threads)
    assert len(checked) <= len(flushes) + 1
    assert outcome.num_solutions >= len(checked)
