"""The workers and queues at a glance, in SolveQueue's terms: which run each worker solves, since when,
with how many CP-SAT threads; how many runs wait on each queue, the oldest of them, and what runs now.

Read from RQ's worker records and registries in Redis and from the run rows, so it shows workers on
any host that shares the Redis and the database. Nothing here changes a run or a job (RQ itself drops
the record of a worker whose key expired when it lists workers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.utils import utcparse
from sqlalchemy import func
from sqlmodel import col, select

from app import db, queueing
from app.config import Settings
from app.models import PRIORITIES, Run, RunStatus, utcnow

# RQ heartbeats a busy worker every 30 s (job monitoring) and an idle one at the end of each blocking
# dequeue (SolveWorker makes that ≤ 45 s); a heartbeat older than this means the worker is gone or hung.
STALE_AFTER = 90.0
# A field SolveWorker adds to its RQ worker record: its default CP-SAT threads per solve.
THREADS_FIELD = "solvequeue_solver_threads"


@dataclass
class RunRef:
    """A run as the workers and queues views mention it."""

    id: int
    name: str
    problem_type: str
    priority: str
    threads: int
    created_at: datetime
    started_at: datetime | None
    worker: str | None
    status: str

    @property
    def horse_pid(self) -> int | None:
        """The pid of the work horse solving it (the run row says "<worker name> pid <pid>")."""
        tail = (self.worker or "").rpartition(" pid ")[2]
        return int(tail) if tail.isdigit() else None


@dataclass
class WorkerInfo:
    name: str
    host: str | None
    pid: int | None
    state: str  # RQ's: idle, busy, started, suspended
    queues: list[str]
    born: datetime | None
    last_heartbeat: datetime | None
    heartbeat_age: float | None  # seconds
    stale: bool
    threads: int | None  # the running solve's CP-SAT threads, else the worker's default
    jobs_done: int
    jobs_failed: int
    run: RunRef | None = None
    job_started: datetime | None = None  # when it took its current job (this attempt of the run)

    @property
    def since(self) -> datetime | None:
        """When it started the run it solves now; when it came up, if it is idle."""
        if self.run is None:
            return self.born
        return self.job_started or self.run.started_at


@dataclass
class QueueInfo:
    name: str
    depth: int  # jobs waiting in Redis
    queued_runs: int  # runs the database says are queued on this priority (the truth)
    oldest: RunRef | None  # the run waiting longest
    oldest_wait: float | None  # seconds since it was submitted
    running: list[RunRef] = field(default_factory=list)


def aware(value: datetime | None) -> datetime | None:
    """SQLite and RQ hand back naive datetimes; both were stored in UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def solving(job_id: str | None, runs: dict[int, RunRef]) -> RunRef | None:
    """The run a worker's job is solving: the job's run, or the chunk's run that is running now."""
    ids = queueing.run_ids_of(job_id)
    if len(ids) == 1:
        return runs.get(ids[0])
    return next((runs[i] for i in ids if i in runs and runs[i].status == RunStatus.RUNNING.value), None)


def _runs(settings: Settings, ids: set[int]) -> dict[int, RunRef]:
    if not ids:
        return {}
    cols = (
        Run.id, Run.name, Run.problem_type, Run.priority, Run.threads, Run.created_at, Run.started_at, Run.worker,
        Run.status,
    )
    with db.session(settings.DATABASE_URL) as s:
        rows = s.exec(select(*cols).where(col(Run.id).in_(ids))).all()
    return {r[0]: RunRef(*r[:5], aware(r[5]), aware(r[6]), r[7], r[8]) for r in rows}


def workers(settings: Settings, redis: Redis | None = None) -> list[WorkerInfo]:
    """Every registered RQ worker, busiest first, with the run it is solving."""
    redis = redis or queueing.connect(settings.REDIS_URL)
    found = Worker.all(connection=redis)
    jobs = {w.name: w.get_current_job_id() for w in found}
    runs = _runs(settings, {rid for j in jobs.values() for rid in queueing.run_ids_of(j)})
    now = utcnow()
    out = [_worker_info(w, redis, jobs[w.name], solving(jobs[w.name], runs), now) for w in found]
    return sorted(out, key=lambda w: (w.run is None, w.host or "", w.name))


def _worker_info(w: Worker, redis: Redis, job_id: str | None, run: RunRef | None, now: datetime) -> WorkerInfo:
    beat = aware(w.last_heartbeat)
    age = (now - beat).total_seconds() if beat else None
    default_threads = redis.hget(w.key, THREADS_FIELD)
    # A retried run started long ago on another worker; this worker took it when RQ started the job.
    # (A chunk's job started with its first run: the run's own start says more.)
    own_job = run is not None and job_id == queueing.job_id_for(run.id)
    job_started = redis.hget(Job.key_for(job_id), "started_at") if own_job else None
    return WorkerInfo(
        name=w.name,
        host=w.hostname,
        pid=w.pid,
        state=w.get_state(),
        queues=w.queue_names(),
        born=aware(w.birth_date),
        last_heartbeat=beat,
        heartbeat_age=age,
        stale=age is None or age > STALE_AFTER,
        threads=run.threads if run else (int(default_threads) if default_threads else None),
        jobs_done=w.successful_job_count,
        jobs_failed=w.failed_job_count,
        run=run,
        job_started=aware(utcparse(job_started.decode())) if job_started else None,
    )


def queues(settings: Settings, redis: Redis | None = None) -> list[QueueInfo]:
    """The three priority queues: what waits (oldest first) and what runs now."""
    redis = redis or queueing.connect(settings.REDIS_URL)
    started = {name: StartedJobRegistry(name, connection=redis).get_job_ids(cleanup=False) for name in PRIORITIES}
    running_ids = {rid for ids in started.values() for j in ids for rid in queueing.run_ids_of(j)}
    oldest, counts = _oldest_queued(settings)
    runs = _runs(settings, running_ids | {r for r in oldest.values()})
    now = utcnow()
    out = []
    for name in PRIORITIES:
        first = runs.get(oldest.get(name, -1))
        out.append(
            QueueInfo(
                name=name,
                depth=Queue(name, connection=redis).count,
                queued_runs=counts.get(name, 0),
                oldest=first,
                oldest_wait=(now - first.created_at).total_seconds() if first else None,
                running=[r for j in started[name] if (r := solving(j, runs)) is not None],
            )
        )
    return out


def _oldest_queued(settings: Settings) -> tuple[dict[str, int], dict[str, int]]:
    """Per priority: the id of the queued run submitted first, and how many runs are queued."""
    queued = Run.status == RunStatus.QUEUED.value
    with db.session(settings.DATABASE_URL) as s:
        counts = dict(s.exec(select(Run.priority, func.count()).where(queued).group_by(Run.priority)).all())
        oldest = {}
        for name in counts:
            first = select(Run.id).where(queued, Run.priority == name).order_by(col(Run.created_at), col(Run.id))
            if (rid := s.exec(first.limit(1)).first()) is not None:
                oldest[name] = rid
    return oldest, counts
