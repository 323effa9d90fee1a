"""Redis connection, the three RQ queues, enqueueing a run and asking a running solve to stop.

Jobs are enqueued by dotted name, so the web process never imports the worker code (or OR-Tools).

A run's job is `run-<id>`. Small runs submitted together (a batch) share jobs instead: the runs of one
aligned block of CHUNK_RUNS ids (`runs-<first>-<last>`, derived from any of its ids) go in one job when
the batch holds the whole block, so RQ's per-job bookkeeping (~3 ms of a worker's ~11 ms for a tiny run)
is paid once per block. The run row stays the truth: the chunk's worker skips a run that is no longer
queued, and a run that waits too long behind a slow one in its chunk is handed on to a job of its own
(workers.jobs.solve_runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry as RedisRetry
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.queue import EnqueueData

from app.models import PRIORITIES, job_id_for

SOLVE_JOB = "workers.jobs.solve_run"
CHUNK_JOB = "workers.jobs.solve_runs"
# Small runs of one batch solved in one job (see above). Ids are aligned in blocks of this size, so any
# process finds a run's chunk from its id alone: keep it the same on every host.
CHUNK_RUNS = 8
CANCEL_TTL = 24 * 3600
# RQ only carries a retry (a work horse died, or a shutdown handed the run over); the run row counts the
# losses and gives up after MAX_ATTEMPTS of them, so RQ's own count is just a generous backstop.
RQ_RETRIES = 50


@lru_cache(maxsize=8)
def connect(url: str) -> Redis:
    """The web's (and a solve's) Redis: shared per URL (redis-py's pool is thread-safe and reconnects after
    a fork). Short timeouts and one quick retry, so a request answers promptly while Redis is down."""
    return Redis.from_url(
        url,
        health_check_interval=30,
        socket_connect_timeout=2,
        socket_timeout=10,
        retry=RedisRetry(ExponentialBackoff(cap=0.2, base=0.05), 1),
    )


def queue(redis: Redis, priority: str) -> Queue:
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}")
    return Queue(priority, connection=redis)


def enqueue_solve(
    redis: Redis,
    run_id: int,
    priority: str,
    time_limit: float,
    grace: int,
    at_front: bool = False,
    inline: bool = False,
) -> Job:
    """Put solve_run(run_id) on the run's priority queue (a resumed run: at its front). Call only after
    the run row is committed. `inline`: small enough to solve in the worker process (no fork)."""
    return enqueue_solves(redis, [Solve(run_id, priority, time_limit, inline)], grace, at_front=at_front)[0]


@dataclass(frozen=True)
class Solve:
    """One committed run to enqueue (see enqueue_solves)."""

    run_id: int
    priority: str
    time_limit: float
    inline: bool = False


def enqueue_solves(redis: Redis, solves: list[Solve], grace: int, at_front: bool = False) -> list[Job]:
    """Enqueue several runs' solves in one Redis transaction (a batch submission: one round trip, and
    either every job is queued or none is), small ones in chunks (see above). Call only after the run
    rows are committed. Returns the jobs in the order of their first run."""
    groups = [[s] for s in solves] if at_front else chunks(solves)
    with redis.pipeline() as pipe:
        jobs = [
            job
            for priority in dict.fromkeys(s.priority for s in solves)  # queue() refuses an unknown one
            for job in queue(redis, priority).enqueue_many(
                [_job_data(g, grace, at_front) for g in groups if g[0].priority == priority], pipeline=pipe
            )
        ]
        pipe.execute()
    order = {_job_id(g): i for i, g in enumerate(groups)}
    return sorted(jobs, key=lambda job: order[job.id])


def chunks(solves: list[Solve]) -> list[list[Solve]]:
    """The solves grouped into jobs: a whole aligned block of CHUNK_RUNS small runs of one priority is one
    job (in id order); every other solve is a job of its own. In the order of each group's first solve."""
    blocks: dict[tuple[int, str], list[Solve]] = {}
    for s in solves:
        if s.inline:
            blocks.setdefault((s.run_id // CHUNK_RUNS, s.priority), []).append(s)
    whole = {
        key: sorted(block, key=lambda s: s.run_id)
        for key, block in blocks.items()
        if len({s.run_id for s in block}) == CHUNK_RUNS
    }
    groups, placed = [], set()
    for s in solves:
        key = (s.run_id // CHUNK_RUNS, s.priority)
        if key not in whole:
            groups.append([s])
        elif key not in placed:
            placed.add(key)
            groups.append(whole[key])
    return groups


def chunk_job_id(run_id: int) -> str:
    """The id of the job a small run of a batch may share with its block (see CHUNK_RUNS)."""
    first = run_id // CHUNK_RUNS * CHUNK_RUNS
    return f"runs-{first}-{first + CHUNK_RUNS - 1}"


def run_ids_of(job_id: str | None) -> list[int]:
    """The runs a solve job is for, from its id: `run-<id>`, or a chunk's `runs-<first>-<last>`."""
    kind, _, rest = (job_id or "").partition("-")
    if kind == "run" and rest.isdigit():
        return [int(rest)]
    first, _, last = rest.partition("-")
    if kind == "runs" and first.isdigit() and last.isdigit():
        return list(range(int(first), int(last) + 1))
    return []


def _job_id(group: list[Solve]) -> str:
    return job_id_for(group[0].run_id) if len(group) == 1 else chunk_job_id(group[0].run_id)


def _job_data(group: list[Solve], grace: int, at_front: bool) -> EnqueueData:
    first = group[0]
    ids = [s.run_id for s in group]
    return Queue.prepare_data(
        SOLVE_JOB if len(group) == 1 else CHUNK_JOB,
        (first.run_id,) if len(group) == 1 else (ids,),
        job_id=_job_id(group),
        # Last-resort hard kill only: the solve stops itself at its deadline (cooperative stop).
        timeout=int(sum(s.time_limit for s in group)) + grace,
        # A work horse killed mid-solve (OOM, SIGKILL) is retried at once, ahead of runs that have not
        # started, and resumes from its checkpoint.
        retry=Retry(max=RQ_RETRIES, enqueue_at_front=True),
        at_front=at_front,
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        description=f"solve run {first.run_id}" if len(group) == 1 else f"solve runs {ids[0]}-{ids[-1]}",
        meta={"inline": True} if first.inline else None,
    )


def cancel_key(run_id: int) -> str:
    return f"solvequeue:cancel:{run_id}"


def request_cancel(redis: Redis, run_id: int) -> None:
    """Ask the worker solving `run_id` to stop; it keeps its best solution."""
    redis.set(cancel_key(run_id), "1", ex=CANCEL_TTL)


def cancel_requested(redis: Redis, run_id: int) -> bool:
    return bool(redis.exists(cancel_key(run_id)))


def drop_queued_job(redis: Redis, run_id: int) -> None:
    """Take a queued run's job off its queue (the worker would skip it anyway: the DB says canceled).
    A chunk's job stays: it holds other runs; its worker skips this one."""
    try:
        Job.fetch(job_id_for(run_id), connection=redis).cancel()
    except NoSuchJobError:
        pass


def fetch_job(redis: Redis, run_id: int) -> Job | None:
    """The run's job: its own, else the chunk it shares with its block (one round trip)."""
    own, chunk = Job.fetch_many([job_id_for(run_id), chunk_job_id(run_id)], connection=redis)
    return own or chunk


def queue_position(redis: Redis, run_id: int, priority: str) -> int | None:
    """1-based place of the run's job among all jobs a worker would take before it, or None.
    One round trip, whatever the queues hold: the lengths of the queues before the run's, and the
    place of the run's job (its own or its chunk's) in its own queue (LPOS, Redis 6.0.6+), not the job
    ids themselves."""
    if priority not in PRIORITIES:
        return None
    before = PRIORITIES[: PRIORITIES.index(priority)]
    pipe = redis.pipeline(transaction=False)
    for name in before:
        pipe.llen(_queue_key(name))
    pipe.lpos(_queue_key(priority), job_id_for(run_id))
    pipe.lpos(_queue_key(priority), chunk_job_id(run_id))
    *lengths, own, chunk = pipe.execute()
    index = own if own is not None else chunk
    return sum(lengths) + index + 1 if index is not None else None


def _queue_key(name: str) -> str:
    return Queue.redis_queue_namespace_prefix + name  # the Redis list RQ keeps the queue's job ids in
