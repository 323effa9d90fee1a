"""gunicorn settings shared by the Procfile and the launcher (`gunicorn -c app/gunicorn_conf.py ...`).

Prometheus multiprocess mode: each gunicorn worker writes its metrics to files in
PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. The variable must be set before prometheus_client is
first imported (it picks its storage at import), so this module sets it before anything imports it.
Without one given, a fresh private directory is made; a directory given from outside (the launcher's,
shared with a worker on the same host) is left as it is.
"""

import os
import tempfile

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="solvequeue-metrics-")


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    # Drops the dead worker's live gauges; its counters and histograms still count.
    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker) -> None:
    import gc

    # The app and what it imported (OR-Tools, the problem types) live as long as the worker: frozen, the
    # cyclic garbage collector stops walking them in each full collection (as the rq worker does).
    gc.collect()
    gc.freeze()
