"""The roster's default strategy: a first roster within seconds, a few people at a time, then the
whole-model CP-SAT solve, then annealing from its best roster.

On a long plan CP-SAT needs many seconds before the whole model gives any roster: 19 s of CPU with 2
workers for 50 people over 182 days (one worker found none in 60 s). Planners want something to look at
at once.

Cover is the only rule that links people (see `decompose.py`); every other rule is one person's own.
So a roster can be built a few people at a time: each group is rostered by a small CP-SAT solve of
its own rules, with each cover requirement lowered by the people rostered before it (`cover_lowered`).
Each group fills what cover the earlier ones left, at the lowest penalty of its own requests: a greedy
construction with an exact step. A group's model has about CELLS person-days, so a step costs
milliseconds on a 4-week plan and a few tenths of a second on a 26-week one, and the construction grows
linearly with the roster.

The strategy (`search`): build the roster this way and offer it to the runner (which checks it and
keeps it as the first incumbent); then one whole-model CP-SAT solve for WHOLE_SHARE of the time left,
which proves the small rosters optimal and improves the others fast at first, with one annealing chain
racing it from the constructed roster until one overtakes the other (`annealing_alongside`); then simulated annealing
(anneal.py) from the best roster so far; then weekend trades (`trade_weekends`): everyone's shifts over
two weekends and the days around them, re-solved by CP-SAT from the best roster, a pair of weekends at a
time; last, the whole model again from the best roster, with CP-SAT's neighbourhood subsolvers only
(POLISH_PARAMS), for the time left. The first whole-model solve is not hinted
with the construction: hinted, it ended better on some rosters and worse on others, within the noise of
one seed, so the construction only means a roster to look at. A resumed run skips the construction and
hints its checkpoint. Only the input's size and the time left steer it.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from itertools import combinations
from typing import Any

from ortools.sat.python import cp_model

from app.problems.shift_scheduling.anneal import anneal
from app.problems.shift_scheduling.check import check
from app.problems.shift_scheduling.decompose import Roster, cover_lowered, on_shift, only
from app.problems.shift_scheduling.model import ShiftVars, build, build_own, extract, hint, minimize
from app.problems.shift_scheduling.neighbourhoods import two_weekends
from app.problems.shift_scheduling.schema import Input
from app.problems.shift_scheduling.search import Board, Incumbent, complete

CELLS = 120  # person-days rostered by one construction step
STEP_SECONDS = 2.0  # wall-clock cap of one step (its first roster takes 0.01-0.15 s)
SHARE = 0.25  # the construction stops, unfinished, after this share of the time limit
WHOLE_SHARE = 0.4  # of the time left after the construction: the whole-model solve; annealing gets the rest
# The chain that races the whole-model solve (annealing_alongside) gives way to it once the solve has a better
# roster than the chain's and the chain has gained nothing for this long (seconds).
OVERTAKEN_AFTER = 1.0
# And the solve gives way to the chain (it is stopped, and annealing gets the rest of its time) once the
# chain's roster has been the run's best for this share of the solve's time: on the benchmark's larger
# rosters the chain held the best from the first second on (Instance8-12, in its 24 s at 60 s).
GIVE_WAY_SHARE = 0.25
POLISH_SHARE = 0.3  # of the time left after it: weekend trades, then a last whole-model solve from the best roster
# The last solve: only CP-SAT's neighbourhood subsolvers, on all the run's threads (its default at 2 workers
# keeps one on the full max_lp search and shares the other among the neighbourhoods). It proves nothing;
# the first solve proves the small rosters. Measured: README, "How a roster is searched".
POLISH_PARAMS = {"use_lns_only": True}
WEEKEND_SHARE = 0.5  # of that time: weekend trades (trade_weekends); they end sooner when no pair gains
WEEKEND_SECONDS = 4.0  # wall-clock cap of one trade's solve (two weekends, everyone)
WEEKEND_BOUND = 2 / 3  # trades only for rosters paying this share of their cover shortfall on weekends
WEEKEND_PARAMS = {"linearization_level": 2}  # the full LP: most trades on the benchmark end OPTIMAL within it
STEP_PRESOLVE = {"max_presolve_iterations": 1, "cp_model_probing_level": 0}


def group_size(inp: Input) -> int:
    """People rostered together in one construction step."""
    return max(1, CELLS // max(1, inp.horizon_days))


def construct(ctx: Any) -> Roster | None:
    """A complete roster obeying every hard rule, or None if a step found none (or time ran out)."""
    inp: Input = ctx.inp
    size = group_size(inp)
    budget = ctx.remaining() * SHARE
    deadline = ctx.remaining() - budget
    roster: Roster = {}
    taken = on_shift([])  # the people on each (day, shift) so far
    people = list(range(len(inp.staff)))
    groups = [people[first : first + size] for first in range(0, len(people), size)]
    # The step's first roster: CP-SAT's first solution is guided by the LP relaxation of the step's own
    # penalty and was within 0.1 % of the step's optimum where measured, at a fraction of the time.
    # All the run's workers: one person's rules can be a tight packing (e.g. 90 shifts in 182 days in
    # stretches of 2-5 between breaks of 3) where one worker's search may need seconds.
    # A light presolve: on a step's small model the full one cost more than the search (HeldBack8, 50
    # people over 182 days: first roster at 3.7 s instead of 5.0, of a cost within 5 %).
    params = {"stop_after_first_solution": True, **STEP_PRESOLVE}
    # A group's own rules (everything but cover) do not depend on the groups before it: they are built in
    # a thread of their own while the group before is solved (CP-SAT releases the GIL), and only the cover
    # waits for that group's shifts. Building is half a step's time on a long plan (HeldBack8: 25 ms of 50).
    with ThreadPoolExecutor(1, thread_name_prefix="construct-ahead") as ahead:
        built = ahead.submit(own_model, inp, groups[0])
        for k in range(len(groups)):
            if ctx.stopped() or ctx.remaining() <= deadline:
                return None
            sub, model, v = built.result()
            if k + 1 < len(groups):
                built = ahead.submit(own_model, inp, groups[k + 1])
            sub = cover_lowered(sub, taken)
            minimize(model, v, sub)
            limit = min(STEP_SECONDS, ctx.remaining() - deadline)
            result = ctx.solve(model, partial(extract, sub, v), time_limit=limit, params=params, full=False,
                               report=False)  # fmt: skip
            if result.solution is None:
                return None
            roster.update(result.solution["roster"])
            taken.update(on_shift(result.solution["roster"].values()))
    return roster


def own_model(inp: Input, group: list[int]) -> tuple[Input, cp_model.CpModel, ShiftVars]:
    """The input of `group` (positions in inp.staff) alone, and the model of their own rules (model.build_own)."""
    sub = only(inp, group)
    return (sub, *build_own(sub))


def search(ctx: Any) -> str | None:
    """The strategy the runner drives (see SearchContext in app/problems/base.py): the construction, the
    whole-model solve for WHOLE_SHARE of the time with one annealing chain racing it from the constructed
    roster, annealing (anneal.py) from the best roster, weekend trades, then the whole model again from
    the best roster for the last POLISH_SHARE."""
    inp: Input = ctx.inp
    start = ctx.checkpoint
    if ctx.checkpoint is None and len(inp.staff) > group_size(inp):  # one group: that is the whole model
        note(ctx, "construction")
        roster = construct(ctx)
        if roster is not None:
            start = {"roster": roster}
            ctx.report(start)
    model, v = build(inp)
    if ctx.checkpoint:
        hint(model, v, inp, ctx.checkpoint)
    limit = ctx.remaining() * WHOLE_SHARE
    note(ctx, f"first solve, {limit:.1f} s" + (", an annealing chain racing it" if start else ""))
    with annealing_alongside(ctx, limit, start) as overtaken:
        result = ctx.solve(model, partial(extract, inp, v), time_limit=limit, stop_when=overtaken)
    if result.status not in ("OPTIMAL", "INFEASIBLE", "MODEL_INVALID") and ctx.incumbent() is None:
        result = ctx.solve(model, partial(extract, inp, v), time_limit=ctx.remaining())  # nothing to anneal from
    if result.status in ("OPTIMAL", "INFEASIBLE", "MODEL_INVALID"):
        return result.status
    best = ctx.incumbent()
    if best is None or ctx.stopped():
        return None
    seconds = ctx.remaining() * (1 - POLISH_SHARE)
    note(ctx, f"annealing, {seconds:.1f} s")
    anneal(Until(ctx, seconds), best[0], chains=max(1, ctx.threads), seed=ctx.seed)
    if POLISH_SHARE <= 0 or ctx.stopped():
        return None
    trade_weekends(ctx, ctx.remaining() * WEEKEND_SHARE)
    if not ctx.stopped() and ctx.remaining() > 0:
        note(ctx, f"last solve, {ctx.remaining():.1f} s")
        # CP-SAT again, from the best roster: its own neighbourhoods find what the walk's small moves miss.
        model.clear_hints()
        hint(model, v, inp, ctx.incumbent()[0])
        ctx.solve(model, partial(extract, inp, v), time_limit=ctx.remaining(), params=POLISH_PARAMS)
    return None


@contextmanager
def annealing_alongside(ctx: Any, seconds: float, start: dict | None) -> Iterator[Callable[[], bool] | None]:
    """While the block runs (at most `seconds`), one annealing chain walks from `start` (a roster that
    breaks no hard rule: the construction or the checkpoint; none: no chain) in a thread of its own.

    The whole-model solve and the walk race: each reports its rosters to the runner, which keeps the
    best, and the annealing after the block starts from it. On the benchmark's larger rosters the solve
    is slow to improve (Instance12: 12,100 -> 7,450 in its 20 s) while the walk gains from the start; on
    the small ones the solve's own search and bound are what get to the best known. So the chain gives way
    (returns) once the solve has a better roster than the chain's last and the chain has gained nothing
    for OVERTAKEN_AFTER seconds: from then on the solve has the run's cores to itself. Where the walk stays
    ahead, the solve gives way instead: the block yields a predicate for the solve's `stop_when`, true
    once the chain's roster has been the run's best for GIVE_WAY_SHARE of `seconds`. The walk releases
    the GIL (numba); until it gives way the run keeps one thread more busy than its CP-SAT workers. The
    chain also stops when the block ends (within one phase of its walk, milliseconds); its error, if
    any, is raised here."""
    if start is None:
        yield None
        return
    until, failed = Racing(ctx, seconds), []

    def chain() -> None:
        try:
            anneal(until, start, chains=1, seed=ctx.seed + 1)
        except BaseException as exc:  # raised in the strategy's thread below
            failed.append(exc)

    thread = threading.Thread(target=chain, name="anneal-alongside", daemon=True)
    thread.start()
    try:
        yield partial(until.ahead_for, GIVE_WAY_SHARE * seconds)
    finally:
        until.end = time.monotonic()  # over: the chain returns at the end of its current phase
        thread.join()
    if failed:
        raise failed[0]


def trade_weekends(ctx: Any, seconds: float) -> None:
    """For `seconds`: re-solve everyone's shifts over two weekends and the days around them
    (neighbourhoods.two_weekends) from the best roster, one pair of weekends after another in a shuffled
    order; every better roster goes to the runner. Ends early once every pair has been tried since the
    last gain, or at a trade that neither gained nor was solved to the end within WEEKEND_SECONDS (too big
    a neighbourhood for the time: the last solve gets it). Only for a weekend-bound roster."""
    inp: Input = ctx.inp
    start = ctx.incumbent()
    pairs = list(combinations(range(len(inp.weekends())), 2))
    if not pairs or start is None or not weekend_bound(inp, start[0]["roster"]):
        return
    note(ctx, f"weekend trades, at most {seconds:.1f} s")
    until, rng = Until(ctx, seconds), random.Random(ctx.seed)
    rng.shuffle(pairs)
    board, best = Board(inp), Incumbent()
    complete(ctx, board, best, start[0])
    tried = 0  # pairs since the last gain
    while best.values is not None and tried < len(pairs) and not ctx.stopped() and until.remaining() > 0.1:
        board.start_from(*best.snapshot(), two_weekends(inp, pairs[tried]))
        limit = min(WEEKEND_SECONDS, until.remaining())
        sub = ctx.solve(board.model, board.extract, time_limit=limit, params=WEEKEND_PARAMS, full=False)
        gain = best.offer(*board.solution_of(sub.solver)) if sub.solution is not None else 0.0
        if gain > 0:
            pairs = pairs[tried + 1 :] + pairs[: tried + 1]  # go on from the next pair
            tried = 0
        elif sub.status != "OPTIMAL":
            return  # too big to settle in WEEKEND_SECONDS and no better: the last solve gets the time
        else:
            tried += 1


def weekend_bound(inp: Input, roster: Roster) -> bool:
    """Whether at least WEEKEND_BOUND of what the roster pays for short cover is paid on weekend days.

    That is where the trades help: cover short at weekends with staff at their weekend limits (every
    benchmark roster after annealing; on Instance12 all 41 missing people are on Saturdays and Sundays). Where
    the shortfall is spread over the week (the held-back rosters: 40-55 % on weekends) a trade gained
    less than the last solve would in the same time (HeldBack5, 20 s from an annealed roster: 1113 ->
    1087 by trades, 1049 -> 873 by that solve), so they are skipped."""
    weekend = {d for days in inp.weekends() for d in days}
    short = Counter()
    for penalty in check(inp, {"roster": roster}).penalties:
        if penalty.rule == "cover_under":
            short[penalty.day in weekend] += penalty.cost
    total = short[True] + short[False]
    return total > 0 and short[True] >= WEEKEND_BOUND * total


def note(ctx: Any, text: str) -> None:
    """A line in the run's log (SearchContext.log) as a phase of the strategy starts or gives way."""
    ctx.log(f"[roster search: {text}]")


