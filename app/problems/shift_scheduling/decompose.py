"""Re-roster a few people at a time: a large-neighbourhood search that splits the roster by person.

Cover is the only rule that links people; every other rule (days off, rest, limits, stretches,
weekends, requests) is one person's own. So the roster of a few people, everyone else's kept, is itself
a shift-scheduling problem: the same input with only those people and their requests, each cover
requirement lowered by the others already on that shift (`sub_input`). Its penalty differs from the
whole roster's by a constant, so a cheaper sub-roster is a cheaper roster.

Such a sub-problem is small: it is built, presolved and usually solved to optimality in milliseconds,
where fixing cells of the whole model makes CP-SAT presolve the whole roster for every neighbourhood.

The strategy (`search`):
1. A whole-model solve for a share of the time (both CP-SAT workers, the type's parameters): a first
   roster within a second or two, and a proof of optimality for the small rosters.
2. Phases of `phase_seconds`: lanes (one per CP-SAT worker), each re-rostering a group of people over
   a window of days (`Neighbourhoods`) again and again, with a single-worker solve hinted with their
   current rows. A lane's result is merged into the shared roster only if the merged roster costs no
   more (the other lane may have moved meanwhile); equal cost is accepted, so the search walks along
   plateaus. The group size adapts: solved to optimality quickly, it grows; out of time, it shrinks.
   After each phase, a short whole-model solve from the best roster (its bound, and moves across all
   people at once).
3. Every strictly better roster goes to the runner (`ctx.report`), which re-checks it independently.

Not the default: see README, "How a roster is searched", for how it measured against one whole-model solve.

Only the input's size and the time left steer the search, never an instance's name.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from ortools.sat.python import cp_model

from app.problems.shift_scheduling.check import check
from app.problems.shift_scheduling.model import ShiftVars, build, extract, hint
from app.problems.shift_scheduling.schema import Input

Roster = dict[str, list[str | None]]


@dataclass(frozen=True)
class Settings:
    """How the search spends its time; the same for every roster (never chosen per instance)."""

    start_share: float = 0.15  # of the time limit, for the first whole-model solve
    start_min: float = 3.0  # seconds: the least the first solve gets, so small rosters can be proved
    sub_seconds: float = 2.0  # wall-clock cap of one group's solve
    sub_dtime: float = 0.5  # CP-SAT deterministic-time cap of one group's solve
    min_group: int = 2  # people
    first_cells: int = 150  # person-days re-rostered together at first; adapts
    lanes: int = 0  # group solves at a time; 0 = one per CP-SAT worker of the run
    phase_seconds: float = 10.0  # groups for this long, then the whole model from the best roster
    whole_seconds: float = 4.0


def sub_input(inp: Input, people: list[int], roster: Roster) -> Input:
    """The problem of re-rostering `people` (positions in inp.staff) with everyone else's rows kept."""
    ids = {inp.staff[p].id for p in people}
    return lowered(inp, people, on_shift(row for who, row in roster.items() if who not in ids))


def on_shift(rows: Iterable[list[str | None]]) -> Counter:
    """(day, shift id) -> how many of `rows` work it."""
    return Counter((day, shift) for row in rows for day, shift in enumerate(row) if shift)


def lowered(inp: Input, people: list[int], others: Counter) -> Input:
    """`inp` with only `people` (positions in inp.staff) and their requests, each cover requirement lowered
    by `others` (from `on_shift`): the people on each shift already."""
    return cover_lowered(only(inp, people), others)


def only(inp: Input, people: list[int]) -> Input:
    """`inp` with only `people` (positions in inp.staff) and their requests; the cover as it is."""
    ids = {inp.staff[p].id for p in people}
    return inp.model_copy(
        update={
            "staff": [inp.staff[p] for p in people],
            "shift_on_requests": [r for r in inp.shift_on_requests if r.staff in ids],
            "shift_off_requests": [r for r in inp.shift_off_requests if r.staff in ids],
        }
    )


def cover_lowered(inp: Input, others: Counter) -> Input:
    """`inp` with each cover requirement lowered by `others` (from `on_shift`): the people on each shift already."""
    cover = [
        c.model_copy(update={"requirement": max(0, c.requirement - taken)}) if (taken := others[c.day, c.shift]) else c
        for c in inp.cover
    ]
    return inp.model_copy(update={"cover": cover})


class Shared:
    """The best roster so far and its true cost, shared by the lanes."""

    def __init__(self, roster: Roster, cost: int):
        self.roster, self.cost = roster, cost
        self.lock = threading.Lock()

    def adopt(self, incumbent: tuple[dict, float] | None) -> None:
        """Take the runner's incumbent if it is better (found by the whole model, or by another lane)."""
        if incumbent is not None:
            with self.lock:
                if incumbent[1] < self.cost:
                    self.roster, self.cost = dict(incumbent[0]["roster"]), int(incumbent[1])

    def merge(self, rows: Roster, inp: Input) -> tuple[Roster, int] | None:
        """Put `rows` into the shared roster if that costs no more; the new roster if it was better."""
        with self.lock:
            merged = {**self.roster, **rows}
            result = check(inp, {"roster": merged})
            if not result.ok or result.objective > self.cost:
                return None
            better = result.objective < self.cost
            self.roster, self.cost = merged, result.objective
            return (merged, result.objective) if better else None


