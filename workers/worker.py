"""The RQ worker class: `rq worker -w workers.worker.SolveWorker --with-scheduler high default low`.

Importing this module (in the worker's parent process) preloads OR-Tools and the problem modules, so
each forked work horse starts solving at once instead of paying the ~400 ms import. Its maintenance
hook also runs the reconciler, so a cluster of workers needs no extra scheduler process.
"""

from __future__ import annotations

import logging

from ortools.sat.python import cp_model  # noqa: F401  (preload for forked work horses)
from rq.worker import Worker

from app import config, problems
from workers import jobs, maintenance  # noqa: F401  (preload the job module)

problems.all_types()  # preload every problem module
log = logging.getLogger(__name__)

RECONCILE_EVERY = 60  # seconds


class SolveWorker(Worker):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("maintenance_interval", RECONCILE_EVERY)
        super().__init__(*args, **kwargs)

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            maintenance.run_once(config.load(), self.connection)
        except Exception:  # maintenance must never take the worker down
            log.exception("maintenance failed")
