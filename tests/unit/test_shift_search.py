"""The roster search strategies (app/problems/shift_scheduling/search.py, decompose.py, construct.py) driven by the real
runner: whatever they try, the runner only ever keeps checked rosters, and cancel, deadline and resume hold."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from app.problems.shift_scheduling import PROBLEM, construct, decompose, demo, import_text
from app.problems.shift_scheduling.search import search
from tests.unit.conftest import SHIFT_BENCHMARKS
from workers import runner


class Recording(runner.Search):
    """The runner's context, also keeping every solution the strategy offers, checked or not."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.offered: list[tuple[dict, float]] = []
        self.offered_lock = threading.Lock()
        self.canceled_at: float | None = None
        self.ended_at: float | None = None

    def report(self, solution: dict, solver_objective: float | None = None) -> bool:
        with self.offered_lock:
            self.offered.append((solution, solver_objective))
        return super().report(solution, solver_objective)


def run(inp, time_limit: float, cancel_when=None, checkpoint: dict | None = None, threads: int = 2, problem=None):
    """runner.run with the roster problem; returns (outcome, seconds taken, Recording context).

    `cancel_when(ctx)` asks for a cancel once it is true; ctx.canceled_at records when it first was."""
    made: list[Recording] = []
    original = runner.Search

    def make(*args, **kwargs):
        made.append(Recording(*args, **kwargs))
        return made[-1]

    def cancel_requested() -> bool:
        ctx = made[0]
        if cancel_when is not None and ctx.canceled_at is None and cancel_when(ctx):
            ctx.canceled_at = time.monotonic()
        return ctx.canceled_at is not None

    t0 = time.monotonic()
    runner.Search = make
    try:
        outcome = runner.run(
            problem or LNS,
            inp,
            time_limit=time_limit,
            threads=threads,
            seed=0,
            cancel_requested=cancel_requested,
            flush=lambda live: None,
            interval=0.5,
            checkpoint=checkpoint,
        )
    finally:
        runner.Search = original
    made[0].ended_at = time.monotonic()
    return outcome, made[0].ended_at - t0, made[0]


LNS = replace(PROBLEM, search=search)  # the roster type with its own search (not yet its default)
STRATEGIES = {
    "lns": LNS,
    "decompose": replace(PROBLEM, search=decompose.search),
    "construct": replace(PROBLEM, search=construct.search),
}


@pytest.fixture(params=sorted(STRATEGIES))
def problem(request):
    return STRATEGIES[request.param]


def benchmark(n: int):
    return import_text((SHIFT_BENCHMARKS / f"Instance{n}.txt").read_text())


@pytest.mark.parametrize("inp", [demo("small"), demo("medium")], ids=["small", "medium"])
def test_every_roster_the_search_offers_passes_the_checker(inp, problem):
    outcome, _, ctx = run(inp, time_limit=4, problem=problem)
    assert outcome.solution is not None and PROBLEM.check(inp, outcome.solution).ok
    assert ctx.offered, "the search offered no roster"
    rejected = [c.violations for c in (PROBLEM.check(inp, s) for s, _ in ctx.offered) if not c.ok]
    assert rejected == []


def test_a_small_roster_is_proved_optimal(problem):
    outcome, _, _ = run(benchmark(1), time_limit=20, problem=problem)
    assert outcome.status == "OPTIMAL" and outcome.objective == 607


def test_deadline_is_kept_within_a_second(problem):
    outcome, took, _ = run(benchmark(8), time_limit=3, problem=problem)
    assert took < 3 + 1
    assert outcome.solution is None or PROBLEM.check(benchmark(8), outcome.solution).ok


def test_cancel_stops_the_neighbourhood_search_within_a_second(problem):
    # Cancel once the lanes are searching neighbourhoods (past the first whole-model solve).
    searching = lambda ctx: ctx.totals["solves"] >= 4  # noqa: E731
    outcome, _, ctx = run(benchmark(5), time_limit=60, cancel_when=searching, problem=problem)
    assert outcome.stop_reason == "canceled"
    assert ctx.ended_at - ctx.canceled_at < 1
    assert outcome.solution is not None and PROBLEM.check(benchmark(5), outcome.solution).ok


def test_a_resumed_run_starts_from_its_checkpoint(problem):
    inp = benchmark(5)
    first, _, _ = run(inp, time_limit=3, problem=problem)
    assert first.solution is not None
    outcome, _, ctx = run(inp, time_limit=3, checkpoint=first.solution, problem=problem)
    offered = [PROBLEM.check(inp, s).objective for s, _ in ctx.offered]
    assert offered[0] == first.objective  # the runner offers the checkpoint first
    # Every roster the strategy offers after it is at least as good: it searched from the checkpoint.
    assert max(offered) <= first.objective
    assert outcome.objective <= first.objective


