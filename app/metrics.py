"""Prometheus metrics, served at /metrics (and by a worker on WORKER_METRICS_PORT, for other hosts).

Counters and histograms are recorded where things happen: submits in the web processes, finished
runs, solve and queue times and reconciler actions in the RQ worker's main process (never in a forked
work horse, which would leave one metrics file per job behind). Under gunicorn, and when web and worker
share a host, PROMETHEUS_MULTIPROC_DIR (set by the launcher and app/gunicorn_conf.py) lets /metrics add up
every process's files. Queue depths, waits and busy/idle workers are read from Redis and the database at
scrape time (`ClusterCollector`), so they are right whichever process or host answers the scrape.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

from app.config import Settings

log = logging.getLogger(__name__)

RUNS_SUBMITTED = Counter("solvequeue_runs_submitted", "Runs stored and queued", ["problem_type"])
RUNS_FINISHED = Counter("solvequeue_runs_finished", "Runs that reached a terminal status", ["problem_type", "status"])
SOLVE_SECONDS = Histogram(
    "solvequeue_solve_seconds",
    "Wall time of finished solves (all attempts)",
    ["problem_type"],
    buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, float("inf")),
)
QUEUE_WAIT_SECONDS = Histogram(
    "solvequeue_queue_wait_seconds",
    "Time from submit until a worker starts the run",
    ["priority"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30, 60, 300, 900, 3600, float("inf")),
)
SUBMIT_SECONDS = Histogram(
    "solvequeue_submit_seconds",
    "Time to validate, store and enqueue a submission (a batch: all its runs)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, float("inf")),
)
RECONCILER_ACTIONS = Counter("solvequeue_reconciler_actions", "Runs the reconciler re-enqueued or failed", ["action"])


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class ClusterCollector:
    """Gauges read at scrape time: queue depth and oldest wait per queue, workers by state."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        from app import cluster  # imported late: the worker's metrics server never needs it

        try:
            queues, workers = cluster.queues(self.settings), cluster.workers(self.settings)
        except Exception as exc:  # a scrape must answer even when Redis or the database does not
            log.warning("cluster metrics unavailable: %s", exc)
            return
        depth = GaugeMetricFamily("solvequeue_queue_depth", "Jobs waiting on the queue", labels=["queue"])
        wait = GaugeMetricFamily(
            "solvequeue_queue_oldest_wait_seconds", "How long the oldest queued run has waited", labels=["queue"]
        )
        running = GaugeMetricFamily("solvequeue_runs_running", "Runs being solved now", labels=["queue"])
        for q in queues:
            depth.add_metric([q.name], q.depth)
            wait.add_metric([q.name], q.oldest_wait or 0.0)
            running.add_metric([q.name], len(q.running))
        states = GaugeMetricFamily("solvequeue_workers", "RQ workers by state", labels=["state"])
        for state in ("busy", "idle", "stale"):
            states.add_metric([state], sum(1 for w in workers if _state(w) == state))
        yield from (depth, wait, running, states)


def _state(w) -> str:
    if w.stale:
        return "stale"
    return "busy" if w.run is not None or w.state == "busy" else "idle"


class _Union:
    def __init__(self, *collectors):
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for c in self.collectors:
            yield from c.collect()


class _FilesCollector(multiprocess.MultiProcessCollector):
    """prometheus_client's collector of every process's metrics files, without the files another process
    is creating at this instant: it creates a file empty and sizes it only afterwards, and reading a file
    in that window raises (prometheus/client_python#1199), which made a scrape answer 500 while a worker
    recorded its first finished run. Such a file holds no value yet; once it is 8 bytes it only grows."""

    def collect(self):
        return self.merge([f for f in glob.glob(os.path.join(self._path, "*.db")) if _size(f) >= 8])


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:  # gone since the glob (a dead process's gauge file)
        return 0


def process_registry() -> CollectorRegistry | _Union:
    """Every process's counters and histograms (multiprocess mode), else this process's own."""
    path = multiprocess_dir()
    if not path:
        return REGISTRY
    registry = CollectorRegistry()
    _FilesCollector(registry, path=path)
    return registry


def exposition(settings: Settings) -> bytes:
    """The text exposition of /metrics."""
    return generate_latest(_Union(process_registry(), ClusterCollector(settings)))  # type: ignore[arg-type]
