"""The RQ worker class: `rq worker -w workers.worker.SolveWorker --with-scheduler high default low`.

Importing this module (in the worker's parent process) preloads OR-Tools and the problem modules, so
each forked work horse starts solving at once instead of paying the ~400 ms import. Its maintenance
hook also runs the reconciler, so a cluster of workers needs no extra scheduler process.

The worker needs only REDIS_URL and DATABASE_URL: it shares no files with the web processes, so it can
run on any host that reaches both. Its metrics are recorded here, in the parent process, after each job
(from the run row); set WORKER_METRICS_PORT to serve them from a worker on a host of its own.
"""

from __future__ import annotations

import logging
import os

from ortools.sat.python import cp_model  # noqa: F401  (preload for forked work horses)
from prometheus_client import start_http_server
from rq.job import Job
from rq.queue import Queue
from rq.worker import Worker

from app import cluster, config, logs, metrics, problems, runs
from app.models import Run, RunStatus, utcnow
from workers import jobs, maintenance  # noqa: F401  (preload the job module)

problems.all_types()  # preload every problem module
logs.configure()
log = logging.getLogger(__name__)

RECONCILE_EVERY = 60  # seconds
# RQ blocks an idle worker in one dequeue for worker_ttl - 15 s (405 s by default) and heartbeats only
# between dequeues; a shorter wait keeps an idle worker's heartbeat fresh for the workers page.
DEQUEUE_TIMEOUT = 45


class SolveWorker(Worker):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("maintenance_interval", RECONCILE_EVERY)
        super().__init__(*args, **kwargs)
        self.settings = config.load()
        port = os.environ.get("WORKER_METRICS_PORT")
        if port:
            start_http_server(int(port), registry=metrics.process_registry())

    @property
    def dequeue_timeout(self) -> int:
        return min(DEQUEUE_TIMEOUT, super().dequeue_timeout)

    def register_birth(self) -> None:
        super().register_birth()
        self.connection.hset(self.key, cluster.THREADS_FIELD, self.settings.SOLVER_THREADS)

    def execute_job(self, job: Job, queue: Queue) -> None:
        run_id = cluster.run_id_of(job.id)
        before = _run(self.settings, run_id)
        if before is not None and before.status == RunStatus.QUEUED.value:
            wait = (utcnow() - cluster.aware(before.created_at)).total_seconds()
            metrics.QUEUE_WAIT_SECONDS.labels(before.priority).observe(max(0.0, wait))
        super().execute_job(job, queue)
        after = _run(self.settings, run_id)
        if before is not None and after is not None and not before.is_terminal and after.is_terminal:
            _count_finished(after)

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            maintenance.run_once(self.settings, self.connection)
        except Exception:  # maintenance must never take the worker down
            log.exception("maintenance failed")


def _run(settings: config.Settings, run_id: int | None) -> Run | None:
    if run_id is None:
        return None
    try:
        return runs.get_summary(run_id, settings)
    except runs.RunNotFound:
        return None
    except Exception:  # metrics must never take the worker down
        log.exception("could not read run %s for metrics", run_id)
        return None


def _count_finished(run: Run) -> None:
    # The histogram first: whoever sees the run counted as finished also sees its solve time.
    if run.wall_time is not None:
        metrics.SOLVE_SECONDS.labels(run.problem_type).observe(run.wall_time)
    metrics.RUNS_FINISHED.labels(run.problem_type, run.status).inc()