def test_the_construction_rosters_everyone_within_every_hard_rule():
    # Group by group, each group's cover lowered by the groups before it: a complete roster that the
    # checker accepts, found without ever solving the whole model.
    inp = benchmark(7)
    ctx = runner.Search(PROBLEM, inp, threads=2, seed=0, deadline=time.monotonic() + 20, elapsed=lambda: 0.0)
    roster = construct.construct(ctx)
    assert roster is not None and set(roster) == {person.id for person in inp.staff}
    assert all(len(row) == inp.horizon_days for row in roster.values())
    check = PROBLEM.check(inp, {"roster": roster})
    assert check.ok, check.violations[:3]
    steps = -(-len(inp.staff) // construct.group_size(inp))
    assert ctx.totals["solves"] == steps  # no whole-model solve


def test_the_construction_gives_way_to_a_stop():
    inp = benchmark(12)
    ctx = runner.Search(PROBLEM, inp, threads=2, seed=0, deadline=time.monotonic() + 20, elapsed=lambda: 0.0)
    ctx.stop_event.set()
    assert construct.construct(ctx) is None and ctx.totals["solves"] == 0


def test_two_weekends_free_everyone_around_two_weekends():
    from app.problems.shift_scheduling.neighbourhoods import two_weekends

    inp = benchmark(12)  # 4 weeks: weekends on days 5-6, 12-13, 19-20, 26-27
    free = two_weekends(inp, (0, 3))
    assert free == {(p, d) for p in range(len(inp.staff)) for d in [3, 4, 5, 6, 7, 8, 24, 25, 26, 27]}
    assert {d for _, d in two_weekends(inp, (1, 2), margin=1)} == {11, 12, 13, 14, 18, 19, 20, 21}


def test_a_roster_is_weekend_bound_when_most_of_its_shortfall_is_at_weekends():
    inp = benchmark(12)
    nobody = {person.id: [None] * inp.horizon_days for person in inp.staff}
    assert not construct.weekend_bound(inp, nobody)  # short every day: 285 of 1007 missing at weekends
    weekend = {d for days in inp.weekends() for d in days}
    at_weekends = inp.model_copy(update={"cover": [c for c in inp.cover if c.day in weekend]})
    assert construct.weekend_bound(at_weekends, nobody)
    assert not construct.weekend_bound(inp.model_copy(update={"cover": []}), nobody)  # nothing short


def test_trading_weekends_offers_only_better_checked_rosters_and_keeps_its_time(monkeypatch):
    monkeypatch.setattr(construct, "WEEKEND_BOUND", 0.0)  # the construction's roster is short all week
    inp = benchmark(8)
    ctx = Recording(PROBLEM, inp, threads=2, seed=0, deadline=time.monotonic() + 60, elapsed=lambda: 0.0)
    start = construct.construct(ctx)
    assert start is not None and ctx.report({"roster": start})
    before = ctx.incumbent()[1]
    ctx.offered.clear()
    t0 = time.monotonic()
    construct.trade_weekends(ctx, 4.0)
    assert time.monotonic() - t0 < 4 + 1
    assert ctx.offered, "4 s of weekend trades found nothing better than the construction's roster"
    checks = [PROBLEM.check(inp, s) for s, _ in ctx.offered]
    assert all(c.ok for c in checks)
    assert ctx.incumbent()[1] == min(c.objective for c in checks) < before


def test_trading_weekends_gives_way_to_a_stop_within_a_second(monkeypatch):
    monkeypatch.setattr(construct, "WEEKEND_BOUND", 0.0)
    inp = benchmark(12)
    ctx = Recording(PROBLEM, inp, threads=2, seed=0, deadline=time.monotonic() + 60, elapsed=lambda: 0.0)
    start = construct.construct(ctx)
    assert start is not None and ctx.report({"roster": start})
    threading.Timer(2.0, ctx.stop).start()  # as the runner stops a strategy: the event, and every solve in flight
    t0 = time.monotonic()
    construct.trade_weekends(ctx, 30.0)
    assert time.monotonic() - t0 < 2 + 1
    assert PROBLEM.check(inp, ctx.incumbent()[0]).ok


def test_an_annealing_chain_races_the_whole_model_solve_and_stops_with_it():
    # What the default strategy runs beside its whole-model solve: a chain from the constructed roster,
    # whose rosters go to the runner's checker like any other, ending as soon as the block does.
    inp = benchmark(12)
    ctx = Recording(PROBLEM, inp, threads=2, seed=0, deadline=time.monotonic() + 60, elapsed=lambda: 0.0)
    start = {"roster": construct.construct(ctx)}
    assert ctx.report(start)
    first = ctx.incumbent()[1]
    with construct.annealing_alongside(ctx, 30.0, start):
        time.sleep(2.0)
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 0.5  # the chain returned within a phase of its walk
    assert not [t for t in threading.enumerate() if t.name == "anneal-alongside"]
    assert len(ctx.offered) > 1 and ctx.incumbent()[1] < first
    assert all(PROBLEM.check(inp, s).ok for s, _ in ctx.offered)


def test_the_racing_chain_needs_a_roster_and_raises_its_error(monkeypatch):
    inp = benchmark(12)
    ctx = Recording(PROBLEM, inp, threads=2, seed=0, deadline=time.monotonic() + 60, elapsed=lambda: 0.0)
    with construct.annealing_alongside(ctx, 30.0, None):  # nothing to walk from: no chain
        assert not [t for t in threading.enumerate() if t.name == "anneal-alongside"]

    def broken(*args, **kwargs):
        raise RuntimeError("walk failed")

    monkeypatch.setattr(construct, "anneal", broken)
    with pytest.raises(RuntimeError, match="walk failed"), construct.annealing_alongside(ctx, 30.0, {"roster": {}}):
        time.sleep(0.1)


def test_the_racing_chain_gives_way_once_the_solve_has_overtaken_it():
    inp = benchmark(12)
    ctx = Recording(PROBLEM, inp, threads=2, seed=0, deadline=time.monotonic() + 60, elapsed=lambda: 0.0)
    assert ctx.report({"roster": construct.construct(ctx)})
    racing = construct.Racing(ctx, 30.0)
    assert racing.remaining() > 29  # the start is the chain's own
    racing.mine = ctx.incumbent()[1] + 1  # the runner holds a better roster than the chain's last ...
    assert racing.remaining() > 29  # ... but the chain gained within OVERTAKEN_AFTER: it goes on
    racing.gained -= construct.OVERTAKEN_AFTER + 0.1
    assert racing.remaining() == 0.0  # overtaken, and no gain since: it gives way


def test_a_solve_ends_once_its_stop_when_is_true():
    # The contract's stop_when (app/problems/base.py): polled while the solve runs, it ends it as its time limit would.
    inp = benchmark(12)
    ctx = Recording(PROBLEM, inp, threads=2, seed=0, deadline=time.monotonic() + 60, elapsed=lambda: 0.0)
    model, v = PROBLEM.build(inp)
    t0 = time.monotonic()
    sub = ctx.solve(model, lambda value: PROBLEM.extract(inp, v, value), time_limit=30.0,
                    stop_when=lambda: time.monotonic() - t0 > 1.0)  # fmt: skip
    assert time.monotonic() - t0 < 1.0 + 1.0
    assert sub.status in ("FEASIBLE", "UNKNOWN")
    assert not [t for t in threading.enumerate() if t.name == "stop-when"]


def test_the_whole_model_solve_gives_way_to_a_chain_that_stays_ahead():
    inp = benchmark(12)
    ctx = Recording(PROBLEM, inp, threads=2, seed=0, deadline=time.monotonic() + 60, elapsed=lambda: 0.0)
    assert ctx.report({"roster": construct.construct(ctx)})
    racing = construct.Racing(ctx, 30.0)
    assert not racing.ahead_for(5.0)  # the chain holds the best (its start), but not for 5 s yet
    racing.since -= 5.1
    assert racing.ahead_for(5.0)
    racing.mine = ctx.incumbent()[1] + 1  # the runner holds a better roster than the chain's: the solve's
    assert not racing.ahead_for(5.0)
    racing.mine = ctx.incumbent()[1]  # the chain's again: the 5 s count from now
    assert not racing.ahead_for(5.0)

    # In the default strategy's block: on Instance12 the chain stays ahead of the whole-model solve
    # (it never overtook the chain there), so the solve ends after GIVE_WAY_SHARE of its time.
    start = {"roster": construct.construct(ctx)}
    t0 = time.monotonic()
    with construct.annealing_alongside(ctx, 12.0, start) as overtaken:
        model, v = PROBLEM.build(inp)
        ctx.solve(model, lambda value: PROBLEM.extract(inp, v, value), time_limit=12.0, stop_when=overtaken)
    assert time.monotonic() - t0 < construct.GIVE_WAY_SHARE * 12.0 + 2.0
    assert all(PROBLEM.check(inp, s).ok for s, _ in ctx.offered)


def test_the_default_strategy_writes_its_phases_to_the_run_log():
    # SearchContext.log: the run's stored log says which phase of the strategy ran when, beside CP-SAT's own.
    outcome, _, _ = run(benchmark(8), time_limit=6, problem=STRATEGIES["construct"])
    log = "".join(outcome.live.log)
    phases = ["construction", "first solve", "annealing", "last solve"]
    at = [log.find(f"[roster search: {phase}") for phase in phases]
    assert -1 not in at and at == sorted(at), log[:2000]
    assert log.index("[roster search: first solve") < log.index("Starting CP-SAT solver")  # before the solve's own log
