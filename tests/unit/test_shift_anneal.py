"""The roster annealer (app/problems/shift_scheduling/anneal.py, moves.py): it counts a roster's cost and
its hard breaks as the checker does, only ever offers rosters the checker accepts, each better than the
last, and gives way to a stop within a second."""

from __future__ import annotations

import random
import threading
import time

from ortools.sat.python import cp_model

from app.problems.shift_scheduling import PROBLEM, anneal, import_text
from tests.unit.conftest import SHIFT_BENCHMARKS
from workers import runner


def benchmark(n: int):
    return import_text((SHIFT_BENCHMARKS / f"Instance{n}.txt").read_text())


def first_roster(inp) -> dict:
    """CP-SAT's first roster: far from the best, found in well under a second on a quiet machine."""
    model, v = PROBLEM.build(inp)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 60
    solver.parameters.stop_after_first_solution = True
    solver.parameters.num_workers = 2
    assert solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return PROBLEM.extract(inp, v, solver.value)


def test_a_roster_is_counted_as_the_checker_counts_it_broken_or_not():
    inp = benchmark(8)
    tables = anneal.tables(inp)
    start = anneal.to_array(inp, first_roster(inp))
    rng = random.Random(2)
    kinds = len(inp.shifts)
    broken = 0
    for _ in range(300):
        changed = start.copy()
        for _ in range(rng.randint(0, 6)):
            changed[rng.randrange(changed.shape[0]), rng.randrange(changed.shape[1])] = rng.randrange(kinds + 1)
        roster = anneal.Roster(tables, changed)
        check = PROBLEM.check(inp, anneal.to_solution(inp, changed))
        assert (roster.breaks == 0) == check.ok, check.violations[:3]
        assert roster.cost == sum(p.cost for p in check.penalties)
        broken += not check.ok
    assert 50 < broken < 290  # both kinds were tried


def test_annealing_offers_only_checked_rosters_each_better_and_stops_within_a_second():
    inp = benchmark(8)
    start = first_roster(inp)
    ctx = runner.Search(PROBLEM, inp, threads=2, seed=0, deadline=time.monotonic() + 60, elapsed=lambda: 0.0)
    assert ctx.report(start)
    offered: list[float] = []
    checked = ctx.report

    def report(solution, solver_objective=None):
        check = PROBLEM.check(inp, solution)
        assert check.ok, check.violations[:3]
        offered.append(check.objective)
        return checked(solution, solver_objective)

    ctx.report = report
    before = threading.active_count()
    thread = threading.Thread(target=anneal.anneal, args=(ctx, start), kwargs={"chains": 2})
    thread.start()
    time.sleep(4)
    assert threading.active_count() == before + 2  # two chains
    asked = time.monotonic()
    ctx.stop_event.set()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - asked < 1.0
    assert threading.active_count() == before
    assert offered, "4 s of annealing found nothing better than CP-SAT's first roster"
    assert offered == sorted(offered, reverse=True) and len(set(offered)) == len(offered)
    assert ctx.incumbent()[1] == offered[-1] < PROBLEM.check(inp, start).objective


def test_the_walk_keeps_its_running_counts_equal_to_a_recount():
    inp = benchmark(8)
    tables = anneal.tables(inp)
    roster = anneal.Roster(tables, anneal.to_array(inp, first_roster(inp)))
    best = anneal.Best(roster.A.copy(), roster.cost)
    anneal.moves.seed(4)
    for temperature, weight in ((20.0, 1.0), (2.0, 50.0), (0.5, 100.0)):  # hot and breaking rules, then cold
        roster.walk(200_000, temperature, weight, best)
        again = anneal.Roster(tables, roster.A)
        assert (again.soft == roster.soft).all() and (again.hard == roster.hard).all()
        assert (again.on_shift == roster.on_shift).all() and again.cover_total == roster.cover_total
    kept = anneal.Roster(tables, best.array)
    checked = PROBLEM.check(inp, anneal.to_solution(inp, best.array))
    assert kept.breaks == 0 and kept.cost == best.cost == checked.objective
