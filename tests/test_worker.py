"""The worker class as `rq worker` builds it: maintenance often enough, deaths described for people."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

from rq.defaults import DEFAULT_MAINTENANCE_TASK_INTERVAL

from workers.worker import PatientRedis, SolveWorker, describe_death


def test_the_cli_default_maintenance_interval_does_not_win(redis_url):
    # What `rq worker` passes when the command line gives no --maintenance-interval.
    worker = SolveWorker(
        ["default"], connection=PatientRedis.from_url(redis_url), maintenance_interval=DEFAULT_MAINTENANCE_TASK_INTERVAL
    )
    assert worker.maintenance_interval == worker.settings.RECONCILE_INTERVAL == 60
    # An idle worker looks for lost runs every few seconds instead of blocking ~405 s in BLPOP.
    assert worker.dequeue_timeout <= worker.settings.RECOVER_INTERVAL


def test_a_death_is_described_with_its_signal_and_memory():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    os.kill(child.pid, signal.SIGKILL)
    _, status, rusage = os.wait4(child.pid, 0)
    child.returncode = -signal.SIGKILL  # reaped above
    text = describe_death(status, rusage, 4096)
    assert text.startswith("its work horse was killed by SIGKILL at a peak of ") and "(memory limit 4,096 MB)" in text
    assert describe_death(256, resource.getrusage(resource.RUSAGE_SELF), 0).startswith("its work horse exited with")