class Until:
    """A search context whose time ends `seconds` from now (or sooner, with the run's)."""

    def __init__(self, ctx: Any, seconds: float):
        self.ctx, self.inp, self.end = ctx, ctx.inp, time.monotonic() + seconds

    def remaining(self) -> float:
        return min(self.ctx.remaining(), self.end - time.monotonic())

    def stopped(self) -> bool:
        return self.ctx.stopped()

    def report(self, solution: dict) -> bool:
        return self.ctx.report(solution)

    def log(self, message: str) -> None:
        self.ctx.log(message)


class Racing(Until):
    """The racing chain's context: its time also ends once the runner's best roster is better than the
    last one the chain reported, i.e. once the solve it races has overtaken it."""

    def __init__(self, ctx: Any, seconds: float):
        super().__init__(ctx, seconds)
        best = ctx.incumbent()
        self.mine = best[1] if best else math.inf  # the objective of the chain's last kept roster (the start's)
        self.gained = time.monotonic()  # when the chain last had a roster kept
        self.since = self.gained  # since when the run's best roster has been the chain's (see ahead_for)
        self.overtaken = self.led = False  # whether the chain / the solve has been told to give way (logged once)

    def remaining(self) -> float:
        best = self.ctx.incumbent()
        if best is not None and best[1] < self.mine and time.monotonic() - self.gained > OVERTAKEN_AFTER:
            if not self.overtaken:
                note(self.ctx, "the racing chain gives way to the first solve")
                self.overtaken = True
            return 0.0
        return super().remaining()

    def ahead_for(self, seconds: float) -> bool:
        """Whether the run's best roster has been the chain's for `seconds` (polled while the solve runs)."""
        best, now = self.ctx.incumbent(), time.monotonic()
        if best is None or best[1] < self.mine:  # someone else's (the solve's) is better
            self.since = now
            return False
        if now - self.since < seconds:
            return False
        if not self.led:
            note(self.ctx, "the first solve gives way to the racing chain")
            self.led = True
        return True

    def report(self, solution: dict) -> bool:
        kept = self.ctx.report(solution)
        if kept:
            self.mine, self.gained = self.ctx.incumbent()[1], time.monotonic()
        return kept
