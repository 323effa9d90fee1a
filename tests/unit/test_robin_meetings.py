"""The meetings-first construction: the meeting model keeps every HARD constraint that only counts who
meets whom, the venue model turns meetings into a double round robin, and no published best schedule
is cut off."""

from __future__ import annotations

import importlib
import time
from itertools import combinations

import pytest
from ortools.sat.python import cp_model

from app import problems
from app.problems.round_robin.check import check, deviations
from app.problems.round_robin.meetings import MeetingModel, assign_venues, find_meetings, meeting_only
from app.problems.round_robin.robinx import import_instance, import_solution
from app.problems.round_robin.schema import validate
from app.problems.round_robin.search import meetings_start
from tests.support import BENCHMARKS
from workers.runner import Search

TEAMS = ["A", "B", "C", "D", "E", "F"]
SLOTS = list(range(10))
GROUP = [0, 1, 2, 3]


def league(*constraints, phased=True):
    return validate({"teams": TEAMS, "phased": phased, "constraints": [{"type": "HARD", **c} for c in constraints]})


def context(inp, seconds: float) -> Search:
    t0 = time.monotonic()
    problem = problems.get("round_robin")
    return Search(problem, inp, threads=2, seed=1, deadline=t0 + seconds, elapsed=lambda: time.monotonic() - t0)


# the four teams of GROUP meet each other at most twice in the first two slots, at least once in slot 4
GROUP_LIMIT = {"constraint": "CA4", "teams1": GROUP, "teams2": GROUP, "slots": [0, 1], "mode1": "H",
               "mode2": "GLOBAL", "max": 2}  # fmt: skip
GROUP_FLOOR = {"constraint": "CA4", "teams1": GROUP, "teams2": GROUP, "slots": [4], "mode1": "HA",
               "mode2": "EVERY", "min": 1, "max": 2}  # fmt: skip
NO_EARLY_DERBY = {"constraint": "CA2", "teams1": [4], "teams2": [5], "slots": [0, 1, 2], "mode1": "HA", "max": 0}
HOSTS_FIRST = {"constraint": "GA1", "meetings": [[0, 5]], "slots": [0, 1], "min": 1, "max": 1}


def test_only_constraints_that_count_meetings_are_meeting_only():
    inp = league(
        GROUP_LIMIT,
        GROUP_FLOOR,
        NO_EARLY_DERBY,
        {"constraint": "CA2", "teams1": [4], "teams2": [5], "slots": [0], "mode1": "H", "max": 0},
        {"constraint": "CA4", "teams1": [0, 1], "teams2": [2, 3], "slots": [0], "mode1": "H", "mode2": "EVERY",
         "max": 1},
        {"constraint": "CA3", "teams1": [0], "teams2": [1, 2], "intp": 3, "mode1": "HA", "max": 1},
        HOSTS_FIRST,
        {"constraint": "BR1", "teams": [0], "slots": SLOTS, "mode2": "HA", "intp": 0},
    )  # fmt: skip
    assert [meeting_only(c) for c in inp.constraints] == [True, True, True, False, False, True, False, False]


def _meetings(model: MeetingModel, solver: cp_model.CpSolver) -> dict[tuple[int, int], list[int]]:
    out: dict[tuple[int, int], list[int]] = {}
    for (i, j, s), var in model.meet.items():
        if solver.value(var):
            out.setdefault((i, j), []).append(s)
    return out


def test_the_meeting_model_keeps_the_round_robin_phases_and_the_limits_on_meetings():
    inp = league(GROUP_LIMIT, GROUP_FLOOR, NO_EARLY_DERBY, HOSTS_FIRST)
    mm = MeetingModel(inp)
    for seed in range(3):
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        assert solver.status_name(solver.solve(mm.model)) == "OPTIMAL"
        met = _meetings(mm, solver)
        assert sorted(met) == list(combinations(range(6), 2))
        assert all(len(slots) == 2 and slots[0] < 5 <= slots[1] for slots in met.values())  # once per half
        for s in SLOTS:  # everyone plays once per slot
            assert sorted(t for (i, j), slots in met.items() if s in slots for t in (i, j)) == list(range(6))
        inside = [s for (i, j), slots in met.items() if i in GROUP and j in GROUP for s in slots]
        assert sum(s < 2 for s in inside) <= 2 and 1 <= inside.count(4) <= 2
        assert all(s > 2 for s in met[4, 5])
        assert any(s in (0, 1) for s in met[0, 5])  # GA1: 0 hosts 5 in slot 0 or 1, so they meet there


def test_an_impossible_limit_on_meetings_leaves_no_meetings():
    # four teams, six games among them, none in the five slots of the first half: impossible when phased
    inp = league({"constraint": "CA4", "teams1": GROUP, "teams2": GROUP, "slots": list(range(5)), "mode1": "HA",
                  "mode2": "GLOBAL", "max": 0})  # fmt: skip
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.status_name(solver.solve(MeetingModel(inp).model)) == "INFEASIBLE"


def test_venues_make_the_meetings_a_checked_double_round_robin():
    inp = league(GROUP_LIMIT, GROUP_FLOOR, NO_EARLY_DERBY, HOSTS_FIRST)
    ctx = context(inp, 30)
    meetings = find_meetings(ctx, inp, 10)
    assert meetings is not None
    games, hard = assign_venues(ctx, inp, meetings, 10)
    held = {(i, j, s) for (i, j), slots in meetings.items() for s in slots}
    assert {(min(h, a), max(h, a), s) for h, a, s in games} == held
    assert check(inp, {"games": [list(g) for g in games]}).ok
    assert hard == deviations(inp, games)[0] == 0


ITC = BENCHMARKS / "sports_itc2021"
NAMES = sorted(p.stem for p in (ITC / "instances").glob("*.xml")) if ITC.is_dir() else []


@pytest.mark.skipif(not NAMES, reason="needs ../shared/benchmarks/sports_itc2021")
@pytest.mark.parametrize("name", NAMES)
def test_the_meetings_of_every_published_best_schedule_satisfy_the_meeting_model(name):
    """The meeting model cuts off no feasible timetable: the meetings of the 40 best known keep."""
    inp = import_instance((ITC / "instances" / f"{name}.xml").read_text())
    solution, _ = import_solution((ITC / "solutions" / f"{name}.xml").read_text())
    mm = MeetingModel(inp)
    held = {(min(h, a), max(h, a), s) for h, a, s in solution["games"]}
    for key, var in mm.meet.items():
        mm.model.add(var == int(key in held))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.status_name(solver.solve(mm.model)) == "OPTIMAL"


def test_without_the_direct_try_and_the_pattern_start_the_search_goes_meetings_first(monkeypatch):
    search_module = importlib.import_module("app.problems.round_robin.search")  # the package's `search` is the function

    monkeypatch.setattr(search_module, "direct_feasible", lambda ctx, inp: None)
    monkeypatch.setattr(search_module, "pattern_start", lambda ctx, inp, rng: None)
    started = []
    monkeypatch.setattr(search_module, "meetings_start", lambda ctx, inp: started.append(1) or meetings_start(ctx, inp))
    inp = league(GROUP_LIMIT, GROUP_FLOOR, NO_EARLY_DERBY, HOSTS_FIRST)
    ctx = context(inp, 15)
    problems.get("round_robin").search(ctx)
    solution, objective = ctx.incumbent()
    assert started and check(inp, solution).ok and objective == 0
