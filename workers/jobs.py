"""The RQ job: solve_run(run_id). It loads the run, solves it and stores an explained result.

Jobs fail loudly: any error is written to the run row, then re-raised so RQ and rq-dashboard see it.
A work horse killed mid-solve (or stopped by SIGTERM) is retried by RQ; the retry resumes from the
run's checkpoint, the best solution found so far, given to CP-SAT as hints.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from typing import Any

import ortools
from rq import get_current_job

from app import config, db, lifecycle, problems, queueing
from app.models import Run, RunStatus
from workers import runner

log = logging.getLogger(__name__)


class WorkerShutdown(RuntimeError):
    """The worker was told to stop mid-solve; the run stays running and RQ retries it elsewhere."""


def solve_run(run_id: int) -> str:
    settings = config.load()
    if settings.SOLVER_NICE:
        # Each job runs in a fresh forked work horse, so this lowers only this solve's priority.
        os.nice(settings.SOLVER_NICE)
    with db.session(settings.DATABASE_URL) as s:
        if not lifecycle.start(s, run_id, worker=_worker_name()):
            run = s.get(Run, run_id)
            return f"skipped: run {run_id} is {run.status if run else 'missing'}"
        run = s.get(Run, run_id)
    if run.attempt > settings.MAX_ATTEMPTS:
        return _give_up(settings, run)
    try:
        return _solve(settings, run)
    except WorkerShutdown:
        raise  # leave the run running: RQ's retry resumes it from the checkpoint
    except Exception as exc:
        with db.session(settings.DATABASE_URL) as s:
            lifecycle.fail(s, run_id, f"{type(exc).__name__}: {exc}")
        _no_retry()
        raise


def _solve(settings: config.Settings, run: Run) -> str:
    problem = problems.get(run.problem_type)
    inp = problem.validate(run.input)
    checkpoint = run.checkpoint or {}
    used = float(checkpoint.get("elapsed", 0.0))
    redis = queueing.connect(settings.REDIS_URL)
    outcome = runner.run(
        problem,
        inp,
        time_limit=max(1.0, run.time_limit - used),
        threads=run.threads,
        seed=int((run.stats or {}).get("seed", 0)),
        cancel_requested=lambda: queueing.cancel_requested(redis, run.id),
        flush=lambda live: _flush(settings, run, live),
        interval=settings.PROGRESS_INTERVAL,
        offset=used,
        checkpoint=checkpoint.get("solution"),
        on_start=_on_sigterm_stop,
    )
    _flush(settings, run, None, final=outcome)
    if outcome.stop_reason == "shutdown":
        raise WorkerShutdown(f"run {run.id} interrupted by worker shutdown; it will resume")
    return _store(settings, run, problem, inp, outcome)


def _on_sigterm_stop(watcher: runner.Watcher) -> None:
    # RQ's work horse runs in its own process group with default SIGTERM; a platform restart signals
    # every process, so stop the search cleanly and let the retry resume elsewhere.
    signal.signal(signal.SIGTERM, lambda *_: watcher.shutdown.set())


def _flush(settings: config.Settings, run: Run, live: runner.Live | None, final: runner.Outcome | None = None) -> None:
    """Write buffered progress points, live figures and the checkpoint (one transaction)."""
    fields: dict[str, Any] = {}
    points: list[dict] = []
    if live is not None:
        with live.lock:
            points, live.points = live.points, []
            fields = {
                "num_solutions": live.num_solutions,
                "objective": live.objective,
                "solver_objective": live.solver_objective,
                "best_bound": live.bound,
            }
            if not live.incumbent_saved:
                elapsed = points[-1]["elapsed"] if points else 0.0
                fields["checkpoint"] = {"solution": live.incumbent, "elapsed": elapsed, "objective": live.objective}
                live.incumbent_saved = True
        if not points and "checkpoint" not in fields:
            return
    if final is not None:
        wall = final.stats["wall_time"] + float((run.checkpoint or {}).get("elapsed", 0.0))
        points.append({"elapsed": wall, "objective": final.objective, "bound": final.best_bound})
        fields = {"wall_time": wall, "best_bound": final.best_bound, "solver_objective": final.solver_objective}
        if final.solution is not None:
            fields["checkpoint"] = {"solution": final.solution, "elapsed": wall, "objective": final.objective}
    for p in points:
        p["attempt"] = run.attempt
    if points:
        fields["gap"] = _gap(points[-1]["objective"], points[-1]["bound"])
    with db.session(settings.DATABASE_URL) as s:
        lifecycle.record_progress(s, run.id, points, **fields)


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(1.0, abs(objective))


def _store(
    settings: config.Settings, run: Run, problem: problems.ProblemType, inp: Any, outcome: runner.Outcome
) -> str:
    """Check the solution independently, then store the result with its terminal status."""
    stats = {
        **(run.stats or {}),
        **outcome.stats,
        "ortools_version": ortools.__version__,
        "stop_reason": outcome.stop_reason,
        "attempt": run.attempt,
    }
    fields: dict[str, Any] = {"solver_status": outcome.status, "stats": stats, "num_solutions": outcome.num_solutions}
    canceled = outcome.stop_reason == "canceled"
    if outcome.solution is not None:
        check = problem.check(inp, outcome.solution)
        if not check.ok:
            raise RuntimeError("the checker rejected the solver's solution: " + "; ".join(check.violations[:5]))
        fields.update(
            objective=check.objective,
            solver_objective=outcome.solver_objective,
            best_bound=outcome.best_bound,
            gap=_gap(check.objective, outcome.best_bound),
            result={
                "solution": outcome.solution,
                "breakdown": problem.breakdown(check),
                "checked": True,
                "summary": problem.summary(inp),
            },
        )
        to = RunStatus.CANCELED if canceled else RunStatus.SUCCEEDED
    elif outcome.status == "INFEASIBLE":
        to = RunStatus.INFEASIBLE
        fields["error"] = "no solution satisfies every hard rule (proved infeasible)"
    elif canceled:
        to = RunStatus.CANCELED
    elif outcome.status == "MODEL_INVALID":
        to, fields["error"] = RunStatus.FAILED, "the solver rejected the model as invalid"
    else:
        to, fields["error"] = RunStatus.FAILED, "no solution within the time limit"
    with db.session(settings.DATABASE_URL) as s:
        lifecycle.finish(s, run.id, to, **fields)
    queueing.connect(settings.REDIS_URL).delete(queueing.cancel_key(run.id))
    return f"run {run.id}: {to.value} ({outcome.status})"


def _give_up(settings: config.Settings, run: Run) -> str:
    error = f"the worker solving this run was lost {run.attempt - 1} times; giving up"
    with db.session(settings.DATABASE_URL) as s:
        lifecycle.fail(s, run.id, error)
    return error


def _no_retry() -> None:
    # RQ retries are for lost work horses; an error in the solve itself would only repeat.
    job = get_current_job()
    if job is not None:
        job.retries_left = 0


def _worker_name() -> str:
    # The work horse's pid, so an operator (or a fault-injection test) can find the process.
    return f"{os.environ.get('RQ_WORKER_ID') or socket.gethostname()} pid {os.getpid()}"
