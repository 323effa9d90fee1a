"""The search strategy: a valid start, then the search that suits the league.

A plain CP-SAT model of a whole ITC2021 instance rarely finds any feasible timetable in two minutes:
the hard constraints interlock over the whole season. So, as the competition's leaders did:

0. A short CP-SAT run on the HARD constraints alone (enough on loosely constrained leagues).
1. Else a valid double round robin to start from: home/away pattern first (pattern.py: the venues under
   every constraint that only counts venues, plus what the others imply for them), then the opponents
   for those venues with the HARD constraints relaxed; the least broken of a few patterns. If that is
   not feasible yet, also the other way round (meetings.py): who meets whom when, under every HARD limit
   on meetings, then who hosts; the least broken of both starts. The circle method (phased if needed,
   teams shuffled) is the fallback.
2. A league of more than 8 teams is then annealed (itc_anneal.py): TTSA's moves on whole timetables,
   first on the HARD deviation alone until every HARD constraint holds, then on the SOFT penalty with a
   weight on HARD deviation. Measured against the fix-and-optimise below on the same instances, it found
   timetables the repair did not and cost 25-45 % less.
3. A league of up to 8 teams: feasibility by fix-and-optimise on the model with HARD constraints relaxed
   (their deviation minimised): repeatedly free a neighbourhood of the timetable (some slots, some teams,
   the venues of some teams' games), fix the rest to the incumbent, and let CP-SAT re-solve the small
   part; then the same neighbourhoods on the full model, and a whole-model solve that can prove the
   optimum. Neighbourhood sizes adapt: a part solved to optimality quickly grows, one that times out
   shrinks.

Every timetable goes to the runner (`ctx.report`), which checks it. Nothing depends on an instance's
name; only the input's size and the time left steer the search.

A traveling tournament (travel minimised under run limits and separations only, see travel.rules) takes
another path: a short whole-model solve, which proves a 4-team league at once, then simulated annealing
on whole timetables (travel.py) for the time left.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from app.problems.base import SearchContext
from app.problems.round_robin import itc_anneal
from app.problems.round_robin.check import DEVIATIONS, Timetable, deviations
from app.problems.round_robin.meetings import assign_venues, find_meetings, meeting_only
from app.problems.round_robin.model import Vars, build, extract, hint
from app.problems.round_robin.pattern import assign_opponents, find_pattern, pattern_of
from app.problems.round_robin.schema import Input
from app.problems.round_robin.travel import Rules as TravelRules
from app.problems.round_robin.travel import anneal
from app.problems.round_robin.travel import rules as travel_rules

Game = tuple[int, int, int]
log = logging.getLogger(__name__)
NEIGHBOURHOOD_SECONDS = 10.0  # wall-clock backstop of one sub-solve
NEIGHBOURHOOD_DTIME = 1.5  # CP-SAT deterministic time of one sub-solve: short keeps the search moving
DIRECT_SHARE, DIRECT_DTIME = 0.05, 10.0  # the first try on the HARD constraints alone: time share, work cap
START_TRIES, START_SECONDS = 40, 1.5  # circle-method starts to pick the least broken from
HAP_TRIES = 4  # home/away patterns tried for the start (each: a pattern, then its opponents)
HAP_PATTERN_SHARE, HAP_OPPONENT_SHARE = 0.05, 0.08  # of the time left, per pattern / opponent solve
MEETINGS_SHARE, VENUES_SHARE = 0.15, 0.08  # of the time left: the meetings-first start (meetings.py)
PATTERN_KEEP_SHARE = 0.0  # of the time left, spent repairing with the start's venues kept
SMALL_LEAGUE = 8  # teams; up to this the whole model is small enough to try to prove optimality
LNS_SHARE = 0.4  # of a small league's time, spent on fix-and-optimise before the whole-model solve
FOCUS = 0.7  # share of neighbourhoods seeded from a charged constraint
KINDS = ("slots", "teams", "venues")
TTP_PROOF_SHARE, TTP_PROOF_DTIME = 0.1, 1.0  # a traveling tournament's first whole-model solve: time share, work cap


def circle_schedule(n: int, phased: bool, rng: random.Random) -> list[Game]:
    """A double round robin by the circle method; the second half mirrors the first (so it is phased)."""
    labels = list(range(n))
    rng.shuffle(labels)
    games = []
    for r in range(n - 1):
        pairs = [(n - 1, r) if r % 2 == 0 else (r, n - 1)]
        for k in range(1, n // 2):
            a, b = (r + k) % (n - 1), (r - k) % (n - 1)
            pairs.append((a, b) if k % 2 else (b, a))
        for h, a in pairs:
            games.append((labels[h], labels[a], r))
            games.append((labels[a], labels[h], r + n - 1))
    return games


def best_circle(ctx: SearchContext, inp: Input, rng: random.Random) -> list[Game]:
    """Of a few circle-method schedules (teams shuffled, venues maybe swapped), the one that breaks least."""
    best, best_dev = None, None
    until = time.monotonic() + START_SECONDS
    for k in range(START_TRIES):
        games = circle_schedule(inp.n, inp.phased, rng)
        if k % 2:
            games = [(a, h, s) for h, a, s in games]
        dev = deviations(inp, games)[0]
        if best_dev is None or dev < best_dev:
            best, best_dev = games, dev
        if ctx.stopped() or time.monotonic() > until:
            break
    return best


def pattern_start(ctx: SearchContext, inp: Input, rng: random.Random) -> list[Game] | None:
    """The least broken timetable of a few home/away patterns, each with its best opponents (pattern.py).

    Each pattern solve is hinted with the venues of a fresh circle-method schedule, so they differ."""
    cuts: list = []
    best, best_dev = None, None
    for _ in range(HAP_TRIES):
        if ctx.stopped():
            break
        near = pattern_of(inp, circle_schedule(inp.n, inp.phased, rng))
        pattern = find_pattern(ctx, inp, ctx.remaining() * HAP_PATTERN_SHARE, cuts, near=near)
        if pattern is None:
            break
        cuts.append(pattern)
        found = assign_opponents(ctx, inp, pattern, ctx.remaining() * HAP_OPPONENT_SHARE)
        if found is None:
            continue
        games, _ = found
        dev = deviations(inp, games)[0]
        if best_dev is None or dev < best_dev:
            best, best_dev = games, dev
        if dev == 0:
            break
    return best


def meetings_start(ctx: SearchContext, inp: Input) -> list[Game] | None:
    """Who meets whom when first (under the HARD limits on meetings), then who hosts (meetings.py)."""
    meetings = find_meetings(ctx, inp, ctx.remaining() * MEETINGS_SHARE)
    if meetings is None or ctx.stopped():
        return None
    found = assign_venues(ctx, inp, meetings, ctx.remaining() * VENUES_SHARE)
    return found[0] if found else None


def first_timetable(ctx: SearchContext, inp: Input, rng: random.Random) -> list[Game]:
    """The timetable the repair starts from: the least broken of the home/away-pattern-first
    construction and, unless that one already meets every HARD constraint and if some HARD constraint
    limits meetings, the meetings-first one; else the circle method."""
    starts = [(deviations(inp, g)[0], g) for g in [pattern_start(ctx, inp, rng)] if g is not None]
    limits_meetings = any(con.type == "HARD" and meeting_only(con) for con in inp.constraints)
    if limits_meetings and (not starts or starts[0][0] > 0):
        starts += [(deviations(inp, g)[0], g) for g in [meetings_start(ctx, inp)] if g is not None]
    if not starts:
        circle = best_circle(ctx, inp, rng)
        starts = [(deviations(inp, circle)[0], circle)]
    hard, games = min(starts, key=lambda start: start[0])
    log.debug("start hard=%d", hard)
    return games


@dataclass
class Sizes:
    """Current size of each neighbourhood kind, adapted to how its sub-solves end."""

    value: dict[str, int] = field(default_factory=dict)

    def get(self, kind: str, lo: int, hi: int) -> int:
        return max(lo, min(hi, self.value.setdefault(kind, lo + 1)))

    def adapt(self, kind: str, status: str, wall: float, limit: float, lo: int, hi: int) -> None:
        size = self.value.get(kind, lo + 1)
        if status == "OPTIMAL" and wall < limit / 4:
            size += 1
        elif status != "OPTIMAL":
            size -= 1
        self.value[kind] = max(lo, min(hi, size))


def hotspots(inp: Input, games: list[Game], hard: bool) -> list[tuple[int, list[int], list[int]]]:
    """(cost, teams, slots) of every charged part of a HARD (or SOFT) constraint: where to look next."""
    tt = Timetable(inp.n, inp.num_slots, games)
    out = []
    for con in inp.constraints:
        if (con.type == "HARD") != hard or not (hard or con.penalty):
            continue
        deviation, parts = DEVIATIONS[con.constraint](con, tt)
        if deviation:
            out += [(dev * (1 if hard else con.penalty), teams, slots) for dev, teams, slots in parts]
    return out


def pick_free(
    inp: Input, games: list[Game], kind: str, size: int, rng: random.Random, spot: tuple | None = None
) -> set[Game]:
    """The x-variables a neighbourhood frees; every other game stays where the incumbent has it.

    `spot` (cost, teams, slots) of a charged constraint seeds the choice, so the part that costs is freed."""
    n, num_slots = inp.n, inp.num_slots
    if kind == "slots":
        seed_slots = list(spot[2])[:size] if spot else []
        if rng.random() < 0.5 or seed_slots:
            centre = rng.choice(seed_slots) if seed_slots else rng.randrange(num_slots)
            start = max(0, min(num_slots - size, centre - rng.randrange(size)))
            slots = set(range(start, start + size))
        else:
            slots = set(rng.sample(range(num_slots), size))
        slots |= set(seed_slots[: max(0, size - len(slots))])
        return {(h, a, s) for h in range(n) for a in range(n) if h != a for s in slots}
    teams = set(rng.sample(list(spot[1]), min(size, len(spot[1])))) if spot else set()
    teams |= set(rng.sample([t for t in range(n) if t not in teams], max(0, size - len(teams))))
    if kind == "teams":
        return {
            (h, a, s)
            for h in range(n)
            for a in range(n)
            if h != a and (h in teams or a in teams)
            for s in range(num_slots)
        }
    # venues: the games of these teams stay in their slots, but either side may host
    free = set()
    for h, a, s in games:
        if h in teams or a in teams:
            free |= {(h, a, s), (a, h, s)}
    return free


def neighbourhood(model: cp_model.CpModel, v: Vars, games: set[Game], free: set[Game]) -> cp_model.CpModel:
    """A copy of `model` with every x outside `free` fixed to the incumbent, and the incumbent hinted."""
    sub = model.clone()
    if not v.negated:
        v.negated = {key: ~var for key, var in v.x.items()}
    fixed, hint_vars, hint_values = [], [], []
    for key, var in v.x.items():
        if key in free:
            hint_vars.append(var.index)
            hint_values.append(int(key in games))
        else:  # one constraint for all: presolve fixes them at once (cheaper than editing each domain)
            fixed.append(var if key in games else v.negated[key])
    sub.add_bool_and(fixed)
    sub.proto.solution_hint.vars.extend(hint_vars)
    sub.proto.solution_hint.values.extend(hint_values)
    return sub


def _extractor(v: Vars, games: set[Game], free: set[Game], devs: list | None = None):
    fixed = [list(g) for g in games if g not in free]
    free_vars = [(key, v.x[key]) for key in free]

    def extract(value) -> dict:
        solution = {"games": fixed + [list(key) for key, var in free_vars if value(var)]}
        if devs is not None:
            solution["devs"] = [value(d) for d in devs]
        return solution

    return extract


class Moves:
    """Picks the next neighbourhood: its kind, size (adapted) and what it frees."""

    def __init__(self, inp: Input, rng: random.Random, hard: bool, kinds: tuple[str, ...] = KINDS):
        self.inp, self.rng, self.hard, self.sizes, self.kinds = inp, rng, hard, Sizes(), kinds
        self.limits = {"slots": (2, inp.num_slots // 2), "teams": (2, inp.n // 2), "venues": (2, inp.n)}

    def pick(self, games: list[Game]) -> tuple[str, int, set[Game]]:
        kind = self.rng.choice(self.kinds)
        size = self.sizes.get(kind, *self.limits[kind])
        spots = hotspots(self.inp, games, self.hard) if self.rng.random() < FOCUS else []
        spot = self.rng.choices(spots, weights=[c for c, _, _ in spots])[0] if spots else None
        return kind, size, pick_free(self.inp, games, kind, size, self.rng, spot)

    def adapt(self, kind: str, result: Any) -> None:
        try:
            spent = result.solver.deterministic_time
        except (AttributeError, RuntimeError):  # the solve never started (stopped before it)
            return
        self.sizes.adapt(kind, result.status, spent, NEIGHBOURHOOD_DTIME, *self.limits[kind])


def _sub_solve(ctx: SearchContext, sub, extract, report: bool):
    params = {"max_deterministic_time": NEIGHBOURHOOD_DTIME}  # the same work on a loaded machine
    limit = min(NEIGHBOURHOOD_SECONDS, ctx.remaining())
    return ctx.solve(sub, extract, time_limit=limit, params=params, full=False, report=report)


class Infeasible(Exception):
    """CP-SAT proved that no timetable meets every HARD constraint."""


def direct_feasible(ctx: SearchContext, inp: Input) -> list[Game] | None:
    """A short CP-SAT run on the HARD constraints alone: on loosely constrained leagues it is the fastest way.

    That model is the whole feasibility problem, so its proof of infeasibility is the problem's."""
    model, v = build(inp, soft=False)
    params = {"stop_after_first_solution": True, "max_deterministic_time": DIRECT_DTIME}
    result = ctx.solve(
        model,
        lambda value: extract(inp, v, value),
        time_limit=ctx.remaining() * DIRECT_SHARE,
        params=params,
        full=False,
        report=False,
    )
    log.debug("direct: %s %.1fs", result.status, result.wall_time)
    if result.status == "INFEASIBLE":
        raise Infeasible
    return [tuple(g) for g in result.solution["games"]] if result.solution else None


