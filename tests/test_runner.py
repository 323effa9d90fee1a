"""The solve runner on its own: throttled progress, and the cooperative stop (cancel, deadline, shutdown)."""

from __future__ import annotations

import os
import signal
import threading
import time

from tests import problems as knapsack
from workers import runner


def solve_hard(time_limit=30.0, cancel_after=None, interval=0.5, shutdown_after=None):
    inp = knapsack.demo_hard()
    model, take = knapsack.build(inp)
    flushes: list[tuple[float, int]] = []
    t0 = time.monotonic()

    def flush(live: runner.Live) -> None:
        with live.lock:
            flushes.append((time.monotonic() - t0, len(live.points)))
            live.points = []

    def on_start(watcher: runner.Watcher) -> None:
        if shutdown_after is not None:
            threading.Timer(shutdown_after, watcher.shutdown.set).start()

    outcome = runner.solve(
        model,
        lambda value: knapsack.extract(inp, take, value),
        time_limit=time_limit,
        threads=2,
        seed=0,
        cancel_requested=lambda: cancel_after is not None and time.monotonic() - t0 > cancel_after,
        flush=flush,
        interval=interval,
        on_start=on_start,
    )
    return outcome, time.monotonic() - t0, flushes, inp


def test_cancel_stops_the_search_and_keeps_the_incumbent():
    outcome, took, _, inp = solve_hard(cancel_after=1.0)
    assert outcome.stop_reason == "canceled"
    assert took < 1.0 + 0.5
    assert outcome.status == "FEASIBLE" and outcome.solution is not None
    assert knapsack.check(inp, outcome.solution).ok


def test_time_limit_is_a_normal_stop():
    outcome, took, _, _ = solve_hard(time_limit=1.5)
    assert outcome.status == "FEASIBLE" and outcome.solution is not None
    assert took < 1.5 + 0.5


def test_shutdown_stops_with_its_own_reason():
    outcome, took, _, _ = solve_hard(shutdown_after=0.8)
    assert outcome.stop_reason == "shutdown" and took < 1.5


def test_sigterm_reaches_the_watcher_while_cp_sat_searches():
    # The handler is what workers/jobs.py installs; Python runs it only in the main thread.
    def on_start(watcher: runner.Watcher) -> None:
        signal.signal(signal.SIGTERM, lambda *_: watcher.shutdown.set())
        threading.Timer(0.8, os.kill, (os.getpid(), signal.SIGTERM)).start()

    previous = signal.getsignal(signal.SIGTERM)
    inp = knapsack.demo_hard()
    model, take = knapsack.build(inp)
    t0 = time.monotonic()
    try:
        outcome = runner.solve(
            model,
            lambda value: knapsack.extract(inp, take, value),
            time_limit=30,
            threads=2,
            seed=0,
            cancel_requested=lambda: False,
            flush=lambda live: None,
            interval=0.5,
            on_start=on_start,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert outcome.stop_reason == "shutdown" and time.monotonic() - t0 < 1.5


def test_the_last_improvements_are_flushed_before_the_final_state():
    _, _, flushes, _ = solve_hard(time_limit=1.2, interval=10.0)
    assert len(flushes) == 2  # the first tick, then one at the end with everything since
    assert flushes[-1][1] > 0


def test_progress_is_written_at_most_once_per_interval():
    _, took, flushes, _ = solve_hard(time_limit=2.0, interval=0.5)
    *throttled, final = [t for t, _ in flushes]  # the final flush comes when the search ends, always
    assert all(b - a >= 0.45 for a, b in zip(throttled, throttled[1:], strict=False))
    assert len(throttled) <= took / 0.5 + 1
    assert final >= throttled[-1]
    assert sum(n for _, n in flushes) > 0  # solutions and bounds were recorded
