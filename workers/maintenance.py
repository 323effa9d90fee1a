"""Maintenance: reconcile the DB with Redis, recover runs whose worker was lost, purge old runs.

The DB, not RQ, decides what must still run. One worker at a time does this (a Redis lock).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from redis import Redis
from rq.job import JobStatus
from sqlmodel import col, delete, select

from app import db, idempotency, lifecycle, logs, metrics, queueing
from app.config import Settings
from app.models import IdempotencyKey, ProgressPoint, Run, RunStatus, SolverLogChunk, utcnow

log = logging.getLogger(__name__)
LOCK = "solvequeue:maintenance"
# A queued run younger than this may be between its commit and its enqueue: leave it alone.
ENQUEUE_GRACE = timedelta(seconds=15)
LIVE_JOB = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def run_once(settings: Settings, redis: Redis) -> dict[str, int]:
    lock = redis.lock(LOCK, timeout=300, blocking=False)
    if not lock.acquire(blocking=False):
        return {}
    try:
        done = reconcile(settings, redis)
        done["purged"] = purge(settings)
        done["keys_expired"] = idempotency.purge(settings)
        return done
    finally:
        lock.release()


def reconcile(settings: Settings, redis: Redis) -> dict[str, int]:
    """Re-enqueue active runs whose job is gone or dead; fail those that used up their attempts."""
    counts = {"requeued": 0, "failed": 0}
    now = utcnow()
    with db.session(settings.DATABASE_URL) as s:
        active = list(s.exec(select(Run).where(col(Run.status).in_(["queued", "running"]))))
    for run in active:
        job = queueing.fetch_job(redis, run.id)
        status = job.get_status(refresh=False) if job else None
        if status in LIVE_JOB:
            continue
        created = run.created_at if run.created_at.tzinfo else run.created_at.replace(tzinfo=now.tzinfo)
        if run.status == RunStatus.QUEUED.value and now - created < ENQUEUE_GRACE:
            continue
        if run.attempt >= settings.MAX_ATTEMPTS:
            with db.session(settings.DATABASE_URL) as s:
                failed = lifecycle.fail(s, run.id, f"the worker solving this run was lost {run.attempt} times")
            if failed:
                counts["failed"] += 1
                _record(run, "failed", status)
            continue
        if job is not None:
            job.delete()
        queueing.enqueue_solve(
            redis, run.id, run.priority, run.time_limit, settings.JOB_TIMEOUT_GRACE, settings.MAX_ATTEMPTS - run.attempt
        )
        counts["requeued"] += 1
        _record(run, "requeued", status)
    return counts


def _record(run: Run, action: str, job_status: JobStatus | None) -> None:
    metrics.RECONCILER_ACTIONS.labels(action).inc()
    if action == "failed":
        metrics.RUNS_FINISHED.labels(run.problem_type, RunStatus.FAILED.value).inc()
    logs.event(
        log,
        "reconcile",
        logging.WARNING,
        action=action,
        run_id=run.id,
        problem_type=run.problem_type,
        status=run.status if action == "requeued" else RunStatus.FAILED.value,
        was=run.status,
        job_status=str(job_status.value) if job_status else "missing",
        attempt=run.attempt,
    )


def purge(settings: Settings) -> int:
    """Delete finished runs older than RETENTION_DAYS (0 keeps everything)."""
    if settings.RETENTION_DAYS <= 0:
        return 0
    cutoff = utcnow() - timedelta(days=settings.RETENTION_DAYS)
    with db.session(settings.DATABASE_URL) as s:
        old = select(Run.id).where(col(Run.finished_at) < cutoff, col(Run.status).not_in(["queued", "running"]))
        ids = list(s.exec(old))
        if ids:
            # SQLite does not enforce ON DELETE CASCADE unless asked to: delete the children first.
            for child in (ProgressPoint, SolverLogChunk, IdempotencyKey):
                s.exec(delete(child).where(col(child.run_id).in_(ids)))
            s.exec(delete(Run).where(col(Run.id).in_(ids)))
            s.commit()
        return len(ids)