def repair(ctx: SearchContext, inp: Input, games: list[Game], rng: random.Random) -> list[Game] | None:
    """make_feasible, first (for a share of the time) with the venues of `games` kept, then free."""
    if PATTERN_KEEP_SHARE > 0:
        games = make_feasible(ctx, inp, games, rng, keep_venues=True, seconds=ctx.remaining() * PATTERN_KEEP_SHARE)
        if games is None:
            return None
    return make_feasible(ctx, inp, games, rng)


def make_feasible(
    ctx: SearchContext,
    inp: Input,
    games: list[Game],
    rng: random.Random,
    keep_venues: bool = False,
    seconds: float | None = None,
) -> list[Game] | None:
    """Drive the total deviation of HARD constraints to 0 by fix-and-optimise on the relaxed model.

    Breakout: a constraint that stays broken weighs more each time a neighbourhood fails to repair
    it, so the search leaves plateaus instead of circling on them. None if stopped first.
    keep_venues: every team keeps its home/away pattern (only opponents move); `seconds`: give up
    then and return the least broken timetable so far."""
    model, v = build(inp, relaxed=True, soft=False)
    if keep_venues:
        for t, row in enumerate(pattern_of(inp, games)):
            for s, at_home in enumerate(row):
                model.add(v.home[t][s] == at_home)
    until = None if seconds is None else time.monotonic() + seconds
    moves = Moves(inp, rng, hard=True, kinds=("slots", "teams") if keep_venues else KINDS)
    weights = [1] * len(v.hard_terms)
    current, value, devs = list(games), deviations(inp, games)[0], None
    while value > 0:
        if ctx.stopped():
            return None
        if until is not None and time.monotonic() > until:
            return current
        kind, size, free = moves.pick(current)
        played = set(current)
        sub = neighbourhood(model, v, played, free)
        sub.minimize(sum(w * d for w, d in zip(weights, v.hard_terms, strict=True)))
        result = _sub_solve(ctx, sub, _extractor(v, played, free, v.hard_terms), report=False)
        moves.adapt(kind, result)
        if result.solution is None:
            continue
        new_devs = result.solution["devs"]
        weighted = sum(w * d for w, d in zip(weights, new_devs, strict=True))
        if devs is not None and weighted > sum(w * d for w, d in zip(weights, devs, strict=True)):
            continue  # the sub-solve did not even get back to the incumbent
        candidate = [tuple(g) for g in result.solution["games"]]
        new = deviations(inp, candidate)[0]
        log.debug("feas %s %d: %s %.1fs -> %s (was %s)", kind, size, result.status, result.wall_time, new, value)
        if new >= value:
            weights = [w + (d > 0) for w, d in zip(weights, new_devs, strict=True)]
        current, value, devs = candidate, new, new_devs
    return current


