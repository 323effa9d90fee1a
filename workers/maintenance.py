"""Maintenance: reconcile the DB with Redis, recover runs whose worker was lost, purge old runs.

The DB, not RQ, decides what must still run. A running run belongs to the attempt holding its lease;
only when the lease expired (the process died unseen) or was released (a clean shutdown, or a worker
that saw its work horse die) is it put back, at the front of its queue. `recover` looks only at those
runs and is cheap enough for every idle worker to run every few seconds; `reconcile` also re-enqueues
queued runs whose job Redis lost, and runs about once a minute. One worker at a time (Redis locks).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from redis import Redis
from rq.job import Job, JobStatus
from sqlalchemy import or_
from sqlmodel import col, delete, select

from app import db, lifecycle, queueing
from app.config import Settings
from app.models import ProgressPoint, Run, RunStatus, utcnow

log = logging.getLogger(__name__)
LOCK = "solvequeue:maintenance"
RECOVER_LOCK = "solvequeue:recover"
# A queued run younger than this may be between its commit and its enqueue: leave it alone.
ENQUEUE_GRACE = timedelta(seconds=15)
WAITING = {JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def run_once(settings: Settings, redis: Redis) -> dict[str, int]:
    lock = redis.lock(LOCK, timeout=300, blocking=False)
    if not lock.acquire(blocking=False):
        return {}
    try:
        done = reconcile(settings, redis)
        done["purged"] = purge(settings)
        return done
    finally:
        lock.release()


def recover_once(settings: Settings, redis: Redis) -> dict[str, int]:
    """`recover` under its own short lock (idle workers call this every RECOVER_INTERVAL seconds)."""
    lock = redis.lock(RECOVER_LOCK, timeout=60, blocking=False)
    if not lock.acquire(blocking=False):
        return {}
    try:
        return recover(settings, redis)
    finally:
        lock.release()


def reconcile(settings: Settings, redis: Redis) -> dict[str, int]:
    """Recover lost running runs; re-enqueue queued runs whose job is gone or dead."""
    counts = recover(settings, redis)
    now = utcnow()
    with db.session(settings.DATABASE_URL) as s:
        queued = list(s.exec(select(Run).where(Run.status == RunStatus.QUEUED.value)))
    for run in queued:
        if now - _aware(run.created_at) < ENQUEUE_GRACE:
            continue
        job = queueing.fetch_job(redis, run.id)
        if _in_hand(job, settings.LEASE_SECONDS):
            continue
        _enqueue(settings, redis, run, job, at_front=False)
        counts["requeued"] += 1
    return counts


def recover(settings: Settings, redis: Redis) -> dict[str, int]:
    """Running runs nobody holds (lease expired or released): back to the front of their queue, or
    failed with the reason once the process solving them was lost MAX_ATTEMPTS times."""
    counts = {"requeued": 0, "failed": 0}
    now = utcnow()
    unheld = or_(col(Run.lease_owner).is_(None), col(Run.lease_expires_at) < now)
    with db.session(settings.DATABASE_URL) as s:
        runs = list(s.exec(select(Run).where(Run.status == RunStatus.RUNNING.value, unheld)))
    for run in runs:
        expired = run.lease_owner is not None
        lost = run.lost + expired  # an expired lease is a loss the next start would count
        if lost >= settings.MAX_ATTEMPTS:
            reason = lifecycle.EXPIRED if expired else run.lost_reason
            with db.session(settings.DATABASE_URL) as s:
                counts["failed"] += lifecycle.fail(s, run.id, give_up_message(lost, reason))
            continue
        job = queueing.fetch_job(redis, run.id)
        if _in_hand(job, settings.LEASE_SECONDS):
            continue
        _enqueue(settings, redis, run, job, at_front=True)
        counts["requeued"] += 1
    return counts


def give_up_message(lost: int, reason: str | None) -> str:
    return f"the process solving this run was lost {lost} times; giving up (last: {reason or 'unknown'})"


def _in_hand(job: Job | None, lease_seconds: float) -> bool:
    """The job waits in a queue, or a worker took it a moment ago and is about to take the lease."""
    if job is None:
        return False
    status = job.get_status(refresh=False)
    if status in WAITING:
        return True
    started = job.started_at
    return (
        status == JobStatus.STARTED
        and started is not None
        and utcnow() - _aware(started) < timedelta(seconds=lease_seconds)
    )


def _enqueue(settings: Settings, redis: Redis, run: Run, job: Job | None, at_front: bool) -> None:
    if job is not None:
        job.delete()  # a dead attempt's job: out of the started registry, so RQ will not retry it too
    queueing.enqueue_solve(redis, run.id, run.priority, run.time_limit, settings.JOB_TIMEOUT_GRACE, at_front=at_front)
    log.warning("run %s (%s, lease %s) re-enqueued", run.id, run.status, "expired" if run.lease_owner else "free")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def purge(settings: Settings) -> int:
    """Delete finished runs older than RETENTION_DAYS (0 keeps everything)."""
    if settings.RETENTION_DAYS <= 0:
        return 0
    cutoff = utcnow() - timedelta(days=settings.RETENTION_DAYS)
    with db.session(settings.DATABASE_URL) as s:
        old = select(Run.id).where(col(Run.finished_at) < cutoff, col(Run.status).not_in(["queued", "running"]))
        ids = list(s.exec(old))
        if ids:
            s.exec(delete(ProgressPoint).where(col(ProgressPoint.run_id).in_(ids)))
            s.exec(delete(Run).where(col(Run.id).in_(ids)))
            s.commit()
        return len(ids)
