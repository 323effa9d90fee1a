"""The roster's own search strategy: a quick first roster, then a problem-aware large-neighbourhood search.

1. Start: a short solve of the whole model (hinted with the checkpoint, if any) gives a first roster
   within a second or two, and proves the small rosters optimal outright.
2. Improve: repeatedly free a neighbourhood (see `neighbourhoods.py`), keep every other cell as in
   the incumbent, and let CP-SAT re-solve that sub-problem from the incumbent (a complete hint, so the
   incumbent is its first solution). Sizes adapt to the sub-solves; kinds are chosen by recent gains.
3. When the neighbourhoods stop paying, a whole-model solve from the incumbent both diversifies and
   tightens the bound (it is what can prove a roster optimal).

The model is built once. A neighbourhood is one extra `bool_and` constraint whose literals pin the
fixed cells; it is rewritten in place for each sub-solve, so a neighbourhood costs milliseconds to set
up even on the largest rosters, and CP-SAT's presolve removes the pinned part.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from app.problems.shift_scheduling.model import ShiftVars, build, extract
from app.problems.shift_scheduling.neighbourhoods import Chooser, Roster
from app.problems.shift_scheduling.schema import Input

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """How the search spends its time; the same for every roster (never chosen per instance)."""

    start_share: float = 0.1  # of the time limit, for the first whole-model solve
    start_min: float = 2.0  # seconds: the least a first solve gets, so small rosters can be proved
    sub_seconds: float = 3.0  # wall-clock cap of one neighbourhood solve
    sub_dtime: float = 0.5  # CP-SAT deterministic-time cap of one neighbourhood solve
    sub_workers: int = 1  # CP-SAT workers per neighbourhood solve
    stall: int = 40  # neighbourhoods without a gain before a whole-model solve
    full_share: float = 0.15  # of the remaining time, for such a whole-model solve
    full_min: float = 2.0


class Board:
    """The model, built once, with the incumbent as a complete assignment of its variables."""

    def __init__(self, inp: Input):
        self.inp = inp
        self.model, self.vars = build(inp)
        self.pin = self.model.add_bool_and([])  # rewritten per neighbourhood: the fixed cells
        self.values: list[int] | None = None  # every variable of the incumbent
        self.objective: float | None = None  # CP-SAT's objective of `values`

    def extract(self, value: Any) -> dict:
        return extract(self.inp, self.vars, value)

    def roster(self) -> Roster:
        """The incumbent as shift indices: person -> day -> shift index or None."""
        v, values, shifts = self.vars, self.values, range(len(self.inp.shifts))
        assert values is not None
        return [
            [next((s for s in shifts if values[v.assign[p, d, s].index]), None) for d in range(self.inp.horizon_days)]
            for p in range(len(self.inp.staff))
        ]

    def hint_incumbent(self) -> None:
        """Start from the incumbent: hint every variable (penalty ones too) and cap the objective at its cost.

        The whole model takes such a hint as its first solution. With most cells pinned, presolve's
        remapping loses that, so the cap is what keeps a neighbourhood's solutions no worse than it
        (equal ones are welcome: they move the search along a plateau).
        """
        proto = self.model.proto
        proto.clear_solution_hint()
        proto.objective.domain.clear()
        if self.values is not None:
            proto.solution_hint.vars.extend(range(len(self.values)))
            proto.solution_hint.values.extend(self.values)
            proto.objective.domain.extend([-(1 << 60), round(self.objective - proto.objective.offset)])

    def pin_all_but(self, free: set[tuple[int, int]] | None) -> None:
        """Fix every (person, day, shift) variable outside `free` to the incumbent's value (None: fix none)."""
        literals = self.model.proto.constraints[self.pin.index].bool_and.literals
        literals.clear()
        if free is None or self.values is None:
            return
        values = self.values
        literals.extend(
            index if values[index] else -index - 1
            for (p, d, _), var in self.vars.assign.items()
            if (p, d) not in free
            for index in (var.index,)
        )

    def adopt(self, solver: cp_model.CpSolver) -> None:
        """Take the final solution of the last solve as the incumbent."""
        self.values = list(solver.response_proto.solution)
        self.objective = solver.objective_value


