"""`make run`'s launcher keeps its processes running: one that exits is started again."""

from __future__ import annotations

import subprocess
import sys
from functools import partial

from app.launcher import Child
from tests.support import wait_for


def test_a_child_that_exits_is_started_again():
    started = []

    def start() -> subprocess.Popen:
        started.append(subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]))
        return started[-1]

    child = Child("worker", start)
    wait_for(lambda: child.proc.poll() is not None, 10, what="the child to exit")
    child.restart_if_exited()
    assert len(started) == 2 and child.pause == 2.0  # the next restart waits longer (a crash loop)
    child.proc.wait(10)
    child.stop()


def test_a_running_child_is_left_alone_and_stopped_on_request():
    child = Child("web server", partial(subprocess.Popen, [sys.executable, "-c", "import time; time.sleep(60)"]))
    child.restart_if_exited()
    assert child.proc.poll() is None
    child.stop()
    assert child.proc.returncode is not None
