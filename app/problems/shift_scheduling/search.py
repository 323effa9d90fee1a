"""The roster's own search strategy: a quick first roster, then a problem-aware large-neighbourhood search.

1. Start: a short solve of the whole model (hinted with the checkpoint, if any) gives a first roster
   within a second or two, and proves the small rosters optimal outright.
2. Improve: repeatedly free a neighbourhood (see `neighbourhoods.py`), keep every other cell as in
   the incumbent, and let CP-SAT re-solve that sub-problem from the incumbent. Sizes adapt to the
   sub-solves; kinds are chosen by recent gains. One lane per CP-SAT worker the run may use, each a
   single-worker sub-solve at a time: small sub-problems gain nothing from a parallel portfolio, and
   two lanes try twice the neighbourhoods. A lane's result is a complete roster, so whichever lane
   finishes adopts its roster if it is at least as good as the shared incumbent.
3. Every `phase_seconds`, or sooner when the lanes stop finding gains, a whole-model solve from the
   incumbent both diversifies and tightens the bound (it is what proves a roster optimal).

The model is built once per lane. A neighbourhood is one extra `bool_and` constraint whose literals
pin the fixed cells; it is rewritten in place for each sub-solve, so a neighbourhood costs milliseconds
to set up even on the largest rosters, and CP-SAT's presolve removes the pinned part.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from app.problems.shift_scheduling.model import build, extract
from app.problems.shift_scheduling.neighbourhoods import Cells, Chooser, Roster
from app.problems.shift_scheduling.schema import Input

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """How the search spends its time; the same for every roster (never chosen per instance)."""

    start_share: float = 0.1  # of the time limit, for the first whole-model solve
    start_min: float = 2.0  # seconds: the least a first solve gets, so small rosters can be proved
    sub_seconds: float = 3.0  # wall-clock cap of one neighbourhood solve
    sub_dtime: float = 0.3  # CP-SAT deterministic-time cap of one neighbourhood solve
    lanes: int = 0  # neighbourhood solves at a time; 0 = one per CP-SAT worker of the run
    stall: int = 60  # neighbourhoods in a row without a gain end a neighbourhood phase early
    phase_seconds: float = 10.0  # a neighbourhood phase, then a whole-model solve
    whole_ratio: float = 0.25  # that whole-model solve lasts this share of a phase


@dataclass
class Incumbent:
    """The best roster so far as a complete assignment of the model's variables, shared by the lanes."""

    values: list[int] | None = None
    objective: float | None = None  # CP-SAT's objective of `values`
    since_gain: int = 0  # neighbourhoods in a row without a gain
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> tuple[list[int] | None, float | None]:
        with self.lock:
            return self.values, self.objective

    def offer(self, values: list[int], objective: float) -> float:
        """Adopt a complete assignment if it is no worse; the objective gained (0 if none)."""
        with self.lock:
            if self.objective is not None and objective > self.objective:
                return 0.0
            gain = 0.0 if self.objective is None else self.objective - objective
            self.values, self.objective = values, objective
            self.since_gain = 0 if gain > 0 else self.since_gain + 1
            return gain


class Board:
    """One copy of the model, built once, with a constraint that pins the cells a neighbourhood keeps."""

    def __init__(self, inp: Input):
        self.inp = inp
        self.model, self.vars = build(inp)
        self.pin = self.model.add_bool_and([])  # rewritten per neighbourhood
        self.cells = [(p, d, var.index) for (p, d, _), var in self.vars.assign.items()]
        objective = self.model.proto.objective
        self.objective_terms = list(zip(objective.vars, objective.coeffs, strict=True))
        self.objective_offset = objective.offset

    def solution_of(self, solver: cp_model.CpSolver) -> tuple[list[int], float]:
        """The last solve's assignment and its exact objective: CP-SAT's own figure can be overstated
        (see DESIGN.md), and a loose figure would loosen the cap of the next neighbourhood."""
        values = list(solver.response_proto.solution)
        cost = sum(c * (values[i] if i >= 0 else -values[-i - 1]) for i, c in self.objective_terms)
        return values, self.objective_offset + cost

    def extract(self, value: Any) -> dict:
        return extract(self.inp, self.vars, value)

    def roster(self, values: list[int]) -> Roster:
        """An assignment as shift indices: person -> day -> shift index or None."""
        v, shifts = self.vars, range(len(self.inp.shifts))
        return [
            [next((s for s in shifts if values[v.assign[p, d, s].index]), None) for d in range(self.inp.horizon_days)]
            for p in range(len(self.inp.staff))
        ]

    def start_from(self, values: list[int] | None, objective: float | None, free: Cells | None = None) -> None:
        """Hint every variable (penalty ones too) with `values`, cap the objective at its cost, and pin
        every cell outside `free` to it (None: pin nothing, the whole model).

        The whole model takes such a hint as its first solution. With most cells pinned, presolve's
        remapping loses that, so the cap is what keeps a neighbourhood's solutions no worse than the
        incumbent (equal ones are welcome: they move the search along a plateau).
        """
        proto = self.model.proto
        literals = proto.constraints[self.pin.index].bool_and.literals
        literals.clear()
        proto.clear_solution_hint()
        proto.objective.domain.clear()
        if values is None:
            return
        if free is not None:
            literals.extend(i if values[i] else -i - 1 for p, d, i in self.cells if (p, d) not in free)
        proto.solution_hint.vars.extend(range(len(values)))
        proto.solution_hint.values.extend(values)
        proto.objective.domain.extend([-(1 << 60), round(objective - proto.objective.offset)])

    def pin_roster(self, solution: dict) -> None:
        """Pin every cell to a roster given as a solution dict (e.g. a checkpoint); no hint, no cap."""
        self.start_from(None, None)
        rows, inp = solution.get("roster") or {}, self.inp
        literals = self.model.proto.constraints[self.pin.index].bool_and.literals
        for (p, d, s), var in self.vars.assign.items():
            row = rows.get(inp.staff[p].id) or []
            literals.append(var.index if d < len(row) and row[d] == inp.shifts[s].id else -var.index - 1)


