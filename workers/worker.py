"""The RQ worker: `rq worker -w workers.worker.SolveWorker --connection-class workers.worker.PatientRedis
--with-scheduler high default low` (the Procfile's command).

Importing this module (in the worker's parent process) preloads OR-Tools and the problem modules, so
each forked work horse starts solving at once instead of paying the ~400 ms import. The worker also
does the maintenance: every idle worker looks for runs whose solving process was lost every
RECOVER_INTERVAL seconds, and one at a time reconciles the DB with Redis every RECONCILE_INTERVAL.

The worker needs only REDIS_URL and DATABASE_URL: it shares no files with the web processes, so it can
run on any host that reaches both. Its metrics are recorded here, in the parent process, after each job
(from the run row), never in a work horse; set WORKER_METRICS_PORT to serve them from a host of its own.
"""

from __future__ import annotations

import gc
import logging
import os
import resource
import signal
import time

from ortools.sat.python import cp_model  # noqa: F401  (preload for forked work horses)
from prometheus_client import start_http_server
from redis import ConnectionPool, Redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry
from rq.job import Job
from rq.queue import Queue
from rq.worker import Worker, WorkerStatus

from app import cluster, config, db, lifecycle, logs, metrics, problems, queueing
from app.models import utcnow
from workers import events, jobs, maintenance, runner  # noqa: F401  (jobs: preloaded for the work horses)

for _problem in problems.all_types():  # preload every problem module, and ready what its search needs
    if _problem.prepare is not None:
        _problem.prepare()
logs.configure()  # plain text, or JSON lines with LOG_FORMAT=json (RQ's own lines too)
log = logging.getLogger(__name__)


class _OnlyRunEvents(logging.Filter):
    """Drops RQ's own INFO lines about each job (picked up, "Job OK", completed): the run's start and
    finish events (workers/events.py) say the same with the run id, status and timings. A tiny run
    logged six lines, four of them RQ's; writing them cost a worker ~0.3 ms a run. RQ's other lines
    (start-up, queues, shutdown, failures) stay."""

    PER_JOB = frozenset({
        "Worker %s: %s: %s (%s)",  # picked up (with the description), and "Job OK"
        "Worker %s: %s: %s",  # picked up (without)
        "Successfully completed %s job in %ss on worker %s",
        "Successfully completed job %s in %ss on worker %s",
    })

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO and record.msg in self.PER_JOB)


logging.getLogger("rq.worker").addFilter(_OnlyRunEvents())


class _LoggedBackoff(ExponentialWithJitterBackoff):
    """Backoff between reconnection attempts that says, now and then, why the worker is waiting."""

    def compute(self, failures: int) -> float:
        wait = super().compute(failures)
        if failures == 1 or failures % 20 == 0:
            log.warning("Redis does not answer (%d tries); trying again in %.1f s", failures, wait)
        return wait


