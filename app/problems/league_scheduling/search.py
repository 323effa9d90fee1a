"""The league's search strategy: pairings, then a greedy season, then dates and slots improved in turns.

Measured on the 200-team demo (2 workers, loaded machine, first home/away formulation): one CP-SAT
model of all dates (33k variables) spent 10-20 s in presolve before its first solution and then barely
improved, while two divisions' dates (~50 games, 3k variables) mostly solve to optimality in 1-2 s.
Divisions only interact through shared venues and date capacity, so the dates are improved a few
divisions at a time (a large-neighbourhood search whose neighbourhoods are divisions, the rest of the
season fixed as constants), and the slots (venue, field, kick-off) are optimised for the whole season
between passes. Every complete schedule goes to ctx.report(); cancel and deadline stop whichever
stage runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from app.problems.league_scheduling import construct, games, model, slots
from app.problems.league_scheduling.model import Plan
from app.problems.league_scheduling.season import Calendar

GAMES_PER_NEIGHBOURHOOD = 60
NEIGHBOURHOOD_SECONDS = 2.0
MAX_NEIGHBOURHOOD_SECONDS = 8.0
PAIRING_SECONDS = 5.0
# Probing spent seconds in presolve for no gain (medium demo: first solution at 1.2 s instead of none
# in 10 s; measured with the earlier automaton for home/away runs).
DATE_PARAMS = {"cp_model_probing_level": 0}


def search(ctx: Any) -> str | None:
    """Stages 1-3 as one run; returns None (no claim of optimality for the whole season)."""
    inp = ctx.inp
    cal = Calendar(inp)
    try:
        season_games = games.from_schedule(inp, cal, ctx.checkpoint) or games.choose(
            inp, cal, solve=_stage_solver(ctx, PAIRING_SECONDS)
        )
    except games.PairingsInfeasible:
        return "INFEASIBLE"
    if ctx.stopped():
        return None
    state = _State(inp, cal, season_games)
    state.plan = model.plan_from_solution(cal, season_games, ctx.checkpoint) or construct.greedy_plan(cal, season_games)
    state.assignment = slots.greedy(cal, season_games, state.plan)
    ctx.report(state.schedule())
    _improve_slots(ctx, state)  # cheap (about a second), and it is where travel and kick-offs are won
    rounds = 0
    while not ctx.stopped():
        improved = _improve_dates(ctx, state, rounds)
        if ctx.stopped():
            break
        _improve_slots(ctx, state)
        rounds += 1
        # Give up on the dates only when a pass with the longest neighbourhood time found nothing.
        if not improved and NEIGHBOURHOOD_SECONDS * rounds >= MAX_NEIGHBOURHOOD_SECONDS:
            _improve_slots(ctx, state, time_limit=ctx.remaining())  # dates have settled: slots get the rest
            break
    return None


class _State:
    def __init__(self, inp: Any, cal: Calendar, season_games: list[games.Game]):
        self.inp, self.cal, self.games = inp, cal, season_games
        self.plan: Plan = {}
        self.assignment: slots.Assignment = {}

    def schedule(self, plan: Plan | None = None, assignment: slots.Assignment | None = None) -> dict:
        plan = self.plan if plan is None else plan
        return slots.schedule(self.cal, self.games, plan, self.assignment if assignment is None else assignment)


def _stage_solver(ctx: Any, seconds: float) -> Callable:
    def solve(cp_model: Any, extract: Callable) -> dict | None:
        # One worker: these models are tiny, and the same input then gets the same pairings.
        result = ctx.solve(
            cp_model, extract, time_limit=min(seconds, ctx.remaining()), threads=1, full=False, report=False
        )
        return result.solution

    return solve


def neighbourhoods(inp: Any, season_games: list[games.Game], turn: int) -> list[set[int]]:
    """Groups of whole divisions (~60 games each); each turn shifts the groups by half a group."""
    by_division: dict[str | None, list[int]] = {}
    for g, game in enumerate(season_games):
        by_division.setdefault(game.division, []).append(g)
    order = [d.id for d in inp.divisions] + ([None] if None in by_division else [])
    per_group = max(1, round(GAMES_PER_NEIGHBOURHOOD / max(1, len(season_games) / max(1, len(order)))))
    shift = (turn * per_group // 2) % len(order)
    order = order[shift:] + order[:shift]
    groups = [order[i : i + per_group] for i in range(0, len(order), per_group)]
    return [{g for d in group for g in by_division.get(d, [])} for group in groups]


def _improve_dates(ctx: Any, state: _State, turn: int) -> bool:
    """One pass over the neighbourhoods: re-date each with the rest fixed. True if the dates got better."""
    improved = False
    groups = neighbourhoods(state.inp, state.games, turn)
    # Where games are still unplaced first: that is where most of the cost is.
    groups.sort(key=lambda free: -sum(1 for g in free if g not in state.plan))
    for free in groups:
        if ctx.stopped():
            break
        fixed = {g: where for g, where in state.plan.items() if g not in free}
        date_model, v = model.build(state.inp, state.games, free=free, fixed=fixed)
        model.hint_plan(date_model, v, {g: state.plan[g] for g in free if g in state.plan})
        before = model.objective_of(date_model, v, state.plan)
        found: dict[str, Plan] = {}

        def extract(value, v=v, found=found) -> dict:
            found["plan"] = model.plan_of(v, value)
            return state.schedule(found["plan"], slots.greedy(state.cal, state.games, found["plan"]))

        # Most neighbourhoods are solved (or as good as they get) within a second or two; later passes
        # give the harder ones longer.
        seconds = min(NEIGHBOURHOOD_SECONDS * (turn + 1), MAX_NEIGHBOURHOOD_SECONDS)
        result = ctx.solve(date_model, extract, time_limit=seconds, params=DATE_PARAMS, full=False)
        if result.solution is not None and result.objective is not None and result.objective < before:
            state.plan = found["plan"]
            state.assignment = slots.greedy(state.cal, state.games, state.plan)
            improved = True
    return improved


def _improve_slots(ctx: Any, state: _State, time_limit: float | None = None) -> None:
    """Venue, field and kick-off of every dated game, optimised over the season."""
    started = time.monotonic()
    slot_model, sv = slots.build_slots(state.inp, state.cal, state.games, state.plan)
    slots.hint_slots(slot_model, sv, state.assignment)
    limit = time_limit if time_limit is not None else max(2.0, 2 * (time.monotonic() - started) + 5.0)
    plan = dict(state.plan)
    result = ctx.solve(
        slot_model,
        lambda value: state.schedule(plan, slots.extract_slots(sv, value)),
        time_limit=limit,
        full=False,
    )
    if result.solution is not None:
        state.assignment = slots.extract_slots(sv, result.solver.value)
