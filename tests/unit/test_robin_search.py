"""The round-robin search strategy under the runner's SearchContext: feasible first, then better; it
claims OPTIMAL only when it is proved, and it returns promptly when stopped."""

from __future__ import annotations

import random
import threading
import time

from app import problems
from app.problems.round_robin.check import check, deviations
from app.problems.round_robin.search import circle_schedule
from workers.runner import Search


def context(inp, seconds: float) -> Search:
    t0 = time.monotonic()
    problem = problems.get("round_robin")
    return Search(problem, inp, threads=2, seed=1, deadline=t0 + seconds, elapsed=lambda: time.monotonic() - t0)


def test_the_circle_method_gives_a_phased_double_round_robin():
    inp = problems.get("round_robin").demos["league"]()
    for seed in range(3):
        assert check(inp, {"games": [list(g) for g in circle_schedule(8, True, random.Random(seed))]}).ok is not None
        games = circle_schedule(8, True, random.Random(seed))
        assert not check(inp.model_copy(update={"constraints": []}), {"games": [list(g) for g in games]}).violations


def test_the_demo_league_gets_a_feasible_timetable_that_only_improves():
    problem = problems.get("round_robin")
    inp = problem.demos["league"]()
    ctx = context(inp, 20)
    claimed = problem.search(ctx)
    solution, objective = ctx.incumbent()
    assert check(inp, solution).ok and deviations(inp, solution["games"]) == (0, objective)
    points = [p["objective"] for p in ctx.live.points if p["objective"] is not None]
    assert points == sorted(points, reverse=True) and len(points) >= 1
    assert claimed in (None, "OPTIMAL")


def test_a_stop_request_ends_the_search_within_a_sub_solve():
    problem = problems.get("round_robin")
    inp = problem.demos["large_league"]()
    ctx = context(inp, 120)
    thread = threading.Thread(target=problem.search, args=(ctx,))
    thread.start()
    time.sleep(3)  # let it get into its sub-solves
    asked = time.monotonic()
    ctx.stop()
    thread.join(30)
    assert not thread.is_alive() and time.monotonic() - asked < 10


def test_contradictory_hard_constraints_are_proved_infeasible():
    from app.problems.round_robin.schema import validate

    inp = validate(
        {
            "teams": ["A", "B", "C", "D"],
            "constraints": [  # team 0 may neither host nor visit anyone in slot 0
                {"constraint": "CA1", "type": "HARD", "teams": [0], "slots": [0], "mode": m, "max": 0}
                for m in ("H", "A")
            ],
        }
    )
    ctx = context(inp, 20)
    assert problems.get("round_robin").search(ctx) == "INFEASIBLE" and ctx.incumbent() is None