class PatientRedis(Redis):
    """The worker's Redis client: it waits out an outage (reconnecting with backoff) instead of raising.

    RQ 2.12 lets a ConnectionError escape its work-horse monitor (the worker quits and orphans its work
    horse) and its start-up (`rq worker` exits while Redis is down). With this client a busy worker
    keeps watching its work horse, an idle one keeps waiting for work, and a new one waits for Redis.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_retry(Retry(_LoggedBackoff(cap=10, base=0.5), retries=-1))


class SolveWorker(Worker):
    def __init__(self, *args, **kwargs):
        self.settings = config.load()
        # `rq worker` always passes --maintenance-interval (600 s unless given): the reconciler's wins.
        given = kwargs.get("maintenance_interval") or self.settings.RECONCILE_INTERVAL
        kwargs["maintenance_interval"] = min(given, self.settings.RECONCILE_INTERVAL)
        self._next_recovery = 0.0
        self._last_horse_pid = 0
        super().__init__(*args, **kwargs)
        self.log_result_lifespan = False  # "result is kept for 86400 seconds" after every job: see above
        # In this process too, not only in forked work horses: a small run is solved right here (inline).
        limit_memory(self.settings.WORKER_MEMORY_LIMIT_MB)
        if not isinstance(self.connection, PatientRedis):
            self.connection.set_retry(Retry(_LoggedBackoff(cap=10, base=0.5), retries=-1))
        port = os.environ.get("WORKER_METRICS_PORT")
        if port:
            start_http_server(int(port), registry=metrics.process_registry())
        # Everything loaded so far (OR-Tools, numba, the problem modules: ~240,000 objects) lives as long as
        # the process. Frozen, the cyclic garbage collector stops walking it in every full collection (a
        # tiny run spent 0.38 ms in it, 0.16 ms after), and forked work horses stop copying its pages.
        gc.collect()
        gc.freeze()

    def register_birth(self) -> None:
        super().register_birth()
        self.connection.hset(self.key, cluster.THREADS_FIELD, self.settings.SOLVER_THREADS)

    # --- fewer Redis round trips per job ----------------------------------------------------------
    # RQ 2.12 sends the worker's own heartbeat (HSET + EXPIRE, two round trips) three times around every
    # job, and its state twice, on top of what it queues in its pipelines. For a run that solves in a
    # few milliseconds that is a third of RQ's round trips. A heartbeat within HEARTBEAT_EVERY seconds
    # of one that set at least as long an expiry is skipped, the rest go out in one round trip; a state
    # is written only when it changes. rq-dashboard and RQ's clean-up read the same keys as before.
    HEARTBEAT_EVERY = 1.0
    _heartbeat_sent = (-1e9, 0)  # (monotonic time, TTL it set)

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        ttl = timeout or self.worker_ttl + 60
        sent_at, sent_ttl = self._heartbeat_sent
        if pipeline is not None:
            super().heartbeat(ttl, pipeline=pipeline)
        elif time.monotonic() - sent_at < self.HEARTBEAT_EVERY and ttl <= sent_ttl:
            return
        else:
            with self.connection.pipeline(transaction=False) as batch:
                super().heartbeat(ttl, pipeline=batch)
                batch.execute()
        self._heartbeat_sent = (time.monotonic(), ttl)

    def set_state(self, state: str, pipeline=None) -> None:
        if pipeline is None and state == getattr(self, "_state", None):
            return
        super().set_state(state, pipeline=pipeline)

    # --- metrics: recorded in this process, around each job ---------------------------------------
    # (A run's metrics are counted where its events happen: workers/events.py.)
    def execute_job(self, job: Job, queue: Queue) -> None:
        if job.meta.get("inline") and self.settings.INLINE_RUNS:
            self._execute_inline(job, queue)
        else:
            super().execute_job(job, queue)

    # --- maintenance: often enough to recover a lost run within seconds --------------------------
    @property
    def dequeue_timeout(self) -> int:
        # An idle worker would block in BLPOP for ~405 s between maintenance checks.
        return max(1, min(super().dequeue_timeout, int(self.settings.RECOVER_INTERVAL)))

    @property
    def should_run_maintenance_tasks(self) -> bool:
        return super().should_run_maintenance_tasks or time.monotonic() >= self._next_recovery

    def run_maintenance_tasks(self) -> None:
        if super().should_run_maintenance_tasks:
            try:
                super().run_maintenance_tasks()  # RQ's own: registry cleanup, restarting a dead scheduler
            except Exception:  # e.g. Redis down while the scheduler's client tries to start it again
                log.exception("RQ's maintenance failed")
                self.last_cleaned_at = utcnow()  # try again at the next interval, not in a tight loop
            self._guarded(maintenance.run_once)
        else:
            self._guarded(maintenance.recover_once)
        self._next_recovery = time.monotonic() + self.settings.RECOVER_INTERVAL

    def _guarded(self, task) -> None:
        try:
            counts = task(self.settings, self.connection)
            if any(counts.values()):
                log.info("maintenance: %s", counts)
        except Exception:  # maintenance must never take the worker down
            log.exception("maintenance failed")

    def _start_scheduler(self, *args, **kwargs) -> None:
        # RQ's scheduler process gets a client that gives up when Redis is gone, as RQ's own does: a
        # patient one would outlive a killed worker for ever. The worker starts a new one when it died.
        patient, self.connection = self.connection, impatient(self.connection)
        try:
            super()._start_scheduler(*args, **kwargs)
        finally:
            self.connection = patient

    # --- the work horse -------------------------------------------------------------------------
    def fork_work_horse(self, job, queue) -> None:
        super().fork_work_horse(job, queue)
        self._last_horse_pid = self._horse_pid

    def main_work_horse(self, job, queue) -> None:
        if self.settings.SOLVER_NICE:
            os.nice(self.settings.SOLVER_NICE)  # a fresh process each job: only this solve yields the CPU
        super().main_work_horse(job, queue)

    # --- small runs: solved in the worker process itself ----------------------------------------
    def _execute_inline(self, job, queue) -> None:
        """A small run (the submit marks it `inline` from the problem's size estimate) is solved right
        here, without forking a work horse: a fork, a fresh database connection and RQ's horse
        bookkeeping cost more than such a solve. Everything else about the run is the same (lease,
        cancel, deadline, checker, progress). What is given up is isolation: if such a solve crashed the
        process, the worker is gone; the run's lease then expires and the reconciler resumes it, in a
        forked work horse (a re-enqueued run is never inline)."""
        sigterm = signal.getsignal(signal.SIGTERM)
        os.environ["RQ_WORKER_ID"] = self.name  # as a forked work horse has it: the run row names this worker
        self.prepare_execution(job)
        try:
            self.perform_job(job, queue)
        finally:
            signal.signal(signal.SIGTERM, sigterm)  # the solve's own handler is the horse's, not the worker's
            if jobs.SHUTDOWN.is_set() or runner.SEARCH_THREADS.busy():
                # SIGTERM came during the solve (it handed the run over), or a stop left a strategy stuck
                # in Python: end this worker as a work horse would end; the platform starts a new one.
                jobs.SHUTDOWN.clear()
                self.request_stop(signal.SIGTERM, None)
            # Idle again, with the heartbeat RQ's loop sends next (its expiry is longer than the job's
            # heartbeat had set, so it would not be skipped): one round trip instead of two.
            with self.connection.pipeline(transaction=False) as batch:
                self.set_state(WorkerStatus.IDLE, pipeline=batch)
                self.heartbeat(pipeline=batch)
                batch.execute()

    def setup_work_horse_signals(self) -> None:
        super().setup_work_horse_signals()
        # Until the solve's watcher takes SIGTERM over, remember it (RQ's default would kill the horse).
        signal.signal(signal.SIGTERM, lambda *_: jobs.SHUTDOWN.set())

    def handle_warm_shutdown_request(self) -> None:
        # A platform restart: ask the solve to stop now (it saves its checkpoint and hands the run over,
        # which costs no attempt) instead of waiting for the whole time limit, or a cold kill.
        super().handle_warm_shutdown_request()
        if self.horse_pid:
            try:
                os.kill(self.horse_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def handle_work_horse_killed(self, job, retpid, ret_val, rusage) -> None:
        """The work horse died (SIGKILL, OOM, a crash): record it on the run at once, so its retry (at the
        front of the queue) can take it over, and fail the run once it was lost MAX_ATTEMPTS times.
        (A chunk's job: the run among its runs that this work horse held.)"""
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        owner = f"{self.name} pid {retpid or self._last_horse_pid}"
        for run_id in queueing.run_ids_of(job.id):
            try:
                self._record_death(job, run_id, owner, ret_val, rusage)
            except Exception:  # the lease expires and the reconciler recovers the run anyway
                log.exception("could not record the loss of run %s", run_id)

    def _record_death(self, job, run_id: int, owner: str, ret_val, rusage) -> None:
        with db.session(self.settings.DATABASE_URL) as s:
            if _signal_of(ret_val) == signal.SIGTERM:  # told to stop, before it could stop cleanly
                lifecycle.release_lease(s, run_id, owner)
                return
            reason = describe_death(ret_val, rusage, self.settings.WORKER_MEMORY_LIMIT_MB)
            run = lifecycle.record_loss(s, run_id, owner, reason)  # None: not the run it held
            if run is not None and run.lost >= self.settings.MAX_ATTEMPTS:
                error = maintenance.give_up_message(run.lost, reason)
                if lifecycle.fail(s, run_id, error):
                    events.failure(run, error)
                job.retries_left = 0


def impatient(client: Redis) -> Redis:
    """A plain client to the same Redis (redis-py's few default retries)."""
    pool = client.connection_pool
    kwargs = {k: v for k, v in pool.connection_kwargs.items() if k != "retry"}
    return Redis(connection_pool=ConnectionPool(connection_class=pool.connection_class, **kwargs))


def limit_memory(megabytes: int) -> None:
    """Cap this process's heap (RLIMIT_DATA: what it allocates, not the address space its threads
    reserve), so a runaway model build raises MemoryError instead of exhausting the machine."""
    if megabytes > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit if hard < 0 else min(limit, hard), hard))


def describe_death(ret_val: int | None, rusage, limit_mb: int) -> str:
    """E.g. "its work horse was killed by SIGKILL at a peak of 3,950 MB (memory limit 4,096 MB)"."""
    sig = _signal_of(ret_val)
    how = f"was killed by {signal.Signals(sig).name}" if sig else f"exited with status {ret_val}"
    peak = getattr(rusage, "ru_maxrss", 0) // 1024  # KiB on Linux
    text = f"its work horse {how} at a peak of {peak:,} MB"
    return text + (f" (memory limit {limit_mb:,} MB)" if limit_mb else "")


def _signal_of(ret_val: int | None) -> int | None:
    return os.WTERMSIG(ret_val) if ret_val and os.WIFSIGNALED(ret_val) else None
