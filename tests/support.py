"""Test helpers: an isolated redis-server, a real RQ worker process, and waiting with a deadline."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BENCHMARKS = SHARED / "benchmarks"
T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float, interval: float = 0.05, what: str = "condition") -> T:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def worker_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PROBLEM_MODULES": "tests.problems",
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    return env


def start_worker(
    database_url: str, redis_url: str, log_path: Path, name: str = "", args: tuple[str, ...] = (), **extra: str
) -> subprocess.Popen:
    """A real `rq worker` process on the three queues (the same command as the Procfile, plus `args`)."""
    cmd = [
        str(Path(sys.executable).parent / "rq"),
        "worker",
        "-w",
        "workers.worker.SolveWorker",
        "--connection-class",
        "workers.worker.PatientRedis",
        "--with-scheduler",
        "--url",
        redis_url,
    ]
    if name:
        cmd += ["--name", name]
    cmd += list(args)
    log = open(log_path, "ab")  # noqa: SIM115  (closed with the process)
    proc = subprocess.Popen(
        [*cmd, "high", "default", "low"],
        cwd=ROOT,
        env=worker_env(database_url, redis_url, **extra),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.log = log  # type: ignore[attr-defined]
    return proc


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(5)
    log = getattr(proc, "log", None)
    if log:
        log.close()


def run_row(database_url: str, run_id: int):
    """The run as the database has it now."""
    from app import db
    from app.models import Run

    with db.session(database_url) as s:
        return s.get(Run, run_id)


def finished(database_url: str, run_id: int, timeout: float):
    """The run once it is terminal."""
    return wait_for(
        lambda: (r := run_row(database_url, run_id)).is_terminal and r, timeout, what=f"run {run_id} to end"
    )


def solving(database_url: str, run_id: int, timeout: float, attempt: int = 1, checkpoint: bool = True):
    """The run once attempt `attempt` (or a later one) is running (and has stored a checkpoint)."""

    def ready():
        r = run_row(database_url, run_id)
        return r.status == "running" and r.attempt >= attempt and (r.checkpoint or not checkpoint) and r

    return wait_for(ready, timeout, what=f"attempt {attempt} of run {run_id}")


def horse_pid(run) -> int:
    """The pid of the work horse solving `run` (its `worker` field ends with it)."""
    return int(run.worker.rsplit(" pid ", 1)[1])