def improve(ctx: SearchContext, inp: Input, games: list[Game], rng: random.Random, seconds: float) -> list[Game]:
    """Fix-and-optimise the objective from a feasible `games` for `seconds` (or until stopped)."""
    model, v = build(inp)
    moves = Moves(inp, rng, hard=False)
    current, value = list(games), deviations(inp, games)[1]
    until = time.monotonic() + seconds
    while not ctx.stopped() and time.monotonic() < until and value > 0:
        kind, size, free = moves.pick(current)
        played = set(current)
        sub = neighbourhood(model, v, played, free)
        result = _sub_solve(ctx, sub, _extractor(v, played, free), report=True)
        moves.adapt(kind, result)
        if result.solution is None:
            continue
        candidate = [tuple(g) for g in result.solution["games"]]
        hard, new = deviations(inp, candidate)
        log.debug("opt %s %d: %s %.1fs -> %s (was %s)", kind, size, result.status, result.wall_time, new, value)
        if hard == 0 and new <= value:  # sideways moves too: they keep the search from stalling on plateaus
            current, value = candidate, new
    return current


def prove(ctx: SearchContext, inp: Input, games: list[Game]) -> str | None:
    """One CP-SAT solve of the whole model from the incumbent: on a small league it can prove optimality."""
    model, v = build(inp)
    hint(model, v, inp, {"games": [list(g) for g in games]})
    result = ctx.solve(model, lambda value: extract(inp, v, value), time_limit=ctx.remaining(), full=True)
    return "OPTIMAL" if result.status == "OPTIMAL" else None


