"""ITC2021 annealing: the compiled deviations equal the checker's (hand-made cases, every published best
schedule, and timetables along a random walk), the walk keeps a (phased) double round robin, and the
annealer offers only checked timetables and stops within a second with all its chains."""

from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest

from app import problems
from app.problems.round_robin import itc_anneal, itc_cost
from app.problems.round_robin.check import check, deviations, read_games
from app.problems.round_robin.robinx import import_instance, import_solution
from app.problems.round_robin.search import circle_schedule
from app.problems.round_robin.travel import to_games, to_rows
from tests.support import BENCHMARKS
from tests.unit.robin_timetable import CASES, GAMES, league
from tests.unit.test_robin_travel import context

ITC = BENCHMARKS / "sports_itc2021"
NAMES = sorted(p.stem for p in (ITC / "instances").glob("*.xml"))


def recount(inp, games) -> tuple[int, int]:
    U = itc_cost.units(inp)
    S = np.array(to_rows(inp.n, [tuple(g) for g in games]), dtype=np.int64)
    return itc_cost.recount(U, S, *itc_cost.fresh(U))


@pytest.mark.parametrize(("constraint", "deviation"), CASES)
def test_each_class_is_counted_as_the_checker_counts_it(constraint, deviation):
    hard = recount(league(constraint | {"type": "HARD"}), GAMES)
    soft = recount(league(constraint | {"penalty": 3}), GAMES)
    assert hard == (deviation, 0)
    assert soft == (0, 3 * deviation)


def test_every_published_best_schedule_costs_its_published_objective():
    for name in NAMES:
        inp = import_instance((ITC / "instances" / f"{name}.xml").read_text())
        solution, stated = import_solution((ITC / "solutions" / f"{name}.xml").read_text())
        assert recount(inp, solution["games"]) == (0, stated), name


@pytest.mark.parametrize("name", ["ITC2021_Early_01", "ITC2021_Middle_08", "ITC2021_Late_15", "ITC2021_Middle_03"])
def test_a_random_walk_keeps_a_round_robin_and_its_running_counts(name):
    """20,000 moves accepted whatever they cost: every kind of move, every class of constraint."""
    inp = import_instance((ITC / "instances" / f"{name}.xml").read_text())
    solution, _ = import_solution((ITC / "solutions" / f"{name}.xml").read_text())
    league_ = itc_anneal.League(inp, itc_cost.units(inp), to_rows(inp.n, [tuple(g) for g in solution["games"]]))
    best = itc_anneal.Best(league_.S.copy())
    itc_cost.seed(5)
    for _ in range(4):
        league_.walk(5000, 1e12, 1.0, best)
        games = to_games(league_.S.tolist())
        assert read_games(inp, {"games": games})[1] == []  # a double round robin, phased if the input is
        assert (league_.hard, league_.soft) == deviations(inp, games)
        dev, count = itc_cost.fresh(league_.U)
        itc_cost.recount(league_.U, league_.S, dev, count)
        assert (dev == league_.dev).all() and (count == league_.count).all()
    assert best.cost == np.inf or deviations(inp, to_games(best.array.tolist())) == (0, best.cost)


def test_the_annealer_offers_only_checked_timetables_each_better_than_the_last():
    inp = import_instance((ITC / "instances" / "ITC2021_Late_15.xml").read_text())
    start = circle_schedule(inp.n, inp.phased, random.Random(1))
    offered = []
    ctx = context(inp, seconds=6, threads=2)
    real_report = ctx.report

    def report(solution):
        offered.append(solution)
        real_report(solution)

    ctx.report = report
    found = itc_anneal.anneal(ctx, inp, start, random.Random(2), chains=2)
    assert offered and found is not None
    costs = []
    for solution in offered:
        result = check(inp, solution)
        assert result.violations == []
        costs.append(sum(p.cost for p in result.penalties))
    assert costs == sorted(costs, reverse=True) and len(set(costs)) == len(costs)
    assert deviations(inp, found) == (0, costs[-1])


def test_a_stop_ends_the_annealing_within_a_second_with_its_chains():
    inp = import_instance((ITC / "instances" / "ITC2021_Middle_03.xml").read_text())
    ctx = context(inp, seconds=120, threads=2)
    before = threading.active_count()
    done = threading.Event()
    thread = threading.Thread(
        target=lambda: (
            itc_anneal.anneal(ctx, inp, circle_schedule(inp.n, False, random.Random(0)), random.Random(0), chains=2),
            done.set(),
        ),  # fmt: skip
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 30
    while threading.active_count() < before + 2 and time.monotonic() < deadline:  # the runner and its chain
        time.sleep(0.05)
    time.sleep(1.0)
    asked = time.monotonic()
    ctx.stop()
    assert done.wait(5)
    assert time.monotonic() - asked < 1.0
    thread.join(1)
    assert threading.active_count() == before


def test_an_itc_league_is_searched_to_a_checked_timetable():
    problem = problems.get("round_robin")
    inp = import_instance((ITC / "instances" / "ITC2021_Late_15.xml").read_text())
    ctx = context(inp, seconds=15, threads=2)
    problem.search(ctx)
    best = ctx.incumbent()
    assert best is not None
    assert check(inp, best[0]).violations == []