def search(ctx: Any, settings: Settings = Settings()) -> str | None:
    """The strategy the runner drives (see SearchContext in app/problems/base.py)."""
    board = Board(ctx.inp)
    rng = random.Random(ctx.seed)
    if ctx.incumbent() is not None:
        _complete(ctx, board, ctx.incumbent()[0])
    time_limit = ctx.remaining()
    status = _whole(ctx, board, max(settings.start_min, settings.start_share * time_limit))
    while status is None and board.values is None and not ctx.stopped() and ctx.remaining() > 0:
        status = _whole(ctx, board, ctx.remaining())  # no roster yet: nothing to improve, keep looking
    if status is not None:
        return status
    chooser = Chooser(rng)
    since_gain = 0
    while not ctx.stopped() and ctx.remaining() > 0.05:
        if since_gain >= settings.stall:
            status = _whole(ctx, board, max(settings.full_min, settings.full_share * ctx.remaining()))
            if status is not None:
                return status
            since_gain = 0
            continue
        gained = _neighbourhood(ctx, board, chooser, rng, settings)
        since_gain = 0 if gained else since_gain + 1
    return None


def _whole(ctx: Any, board: Board, seconds: float) -> str | None:
    """Solve the whole model from the incumbent; "OPTIMAL"/"INFEASIBLE" when that settles the problem."""
    board.pin_all_but(None)
    board.hint_incumbent()
    sub = ctx.solve(board.model, board.extract, time_limit=seconds, full=True)
    if sub.status == "INFEASIBLE":
        return "INFEASIBLE"
    if sub.solution is not None and (board.objective is None or sub.objective <= board.objective):
        board.adopt(sub.solver)
    return "OPTIMAL" if sub.status == "OPTIMAL" else None


def _neighbourhood(ctx: Any, board: Board, chooser: Chooser, rng: random.Random, settings: Settings) -> bool:
    """Re-solve one neighbourhood of the incumbent; True if the objective improved."""
    kind = chooser.pick()
    board.pin_all_but(chooser.cells(kind, board.inp, board.roster()))
    board.hint_incumbent()
    params = {
        "max_deterministic_time": settings.sub_dtime,
        "num_workers": settings.sub_workers,
        "random_seed": rng.randrange(1 << 30),
    }
    before = board.objective
    sub = ctx.solve(board.model, board.extract, time_limit=settings.sub_seconds, params=params, full=False)
    gain = 0.0
    if sub.solution is not None and sub.objective <= before:
        gain = before - sub.objective
        board.adopt(sub.solver)
    chooser.learn(kind, sub.status == "OPTIMAL", gain, sub.wall_time)
    log.debug("%s %.3f %s %.2fs %s -> %s", kind, chooser.arms[kind].fraction, sub.status, sub.wall_time, before, board.objective)
    return gain > 0


def _complete(ctx: Any, board: Board, solution: dict) -> None:
    """Take a roster (e.g. the checkpoint) as the incumbent, completed with its penalty variables by a
    solve with every cell pinned to it."""
    inp, rows = board.inp, solution.get("roster") or {}
    literals = board.model.proto.constraints[board.pin.index].bool_and.literals
    literals.clear()
    for (p, d, s), var in board.vars.assign.items():
        row = rows.get(inp.staff[p].id) or []
        on = d < len(row) and row[d] == inp.shifts[s].id
        literals.append(var.index if on else -var.index - 1)
    board.model.proto.clear_solution_hint()
    board.model.proto.objective.domain.clear()
    sub = ctx.solve(board.model, board.extract, time_limit=min(5.0, ctx.remaining()), full=False, report=False)
    if sub.solution is not None:
        board.adopt(sub.solver)