def traveling_tournament(ctx: SearchContext, inp: Input, rule: TravelRules, rng: random.Random) -> str | None:
    """A short whole-model solve (it proves the optimum of a 4-team league at once), then annealing (travel.py)."""
    start = ctx.incumbent()
    if start is None and inp.n <= SMALL_LEAGUE:
        model, v = build(inp)
        params = {"max_deterministic_time": TTP_PROOF_DTIME}
        limit = ctx.remaining() * TTP_PROOF_SHARE
        result = ctx.solve(model, lambda value: extract(inp, v, value), time_limit=limit, params=params)
        if result.status in ("OPTIMAL", "INFEASIBLE"):
            return result.status
        start = ctx.incumbent()
    games = [tuple(g) for g in start[0]["games"]] if start else circle_schedule(inp.n, False, rng)
    anneal(ctx, inp, rule, games, rng, chains=max(1, ctx.threads))
    return None


def search(ctx: SearchContext) -> str | None:
    """A league of more than 8 teams: a start, then annealing (itc_anneal.py). Up to 8 teams: feasibility
    first (relaxed HARD constraints), then fix-and-optimise and a whole-model solve. A traveling tournament
    (only run limits and separations, travel minimised) is annealed (travel.py). See the module doc."""
    inp: Input = ctx.inp
    rng = random.Random(ctx.seed)
    rule = travel_rules(inp)
    if rule is not None:
        return traveling_tournament(ctx, inp, rule, rng)
    start = ctx.incumbent()
    small = inp.n <= SMALL_LEAGUE  # fix-and-optimise gets close fast, then the whole model can close the gap
    if not small:
        if start is not None:
            games = [tuple(g) for g in start[0]["games"]]
        else:
            try:
                games = direct_feasible(ctx, inp) or first_timetable(ctx, inp, rng)
            except Infeasible:
                return "INFEASIBLE"
        best = itc_anneal.anneal(ctx, inp, games, rng, chains=max(1, ctx.threads))
        return "OPTIMAL" if best is not None and deviations(inp, best)[1] == 0 else None
    if start is not None:
        games = [tuple(g) for g in start[0]["games"]]
    else:
        try:
            games = direct_feasible(ctx, inp) or repair(ctx, inp, first_timetable(ctx, inp, rng), rng)
        except Infeasible:
            return "INFEASIBLE"
        if games is None:
            return None
        ctx.report({"games": [list(g) for g in games]})
    games = improve(ctx, inp, games, rng, ctx.remaining() * LNS_SHARE)
    if deviations(inp, games)[1] == 0:
        return "OPTIMAL"  # nothing is charged: no timetable can cost less
    if ctx.stopped():
        return None
    best = ctx.incumbent()
    return prove(ctx, inp, [tuple(g) for g in best[0]["games"]] if best else games)


__all__ = ["circle_schedule", "search"]
