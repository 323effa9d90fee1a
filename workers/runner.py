"""The solve runner: a problem's search strategy, a progress reporter and a stop watcher.

CP-SAT cannot be interrupted by RQ's SIGALRM timeout, so the solve stops itself. The problem's search
strategy (by default: build the model, hint the checkpoint, one CP-SAT solve) runs in a search thread
(SearchThreads: kept between runs), model building included; the calling thread (the work horse's main
thread) watches for a cancel request, the deadline and SIGTERM, calls `stop_search()` on every CP-SAT
solve in flight, and writes buffered progress at most every `interval` seconds, so the search never
waits on the database.

Every solution a strategy finds goes through `Search.report`: the problem's checker counts its true
cost, and only a feasible solution strictly better than the incumbent is kept. So the incumbent (and
the checkpoint written from it) only ever improves, across stages and across attempts. A problem whose
checker is itself costly (`ProblemType.defer_check`) has CP-SAT's solutions checked by the watcher
instead, once per progress interval and at the end, off the solver's threads.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from app.problems.base import (
    Check,
    Extract,
    ProblemType,
    SubSolve,
    apply_solver_params,
    default_search,
    stopping_when,
)

POLL_SECONDS = 0.1
# A strategy that does not return this long after a stop request (e.g. stuck building a huge model in
# Python) is abandoned: the run ends with what it has, and the work horse exits with the thread.
ABANDON_AFTER = 3.0


@dataclass
class Live:
    """What the search has found since the last flush; read and reset by the watcher under `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    points: list[dict] = field(default_factory=list)
    objective: float | None = None  # of the incumbent, as the problem's checker counts it
    solver_objective: float | None = None  # what CP-SAT reported for it (can be overstated)
    bound: float | None = None
    num_solutions: int = 0  # improving solutions kept
    incumbent: dict | None = None  # the best solution, for the checkpoint
    check: Check | None = None  # the checker's verdict on the incumbent
    incumbent_saved: bool = True
    # A solution CP-SAT found, better than the incumbent, not yet checked (`ProblemType.defer_check`):
    # (solution, CP-SAT's objective). `Search.verify` checks it and makes it the incumbent.
    pending: tuple[dict, float] | None = None
    log: list[str] = field(default_factory=list)  # CP-SAT's search log lines since the last flush


class Search:
    """The `SearchContext` a strategy works with (see app/problems/base.py)."""

    def __init__(
        self,
        problem: ProblemType,
        inp: Any,
        *,
        threads: int,
        seed: int,
        deadline: float,
        elapsed: Callable[[], float],
        checkpoint: dict | None = None,
    ):
        self.problem, self.inp, self.threads, self.seed = problem, inp, threads, seed
        self.params: Mapping[str, Any] = dict(problem.solver_params)
        self.checkpoint = checkpoint
        self.live = Live()
        self.deadline, self.elapsed = deadline, elapsed
        self.maximize = problem.maximizes(inp)
        self.stop_event = threading.Event()
        self._solvers: set[cp_model.CpSolver] = set()
        self._solvers_lock = threading.Lock()
        self.last: SubSolve | None = None  # the newest solve, for statistics
        # CP-SAT's own work, summed over the strategy's solves (wall_time in the stats is the whole run's).
        self.totals = {"solves": 0, "conflicts": 0, "branches": 0, "user_time": 0.0, "solver_wall_time": 0.0}

    # -- what a strategy calls ------------------------------------------------------------------
    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def stopped(self) -> bool:
        return self.stop_event.is_set() or self.remaining() <= 0

    def incumbent(self) -> tuple[dict, float] | None:
        with self.live.lock:
            if self.live.incumbent is None:
                return None
            return self.live.incumbent, self.live.objective

    def report(self, solution: dict, solver_objective: float | None = None) -> bool:
        if self.problem.defer_check and solver_objective is not None:
            return self._defer(solution, solver_objective)
        check = self.problem.check(self.inp, solution)  # outside the lock: it can take a while
        if not check.ok:
            return False
        with self.live.lock:
            if not self._keep(solution, check, solver_objective):
                return False
            self.live.num_solutions += 1
            self.live.points.append({"elapsed": self.elapsed(), "objective": check.objective, "bound": self.live.bound})
        return True

    def verify(self) -> None:
        """Check the pending solution (`ProblemType.defer_check`) and keep it if the checker agrees.

        Called by the watcher before each flush and once at the end, so a checkpoint or a result is
        only ever written from a checked solution."""
        with self.live.lock:
            pending, self.live.pending = self.live.pending, None
        if pending is None:
            return
        check = self.problem.check(self.inp, pending[0])
        if not check.ok:
            self.log(f"[a solution CP-SAT reported failed the checker, dropped: {'; '.join(check.violations[:3])}]")
            return
        with self.live.lock:
            self._keep(pending[0], check, pending[1])

    def _defer(self, solution: dict, solver_objective: float) -> bool:
        with self.live.lock:
            best = self.live.pending[1] if self.live.pending else self.live.objective
            if (self.live.incumbent is not None or self.live.pending) and not self._better(solver_objective, best):
                return False
            self.live.pending = (solution, solver_objective)
            self.live.num_solutions += 1
            point = {"elapsed": self.elapsed(), "objective": solver_objective, "bound": self.live.bound}
            self.live.points.append(point)
        return True

    def _keep(self, solution: dict, check: Check, solver_objective: float | None = None) -> bool:
        """Make a checked solution the incumbent if it is strictly better (called under the lock)."""
        if self.live.incumbent is not None and not self._better(check.objective, self.live.objective):
            return False
        self.live.objective, self.live.solver_objective = check.objective, solver_objective
        self.live.incumbent, self.live.check, self.live.incumbent_saved = solution, check, False
        return True

    def log(self, message: str) -> None:
        """One message of CP-SAT's log (called from its threads), as CP-SAT would print it, or a line of
        the strategy's own (SearchContext.log)."""
        with self.live.lock:
            self.live.log.append(message + "\n")

    def report_bound(self, bound: float) -> None:
        with self.live.lock:
            if self.live.bound is not None and not self._better(self.live.bound, bound):
                return  # bounds only tighten
            self.live.bound = bound
            self.live.points.append({"elapsed": self.elapsed(), "objective": self.live.objective, "bound": bound})

    def solve(
        self,
        model: cp_model.CpModel,
        extract: Extract,
        *,
        time_limit: float,
        params: Mapping[str, Any] | None = None,
        threads: int | None = None,
        full: bool = True,
        report: bool = True,
        stop_when: Callable[[], bool] | None = None,
    ) -> SubSolve:
        solver = cp_model.CpSolver()
        # CP-SAT's search log of the whole problem goes to the run's stored log (a problem's params may
        # still change this); a neighbourhood or sub-stage solve gets one summary line instead.
        solver.parameters.log_search_progress = full
        solver.parameters.log_to_stdout = False
        solver.log_callback = self.log
        apply_solver_params(solver.parameters, {**self.params, **(params or {})})
        solver.parameters.max_time_in_seconds = max(0.0, min(time_limit, self.remaining()))
        solver.parameters.num_workers = threads or self.threads
        solver.parameters.random_seed = self.seed
        if full:
            solver.best_bound_callback = self.report_bound
        with self._solvers_lock:
            self._solvers.add(solver)
        try:
            if self.stopped():
                return SubSolve("UNKNOWN", None, None, None, 0.0, solver)
            reporter = _Reporter(self, extract) if report else None
            with stopping_when(solver, stop_when):
                status = solver.solve(model, reporter)
        finally:
            with self._solvers_lock:
                self._solvers.discard(solver)
        return self._finish(solver, status, extract, full, reporter)

    # -- for the runner ---------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the strategy to return and stop every solve in flight (again on every tick: a solve
        that was starting when the stop came may have missed the first call)."""
        self.stop_event.set()
        with self._solvers_lock:
            for solver in self._solvers:
                solver.stop_search()

    def _better(self, a: float, b: float | None) -> bool:
        return b is None or (a > b if self.maximize else a < b)

    def _finish(
        self, solver: cp_model.CpSolver, status: int, extract: Extract, full: bool, reporter: _Reporter | None
    ) -> SubSolve:
        has_solution = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        solution = extract(solver.value) if has_solution else None
        if solution is not None and reporter is not None and solution != reporter.last:
            # The callback has seen it already when CP-SAT found it during the search (then it is not
            # checked twice); a solution found in presolve alone reaches us only here.
            self.report(solution, solver.objective_value)
        bound = solver.best_objective_bound if has_solution or status == cp_model.UNKNOWN else None
        if full and bound is not None and has_solution:
            self.report_bound(bound)
        self.totals["solves"] += 1
        if not full:
            objective = f"objective {solver.objective_value:g}" if has_solution else "no solution"
            self.log(
                f"[sub-solve {self.totals['solves']}: {solver.status_name(status)}, {objective}, "
                f"{solver.wall_time:.2f} s]"
            )
        self.totals["conflicts"] += solver.num_conflicts
        self.totals["branches"] += solver.num_branches
        self.totals["user_time"] += solver.user_time
        self.totals["solver_wall_time"] += solver.wall_time
        self.last = SubSolve(
            status=solver.status_name(status),
            solution=solution,
            objective=solver.objective_value if has_solution else None,
            bound=bound,
            wall_time=solver.wall_time,
            solver=solver,
        )
        return self.last


class _Reporter(cp_model.CpSolverSolutionCallback):
    """Passes every solution CP-SAT finds to `Search.report`."""

    def __init__(self, search: Search, extract: Extract):
        super().__init__()
        self.search, self.extract = search, extract
        self.last: dict | None = None  # the last solution it passed on

    def on_solution_callback(self) -> None:
        self.last = self.extract(self.value)
        self.search.report(self.last, self.objective_value)


class Watcher:
    """Polls for a cancel request, the deadline and shutdown; flushes progress on a throttle.

    It runs in the thread that called run() (the work horse's main thread) while the strategy runs in
    a thread of its own: Python runs signal handlers only in the main thread, and only between
    bytecodes, so a main thread blocked inside a solve would never see SIGTERM.
    """

    def __init__(
        self,
        search: Search,
        deadline: float,
        cancel_requested: Callable[[], bool],
        flush: Callable[[Live], None],
        interval: float,
        taken_over: Callable[[], bool] = lambda: False,
    ):
        self.search, self.deadline = search, deadline
        self.cancel_requested, self.flush, self.interval = cancel_requested, flush, interval
        self.taken_over = taken_over
        # "canceled", "deadline", "shutdown" or "taken over" (another attempt holds the run now: this
        # one must stop without writing); None while the search runs or ends by itself.
        self.stop_reason: str | None = None
        self.shutdown = threading.Event()
        self.abandoned = False  # the strategy did not return in time after a stop

    def watch(self, done: threading.Event) -> None:
        """Until the strategy is `done`: stop it when asked, and flush progress every `interval` seconds.

        The first flush comes after one interval, and what is left at the end stays in `search.live`
        for the caller to store with the result: a run that ends within one interval writes once. The
        first look for a stop request comes after one tick, too: a run that ends within it (most small
        runs) never asks Redis, and a cancel sent meanwhile is seen one tick later."""
        last_flush, stop_at = time.monotonic(), None
        done.wait(POLL_SECONDS)
        while not done.is_set():
            if self.stop_reason is None:
                self.stop_reason = self._why_stop()
            if self.stop_reason is not None:
                self.search.stop()
                stop_at = stop_at or time.monotonic()
                if time.monotonic() - stop_at > ABANDON_AFTER:
                    self.abandoned = True
                    break
            if time.monotonic() - last_flush >= self.interval:
                self.search.verify()
                self.flush(self.search.live)
                last_flush = time.monotonic()
            done.wait(POLL_SECONDS)

    def _why_stop(self) -> str | None:
        if self.taken_over():
            return "taken over"
        if self.shutdown.is_set():
            return "shutdown"
        if time.monotonic() >= self.deadline:
            return "deadline"
        try:
            return "canceled" if self.cancel_requested() else None
        except Exception:  # Redis hiccup: keep solving, look again next tick
            return None


class SearchThreads:
    """The threads strategies run in, kept for the next run once a strategy returns: a fresh thread for
    every run cost a tiny run ~0.5 ms (its build and solve ran slower on a new thread's cold stack).
    One per strategy at a time; a strategy abandoned after a stop keeps its thread until it returns.
    Per process: a forked work horse starts with none (threads do not survive a fork)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pid, self._idle, self._busy = 0, [], 0

    def start(self, target: Callable[[], None]) -> threading.Event:
        """Run `target` in an idle search thread (or a new one); the event is set when it returns."""
        done = threading.Event()
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._idle, self._busy = os.getpid(), [], 0
            inbox = self._idle.pop() if self._idle else self._spawn()
            self._busy += 1
        inbox.put((target, done))
        return done

    def busy(self) -> int:
        """Strategies still running (after a run has returned: only an abandoned one)."""
        with self._lock:
            return self._busy if self._pid == os.getpid() else 0

    def _spawn(self) -> queue.SimpleQueue:
        inbox: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._serve, args=(inbox,), name="search", daemon=True).start()
        return inbox

    def _serve(self, inbox: queue.SimpleQueue) -> None:
        while True:
            target, done = inbox.get()
            try:
                target()  # (it hands its own errors to the caller)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._idle.append(inbox)
                done.set()


SEARCH_THREADS = SearchThreads()


@dataclass
class Outcome:
    status: str  # OPTIMAL / FEASIBLE (a solution), INFEASIBLE, MODEL_INVALID, UNKNOWN (none found)
    stop_reason: str | None
    solution: dict | None  # the incumbent: the best solution found, checked
    objective: float | None  # its true cost, as the problem's checker counts it
    solver_objective: float | None
    best_bound: float | None
    num_solutions: int
    stats: dict
    check: Check | None = None  # the checker's verdict on `solution`
    abandoned: bool = False  # the strategy thread is still running: the process must exit after storing
    # Progress found since the watcher's last flush: the caller stores it with the result.
    live: Live = field(default_factory=Live)


def run(
    problem: ProblemType,
    inp: Any,
    *,
    time_limit: float,
    threads: int,
    seed: int,
    cancel_requested: Callable[[], bool],
    flush: Callable[[Live], None],
    interval: float,
    offset: float = 0.0,
    checkpoint: dict | None = None,
    on_start: Callable[[Watcher], None] | None = None,
    taken_over: Callable[[], bool] = lambda: False,
) -> Outcome:
    """Run the problem's search strategy for at most `time_limit` seconds, reporting progress and
    obeying stop requests. `offset` is the solving time earlier attempts used (progress is plotted on
    one time axis); `checkpoint` is their best solution, offered as the first incumbent."""
    t0 = time.monotonic()
    deadline = t0 + time_limit
    search = Search(
        problem,
        inp,
        threads=threads,
        seed=seed,
        deadline=deadline,
        elapsed=lambda: offset + time.monotonic() - t0,
        checkpoint=checkpoint,
    )
    # The strategy's own time checks end the search; the watcher's deadline (+1 s) is the backstop.
    watcher = Watcher(search, deadline + 1.0, cancel_requested, flush, interval, taken_over)
    if on_start:
        on_start(watcher)
    result: dict[str, Any] = {}

    def strategy() -> None:
        try:
            if checkpoint:
                search.report(checkpoint)  # resuming never loses ground: the checkpoint is the first incumbent
            result["claimed"] = (problem.search or default_search)(search)
        except BaseException as exc:  # handed to the caller's thread below
            result["error"] = exc

    done = SEARCH_THREADS.start(strategy)
    try:
        watcher.watch(done)
    finally:
        search.stop()  # a no-op after a normal end; stops the search if the watcher raised
        if not watcher.abandoned:
            done.wait()
    if "error" in result:
        raise result["error"]
    search.verify()
    return _outcome(search, watcher, result.get("claimed"), time.monotonic() - t0, time_limit)


def _outcome(search: Search, watcher: Watcher, claimed: str | None, wall: float, time_limit: float) -> Outcome:
    live = search.live
    with live.lock:
        solution, objective, solver_objective = live.incumbent, live.objective, live.solver_objective
        check = live.check
        bound, num_solutions = live.bound, live.num_solutions
    if solution is not None:
        status = "OPTIMAL" if claimed == "OPTIMAL" else "FEASIBLE"
    else:
        status = claimed if claimed in ("INFEASIBLE", "MODEL_INVALID") else "UNKNOWN"
    last = search.last.solver if search.last else None
    return Outcome(
        status=status,
        stop_reason=watcher.stop_reason,
        solution=solution,
        objective=objective,
        solver_objective=solver_objective,
        best_bound=bound,
        num_solutions=num_solutions,
        check=check,
        abandoned=watcher.abandoned,
        live=live,
        stats={
            "status": status,
            "wall_time": wall,
            **search.totals,
            "num_workers": search.threads,
            "seed": search.seed,
            "max_time_in_seconds": time_limit,
            "parameters": {k: list(v) if isinstance(v, list | tuple) else v for k, v in search.params.items()},
            "strategy": getattr(search.problem.search, "__name__", None) or "default",
            "solution_info": last.solution_info() if last else "",
        },
    )
