"""Traveling tournaments: recognised by their constraints, annealed with moves that keep a round robin
(counted as the checker counts), stopped within a second with all their chains, and
resumed from their checkpoint."""

from __future__ import annotations

import random
import threading
import time

from ortools.sat.python import cp_model

from app import problems
from app.problems.round_robin import travel, ttsa
from app.problems.round_robin.check import check, deviations, read_games
from app.problems.round_robin.model import build, extract
from app.problems.round_robin.schema import validate
from app.problems.round_robin.search import circle_schedule
from workers.runner import Search


def tournament(n: int, **extra):
    """n teams on a circle (distance = steps around it), at most 3 home or away games in a row, no repeaters."""
    everyone = list(range(n))
    run_limits = [
        {"constraint": "CA3", "type": "HARD", "teams1": everyone, "teams2": everyone, "mode1": m, "intp": 4, "max": 3}
        for m in ("H", "A")
    ]
    payload = {
        "teams": [f"T{t}" for t in range(n)],
        "distances": [[min(abs(a - b), n - abs(a - b)) for b in range(n)] for a in range(n)],
        "constraints": [*run_limits, {"constraint": "SE1", "type": "HARD", "teams": everyone, "min": 1}],
    }
    return validate(payload | extra)


def context(inp, seconds: float, threads: int = 1, checkpoint: dict | None = None) -> Search:
    t0 = time.monotonic()
    problem = problems.get("round_robin")
    return Search(
        problem,
        inp,
        threads=threads,
        seed=3,
        deadline=t0 + seconds,
        elapsed=lambda: time.monotonic() - t0,
        checkpoint=checkpoint,
    )


def test_a_traveling_tournament_is_recognised_by_its_constraints_alone():
    inp = tournament(6)
    assert travel.rules(inp) == travel.Rules(max_home=3, max_away=3, min_gap=1)
    soft = inp.constraints[0].model_copy(update={"type": "SOFT"})
    assert travel.rules(inp.model_copy(update={"constraints": [soft, *inp.constraints[1:]]})) is None
    assert travel.rules(inp.model_copy(update={"phased": True})) is None
    assert travel.rules(inp.model_copy(update={"distances": None})) is None
    ca1 = {"constraint": "CA1", "type": "HARD", "teams": [0], "slots": [0], "mode": "H", "max": 0}
    assert travel.rules(tournament(6, constraints=[ca1])) is None
    assert travel.rules(problems.get("round_robin").demos["league"]()) is None


def test_every_move_keeps_a_round_robin_counted_as_the_checker_counts_and_undoes_itself():
    inp = tournament(6)
    rule, rng = travel.rules(inp), random.Random(5)
    tour = travel.Tour(inp, rule, travel.to_rows(inp.n, circle_schedule(inp.n, False, rng)))
    ttsa.seed(5)
    kinds = set()
    for n in (6, 8):
        inp = tournament(n)
        tour = travel.Tour(inp, rule, travel.to_rows(inp.n, circle_schedule(inp.n, False, rng)))
        for step in range(3000):
            before = tour.rows
            move = ttsa.random_move(inp.n, inp.num_slots)
            if tour.step(*move):
                kinds.add(move[0])
            games = travel.to_games(tour.rows)
            assert read_games(inp, {"games": games})[1] == [], move
            hard, travelled = deviations(inp, games)
            assert travelled == tour.total_travel and (hard == 0) == (tour.total_breaks == 0), move
            if step % 2:
                tour.step(*move)
                assert tour.rows == before, move
                assert tour.total_travel == travel.Tour(inp, rule, before).total_travel, move
    assert kinds == set(range(ttsa.KINDS))


def test_annealing_alone_reaches_the_proved_optimum_of_a_small_tournament():
    inp = tournament(4)
    model, v = build(inp)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    assert solver.solve(model) == cp_model.OPTIMAL
    optimum = deviations(inp, extract(inp, v, solver.value)["games"])[1]
    ctx = context(inp, 3)
    rng = random.Random(1)
    best = travel.anneal(ctx, inp, travel.rules(inp), circle_schedule(inp.n, False, rng), rng)
    assert deviations(inp, best) == (0, optimum)
    assert ctx.incumbent()[1] == optimum and check(inp, ctx.incumbent()[0]).ok
    points = [p["objective"] for p in ctx.live.points if p["objective"] is not None]
    assert points == sorted(points, reverse=True)


def test_a_stop_ends_the_annealing_within_a_second_with_all_its_chains():
    problem = problems.get("round_robin")
    inp = tournament(8)
    ctx = context(inp, 60, threads=2)
    before = threading.active_count()
    thread = threading.Thread(target=problem.search, args=(ctx,))
    thread.start()
    waited = time.monotonic() + 30  # the short CP-SAT solve first (seconds on a loaded machine)
    while threading.active_count() < before + 2 and time.monotonic() < waited:
        time.sleep(0.1)
    time.sleep(1)
    assert threading.active_count() == before + 2  # the search's own chain and one more
    asked = time.monotonic()
    ctx.stop()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - asked < 1.0
    assert threading.active_count() == before
    solution, objective = ctx.incumbent()
    assert check(inp, solution).ok and deviations(inp, solution["games"]) == (0, objective)


def test_a_resumed_tournament_starts_from_its_checkpoint_and_never_loses_ground():
    problem = problems.get("round_robin")
    inp = tournament(6)
    first = context(inp, 2)
    problem.search(first)
    checkpoint, cost = first.incumbent()
    again = context(inp, 2, checkpoint=checkpoint)
    again.report(checkpoint)  # as the runner does
    problem.search(again)
    assert again.live.points[0]["objective"] == cost and again.incumbent()[1] <= cost
