"""The solve runner: CP-SAT with a progress reporter and a stop watcher.

CP-SAT cannot be interrupted by RQ's SIGALRM timeout, so the solve stops itself: a watcher thread
calls `stop_search()` on a cancel request (a Redis key), at the run's deadline, or on SIGTERM, and
the best solution found so far is kept. Progress is buffered by the solver callbacks and written by
the watcher at most every `interval` seconds, so the search never waits on the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from app.problems.base import apply_solver_params

POLL_SECONDS = 0.1
Extract = Callable[[Callable[[Any], int]], dict]  # value-of-variable -> solution


@dataclass
class Live:
    """What the callbacks have seen; read and reset by the watcher under `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    points: list[dict] = field(default_factory=list)
    objective: float | None = None  # of the incumbent, as the problem's checker counts it
    solver_objective: float | None = None  # what CP-SAT reported for it (can be overstated)
    bound: float | None = None
    num_solutions: int = 0
    incumbent: dict | None = None  # the latest solution, for the checkpoint
    incumbent_saved: bool = True


class ProgressCallback(cp_model.CpSolverSolutionCallback):
    """Records every improving solution (objective, bound, elapsed) and keeps the incumbent.

    The objective recorded is the true cost of the extracted solution (`true_objective`), not CP-SAT's
    figure, which presolve can leave overstated (see DESIGN.md): the chart shows what the planner gets.
    """

    def __init__(
        self, live: Live, extract: Extract, elapsed: Callable[[], float], true_objective: Callable[[dict], float] | None
    ):
        super().__init__()
        self.live, self.extract, self.elapsed, self.true_objective = live, extract, elapsed, true_objective

    def on_solution_callback(self) -> None:
        incumbent = self.extract(self.value)
        objective = self.true_objective(incumbent) if self.true_objective else self.objective_value
        with self.live.lock:
            self.live.num_solutions += 1
            self.live.objective, self.live.solver_objective = objective, self.objective_value
            self.live.bound = self.best_objective_bound
            self.live.incumbent, self.live.incumbent_saved = incumbent, False
            self.live.points.append({"elapsed": self.elapsed(), "objective": objective, "bound": self.live.bound})


class Watcher:
    """Polls for a cancel request, the deadline and shutdown; flushes progress on a throttle.

    It runs in the thread that called solve() (the work horse's main thread) while CP-SAT searches in
    a thread of its own: Python runs signal handlers only in the main thread, and only between
    bytecodes, so a main thread blocked inside solve() would never see SIGTERM.
    """

    def __init__(
        self,
        solver: cp_model.CpSolver,
        live: Live,
        deadline: float,
        cancel_requested: Callable[[], bool],
        flush: Callable[[Live], None],
        interval: float,
    ):
        self.solver, self.live, self.deadline = solver, live, deadline
        self.cancel_requested, self.flush, self.interval = cancel_requested, flush, interval
        # "canceled", "deadline" or "shutdown"; None while the search runs or ends by itself.
        self.stop_reason: str | None = None
        self.shutdown = threading.Event()

    def watch(self, search: threading.Thread) -> None:
        """Until `search` ends: stop it when asked, and flush progress every `interval` seconds."""
        last_flush = 0.0
        while search.is_alive():
            if self.stop_reason is None:
                self.stop_reason = self._why_stop()
                if self.stop_reason:
                    self.solver.stop_search()
            if time.monotonic() - last_flush >= self.interval:
                self.flush(self.live)
                last_flush = time.monotonic()
            search.join(POLL_SECONDS)
        self.flush(self.live)  # what improved since the last flush

    def _why_stop(self) -> str | None:
        if self.shutdown.is_set():
            return "shutdown"
        if time.monotonic() >= self.deadline:
            return "deadline"
        try:
            return "canceled" if self.cancel_requested() else None
        except Exception:  # Redis hiccup: keep solving, look again next tick
            return None


@dataclass
class Outcome:
    status: str  # CP-SAT status name
    stop_reason: str | None
    solution: dict | None
    objective: float | None  # the true cost of `solution` (true_objective), else CP-SAT's figure
    solver_objective: float | None
    best_bound: float | None
    num_solutions: int
    stats: dict


def solve(
    model: cp_model.CpModel,
    extract: Extract,
    *,
    time_limit: float,
    threads: int,
    seed: int,
    cancel_requested: Callable[[], bool],
    flush: Callable[[Live], None],
    interval: float,
    offset: float = 0.0,
    on_start: Callable[[Watcher], None] | None = None,
    true_objective: Callable[[dict], float] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Outcome:
    """Solve `model` for at most `time_limit` seconds, reporting progress and obeying stop requests.

    `params` are the problem type's own CP-SAT parameters; time limit, workers and seed set here win.
    """
    solver = cp_model.CpSolver()
    apply_solver_params(solver.parameters, params or {})
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = threads
    solver.parameters.random_seed = seed
    live = Live()
    t0 = time.monotonic()

    def elapsed() -> float:
        # The solver's own wall_time cannot be read during solve(); one clock for both callbacks.
        return offset + time.monotonic() - t0

    def on_bound(bound: float) -> None:
        with live.lock:
            live.bound = bound
            live.points.append({"elapsed": elapsed(), "objective": live.objective, "bound": bound})

    solver.best_bound_callback = on_bound
    # CP-SAT enforces the limit itself; the watcher's deadline (+1 s) is the backstop.
    watcher = Watcher(solver, live, time.monotonic() + time_limit + 1.0, cancel_requested, flush, interval)
    if on_start:
        on_start(watcher)
    result: dict[str, Any] = {}

    def search() -> None:
        try:
            result["status"] = solver.solve(model, ProgressCallback(live, extract, elapsed, true_objective))
        except BaseException as exc:  # handed to the caller's thread below
            result["error"] = exc

    thread = threading.Thread(target=search, name="cp-sat-search", daemon=True)
    thread.start()
    try:
        watcher.watch(thread)
    finally:
        solver.stop_search()  # a no-op after a normal end; stops the search if the watcher raised
        thread.join()
    if "error" in result:
        raise result["error"]
    status = result["status"]
    has_solution = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    solution = extract(solver.value) if has_solution else None
    objective = None
    if solution is not None:
        objective = true_objective(solution) if true_objective else solver.objective_value
    return Outcome(
        status=solver.status_name(status),
        stop_reason=watcher.stop_reason,
        solution=solution,
        objective=objective,
        solver_objective=solver.objective_value if has_solution else None,
        best_bound=solver.best_objective_bound if has_solution or status == cp_model.UNKNOWN else None,
        num_solutions=live.num_solutions,
        stats={
            "status": solver.status_name(status),
            "wall_time": solver.wall_time,
            "user_time": solver.user_time,
            "conflicts": solver.num_conflicts,
            "branches": solver.num_branches,
            "num_workers": threads,
            "seed": seed,
            "max_time_in_seconds": time_limit,
            "parameters": {k: list(v) if isinstance(v, list | tuple) else v for k, v in (params or {}).items()},
            "solution_info": solver.solution_info(),
        },
    )
