"""An in-process SearchContext for measuring search strategies without the queue, worker or database.

It implements the contract the runner implements (app/problems/base.py: SearchContext): solve, report,
incumbent, stopped, remaining. Its clock is wall-clock seconds, CP-SAT's deterministic time ("dtime"),
or "cpu": this process's CPU seconds divided by `threads`, i.e. the wall clock of a quiet machine with
`threads` cores. On a machine shared by many solves the last two make variants comparable whatever the
load: "cpu" for the whole strategy (its Python too), "dtime" for same-work, same-answer comparisons.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from app.problems.base import ProblemType, apply_solver_params, stopping_when


@dataclass
class SubSolve:
    status: str
    solution: dict | None
    objective: float | None
    bound: float | None
    wall_time: float
    solver: cp_model.CpSolver


@dataclass
class LocalContext:
    """Drives a strategy for `budget` seconds of its clock ("wall", "dtime" or "cpu")."""

    problem: ProblemType
    inp: Any
    budget: float
    threads: int = 2
    seed: int = 0
    clock: str = "wall"
    checkpoint: dict | None = None
    params: dict = field(default_factory=dict)
    history: list[tuple[float, float]] = field(default_factory=list)  # (clock, objective) per new incumbent
    lines: list[tuple[float, str]] = field(default_factory=list)  # (clock, message) of the strategy's log()
    bound: float | None = None
    solves: int = 0

    def __post_init__(self) -> None:
        self.params = dict(self.problem.solver_params) | self.params
        self.started = time.monotonic()
        self.used_dtime = 0.0
        self.best: tuple[dict, float] | None = None
        self.lock = threading.Lock()  # the strategy may solve in several threads at once
        self.cpu_started = time.process_time()
        self.active: dict[cp_model.CpSolver, float] = {}  # solve -> when it must stop (clock "cpu")
        if self.clock == "cpu":
            threading.Thread(target=self._watch_cpu, daemon=True).start()
        if self.checkpoint is not None:
            self.report(self.checkpoint)

    def now(self) -> float:
        if self.clock == "dtime":
            return self.used_dtime
        if self.clock == "cpu":
            return (time.process_time() - self.cpu_started) / self.threads
        return time.monotonic() - self.started

    def _watch_cpu(self) -> None:
        """Stops each solve whose share of the emulated clock is spent (CP-SAT only knows wall time)."""
        while True:
            with self.lock:
                for solver, deadline in list(self.active.items()):
                    if self.now() >= deadline:
                        solver.stop_search()
                        del self.active[solver]
            time.sleep(0.02)

    def remaining(self) -> float:
        return max(0.0, self.budget - self.now())

    def stopped(self) -> bool:
        return self.remaining() <= 0

    def incumbent(self) -> tuple[dict, float] | None:
        return self.best

    def report(self, solution: dict, solver_objective: float | None = None) -> bool:
        checked = self.problem.check(self.inp, solution)
        if not checked.ok:
            raise AssertionError(f"the checker rejects a reported solution: {checked.violations[:3]}")
        with self.lock:
            if self.best is not None and checked.objective >= self.best[1]:
                return False
            self.best = (solution, checked.objective)
            self.history.append((self.now(), checked.objective))
            return True

    def report_bound(self, bound: float) -> None:
        self.bound = bound if self.bound is None else max(self.bound, bound)

    def log(self, message: str) -> None:
        with self.lock:
            self.lines.append((self.now(), message))

    def solve(
        self,
        model: cp_model.CpModel,
        extract: Callable[[Any], dict],
        *,
        time_limit: float,
        params: dict | None = None,
        threads: int | None = None,
        full: bool = True,
        report: bool = True,
        stop_when: Callable[[], bool] | None = None,
    ) -> SubSolve:
        solver = cp_model.CpSolver()
        apply_solver_params(solver.parameters, self.params | (params or {}))
        solver.parameters.num_workers = threads or self.threads  # as the runner does: these two win
        solver.parameters.random_seed = self.seed
        limit = max(0.01, min(time_limit, self.remaining()))
        if self.clock == "dtime":
            dtime = (params or {}).get("max_deterministic_time", limit)
            solver.parameters.max_deterministic_time = min(dtime, limit)
            solver.parameters.max_time_in_seconds = 20 * limit + 5  # only a backstop
        elif self.clock == "cpu":
            solver.parameters.max_time_in_seconds = 50 * limit + 5  # only a backstop: _watch_cpu stops it
            with self.lock:
                self.active[solver] = self.now() + limit
        else:
            solver.parameters.max_time_in_seconds = limit
        callback = _Reporter(self, extract) if report else None
        with stopping_when(solver, stop_when):
            status = solver.solve(model, callback)
        with self.lock:
            self.active.pop(solver, None)
            self.used_dtime += solver.deterministic_time
            self.solves += 1
        found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        solution = extract(solver.value) if found else None
        if full and found:
            self.report_bound(solver.best_objective_bound)
        return SubSolve(
            status=solver.status_name(status),
            solution=solution,
            objective=solver.objective_value if found else None,
            bound=solver.best_objective_bound if found else None,
            wall_time=solver.wall_time,
            solver=solver,
        )


class _Reporter(cp_model.CpSolverSolutionCallback):
    def __init__(self, ctx: LocalContext, extract: Callable[[Any], dict]):
        super().__init__()
        self.ctx, self.extract = ctx, extract

    def on_solution_callback(self) -> None:
        best = self.ctx.best
        if best is not None and self.objective_value >= best[1] + 1e-9:
            return  # cannot be better (the true cost is at most CP-SAT's figure): skip the checker
        self.ctx.report(self.extract(self.value))
