"""A solve's operational events, one log line each (JSON with LOG_FORMAT=json): start, progress (the
first improvement, then a summary every PROGRESS_EVERY seconds), finish and failure, with the run id,
problem type, status and durations in seconds. Start, finish and failure are also counted in the
Prometheus metrics (app/metrics.py), by whichever process (work horse or worker) the event happens in."""

from __future__ import annotations

import logging
import time
from typing import Any

from app import logs, metrics
from app.models import Run, RunStatus

log = logging.getLogger("workers.jobs")
PROGRESS_EVERY = 15.0
_progress_logged: dict[int, float] = {}  # run id -> when its last progress event was logged (this process)


def start(run: Run) -> None:
    wait = (run.started_at - run.created_at).total_seconds() if run.attempt == 1 and run.started_at else None
    if wait is not None:
        metrics.QUEUE_WAIT_SECONDS.labels(run.priority).observe(max(0.0, wait))
    logs.event(
        log,
        "start",
        run_id=run.id,
        problem_type=run.problem_type,
        status=run.status,
        attempt=run.attempt,
        worker=run.worker,
        threads=run.threads,
        time_limit=run.time_limit,
        queue_wait=wait,
    )


def progress(run: Run, point: dict, fields: dict[str, Any]) -> None:
    now = time.monotonic()
    if now - _progress_logged.get(run.id, -PROGRESS_EVERY) < PROGRESS_EVERY:
        return
    _progress_logged[run.id] = now
    logs.event(
        log,
        "progress",
        run_id=run.id,
        problem_type=run.problem_type,
        status="running",
        elapsed=point["elapsed"],
        objective=point["objective"],
        bound=point["bound"],
        gap=fields.get("gap"),
        solutions=fields.get("num_solutions"),
    )


def finish(run: Run, status: str, outcome: Any, fields: dict[str, Any]) -> None:
    # The histogram first: whoever sees the run counted as finished also sees its solve time.
    if fields.get("wall_time") is not None:
        metrics.SOLVE_SECONDS.labels(run.problem_type).observe(fields["wall_time"])
    metrics.RUNS_FINISHED.labels(run.problem_type, status).inc()
    logs.event(
        log,
        "finish",
        run_id=run.id,
        problem_type=run.problem_type,
        status=status,
        solver_status=outcome.status,
        objective=fields.get("objective"),
        bound=outcome.best_bound,
        gap=fields.get("gap"),
        solutions=outcome.num_solutions,
        wall_time=outcome.stats.get("wall_time"),
        stop_reason=outcome.stop_reason,
        attempt=run.attempt,
    )


def failure(run: Run, error: str, duration: float | None = None) -> None:
    metrics.RUNS_FINISHED.labels(run.problem_type, RunStatus.FAILED.value).inc()
    logs.event(
        log,
        "failure",
        logging.ERROR,
        run_id=run.id,
        problem_type=run.problem_type,
        status="failed",
        attempt=run.attempt,
        error=error[:500],
        duration=duration,
    )