class Neighbourhoods:
    """Chooses whom to re-roster, on which days, and how much at once (adapted to how the solves go).

    A neighbourhood is some people over a window of days (their other days kept): a short window lets
    many people move together, which is what fixing the cover of a few days needs; the whole horizon
    lets a few people rebuild their stretches and weekends. Its size is counted in free cells
    (person-days): it grows while solves end optimal quickly and shrinks when they run out of time."""

    def __init__(self, inp: Input, settings: Settings, rng: random.Random):
        self.inp, self.settings, self.rng = inp, settings, rng
        self.cells = float(settings.first_cells)
        self.lock = threading.Lock()

    def pick(self, roster: Roster) -> tuple[list[int], range]:
        """People (positions in inp.staff) and the days they may change."""
        n, horizon = len(self.inp.staff), self.inp.horizon_days
        with self.lock:
            window = horizon if self.rng.random() < 0.4 else min(horizon, self.rng.choice((3, 7, 14)))
            first = self.rng.randrange(horizon - window + 1)
            days = range(first, first + window)
            k = max(self.settings.min_group, min(n, round(self.cells / window)))
            if self.rng.random() < 0.5 or not self.inp.cover:
                return self.rng.sample(range(n), k), days
            # Around one day: some who work it and some who are off, so cover can move between them.
            day = self.rng.choice(days)
            on = [p for p, person in enumerate(self.inp.staff) if roster[person.id][day] is not None]
            off = [p for p in range(n) if roster[self.inp.staff[p].id][day] is None]
            self.rng.shuffle(on)
            self.rng.shuffle(off)
            chosen = on[: k // 2] + off[: k - min(len(on), k // 2)]
            chosen += self.rng.sample([p for p in range(n) if p not in set(chosen)], k - len(chosen))
            return chosen, days

    def learn(self, optimal: bool, quick: bool) -> None:
        with self.lock:
            if optimal and quick:
                self.cells = min(self.cells * 1.1, len(self.inp.staff) * self.inp.horizon_days)
            elif not optimal:
                self.cells = max(self.cells / 1.1, self.settings.min_group)


def search(ctx: Any, settings: Settings = Settings()) -> str | None:
    """The strategy the runner drives (see SearchContext in app/problems/base.py)."""
    inp: Input = ctx.inp
    model, v = build(inp)
    if ctx.incumbent() is not None:
        hint(model, v, inp, ctx.incumbent()[0])
    start = max(settings.start_min, settings.start_share * ctx.remaining())
    first = ctx.solve(model, lambda value: extract(inp, v, value), time_limit=start)
    if first.status in ("OPTIMAL", "INFEASIBLE", "MODEL_INVALID"):
        return first.status
    while ctx.incumbent() is None and not ctx.stopped():  # no roster yet: nothing to improve, keep looking
        first = ctx.solve(model, lambda value: extract(inp, v, value), time_limit=ctx.remaining())
        if first.status in ("OPTIMAL", "INFEASIBLE", "MODEL_INVALID"):
            return first.status
    if ctx.stopped() or len(inp.staff) < 2:
        return None
    solution, cost = ctx.incumbent()
    shared = Shared(dict(solution["roster"]), int(cost))
    group = Neighbourhoods(inp, settings, random.Random(ctx.seed))
    lanes = settings.lanes or max(1, ctx.threads)
    while not ctx.stopped():
        until = ctx.remaining() - settings.phase_seconds
        threads = [
            threading.Thread(target=_lane, args=(ctx, shared, group, settings, until), name=f"lane-{i}", daemon=True)
            for i in range(lanes)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if ctx.stopped():
            break
        if _whole(ctx, model, v, shared, settings.whole_seconds) == "OPTIMAL":
            return "OPTIMAL"
    return None


def _whole(ctx: Any, model: cp_model.CpModel, v: ShiftVars, shared: Shared, seconds: float) -> str:
    """The whole model from the best roster: CP-SAT's own moves across all people, and the bound."""
    inp = ctx.inp
    model.clear_hints()
    with shared.lock:
        hint(model, v, inp, {"roster": shared.roster})
    result = ctx.solve(model, partial(extract, inp, v), time_limit=seconds)
    shared.adopt(ctx.incumbent())
    return result.status


def keep(model: cp_model.CpModel, v: ShiftVars, sub: Input, rows: Roster, days: range) -> None:
    """Pin every cell of `sub` outside `days` to `rows`."""
    shift_of = {shift.id: s for s, shift in enumerate(sub.shifts)}
    pinned = [
        var if shift_of.get(rows[sub.staff[p].id][d]) == s else ~var
        for (p, d, s), var in v.assign.items()
        if d not in days
    ]
    if pinned:
        model.add_bool_and(pinned)


def _lane(ctx: Any, shared: Shared, group: Neighbourhoods, settings: Settings, until: float) -> None:
    """Group after group until the search is stopped or the phase ends (`until` seconds remain)."""
    inp: Input = ctx.inp
    while not ctx.stopped() and ctx.remaining() > max(until, 0.05):
        with shared.lock:
            roster = shared.roster
        people, days = group.pick(roster)
        sub = sub_input(inp, people, roster)
        rows = {person.id: roster[person.id] for person in sub.staff}
        model, v = build(sub)
        hint(model, v, sub, {"roster": rows})
        keep(model, v, sub, rows, days)
        limit = min(settings.sub_seconds, ctx.remaining())
        # The full LP relaxation (level 2) is what closes a small group: it proves most groups optimal in
        # a fraction of a second, where the default level leaves them open at the time limit.
        params = {"max_deterministic_time": settings.sub_dtime, "linearization_level": 2}
        result = ctx.solve(model, partial(extract, sub, v), time_limit=limit, params=params, threads=1, full=False,
                           report=False)  # fmt: skip
        group.learn(result.status == "OPTIMAL", result.wall_time < limit / 4)
        if result.solution is None:
            continue
        better = shared.merge(result.solution["roster"], inp)
        if better is not None:
            ctx.report({"roster": better[0]})