def search(ctx: Any, settings: Settings = Settings()) -> str | None:
    """The strategy the runner drives (see SearchContext in app/problems/base.py)."""
    board, best = Board(ctx.inp), Incumbent()
    if ctx.incumbent() is not None:
        complete(ctx, board, best, ctx.incumbent()[0])
    status = _whole(ctx, board, best, max(settings.start_min, settings.start_share * ctx.remaining()))
    while status is None and best.values is None and not ctx.stopped():
        status = _whole(ctx, board, best, ctx.remaining())  # no roster yet: nothing to improve, keep looking
    if status is not None or ctx.stopped():
        return status
    lanes = settings.lanes or max(1, ctx.threads)
    boards = [board] + [Board(ctx.inp) for _ in range(lanes - 1)]
    chooser, lock = Chooser(random.Random(ctx.seed)), threading.Lock()
    whole = settings.whole_ratio * settings.phase_seconds
    while not ctx.stopped():
        _neighbourhoods(ctx, boards, best, chooser, lock, settings)
        if ctx.stopped():
            break
        # Lanes that stalled have likely found what neighbourhoods can: give the whole model (its bound,
        # its own moves) twice as long as last time; after a phase that still gained, the usual share.
        stalled = best.since_gain >= settings.stall
        whole = min(2 * whole, ctx.remaining()) if stalled else settings.whole_ratio * settings.phase_seconds
        best.since_gain = 0
        status = _whole(ctx, board, best, whole)
        if status is not None:
            return status
    return None


def _neighbourhoods(
    ctx: Any, boards: list[Board], best: Incumbent, chooser: Chooser, lock: threading.Lock, settings: Settings
) -> None:
    """One phase: a lane per board, until the phase ends, the search is stopped or the lanes stall."""
    until = ctx.remaining() - settings.phase_seconds
    threads = [
        threading.Thread(target=_lane, args=(ctx, b, best, chooser, lock, settings, until), daemon=True) for b in boards
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _lane(
    ctx: Any, board: Board, best: Incumbent, chooser: Chooser, lock: threading.Lock, settings: Settings, until: float
) -> None:
    """Neighbourhood after neighbourhood, until stopped, the phase ends (`until` seconds remain) or it stalls."""
    while not ctx.stopped() and ctx.remaining() > max(until, 0.05) and best.since_gain < settings.stall:
        values, objective = best.snapshot()
        with lock:  # the chooser's random stream and statistics are shared
            kind = chooser.pick()
            free = chooser.cells(kind, board.inp, board.roster(values))
        board.start_from(values, objective, free)
        params = {"max_deterministic_time": settings.sub_dtime, "linearization_level": 2}
        limit = settings.sub_seconds
        sub = ctx.solve(board.model, board.extract, time_limit=limit, params=params, threads=1, full=False)
        gain = best.offer(*board.solution_of(sub.solver)) if sub.solution is not None else 0.0
        if sub.solution is None:
            with best.lock:
                best.since_gain += 1
        with lock:
            chooser.learn(kind, sub.status == "OPTIMAL", gain, sub.wall_time)
        log.debug("%s %.3f %s %.2fs %s -> %s", kind, chooser.arms[kind].fraction, sub.status, sub.wall_time,
                  objective, best.objective)  # fmt: skip


def _whole(ctx: Any, board: Board, best: Incumbent, seconds: float) -> str | None:
    """Solve the whole model from the incumbent; "OPTIMAL"/"INFEASIBLE" when that settles the problem."""
    board.start_from(*best.snapshot())
    sub = ctx.solve(board.model, board.extract, time_limit=seconds, full=True)
    if sub.status == "INFEASIBLE" and best.values is None:
        return "INFEASIBLE"
    if sub.solution is not None:
        best.offer(*board.solution_of(sub.solver))
    return "OPTIMAL" if sub.status == "OPTIMAL" else None


def complete(ctx: Any, board: Board, best: Incumbent, solution: dict) -> None:
    """Take a roster (e.g. the checkpoint) as the incumbent, completed with its penalty variables by a
    solve with every cell pinned to it."""
    board.pin_roster(solution)
    sub = ctx.solve(board.model, board.extract, time_limit=min(5.0, ctx.remaining()), full=False, report=False)
    if sub.solution is not None:
        best.offer(*board.solution_of(sub.solver))
