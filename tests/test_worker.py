"""The worker class as `rq worker` builds it: maintenance often enough, deaths described for people."""

from __future__ import annotations

import logging
import os
import resource
import signal
import subprocess
import sys

from redis import Redis
from redis.connection import Connection
from rq.defaults import DEFAULT_MAINTENANCE_TASK_INTERVAL

from app import config, queueing, runs
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


class _CountingConnection(Connection):
    round_trips = 0

    def send_packed_command(self, command, check_health=True):
        type(self).round_trips += 1
        return super().send_packed_command(command, check_health)


def test_a_run_is_logged_by_its_own_events_not_also_by_rqs_per_job_lines(
    database_url, redis, redis_url, monkeypatch, caplog
):
    # Six lines a tiny run, four of them RQ's saying what the run's start and finish events say.
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    settings = config.load()
    body = {"problem_type": "shift_scheduling", "demo": "tiny", "threads": 1, "time_limit": 10}
    ids = [run.id for run in runs.submit_many([body] * 3, settings, user=None)]
    conn = PatientRedis.from_url(redis_url)
    caplog.set_level(logging.INFO)
    assert SolveWorker([queueing.queue(conn, "default")], connection=conn).work(burst=True, logging_level="INFO")
    ours = [r.getMessage() for r in caplog.records if r.name == "workers.jobs"]
    assert [m.split()[:2] for m in ours] == [[e, f"run_id={i}"] for i in ids for e in ("start", "finish")]
    theirs = [r.getMessage() for r in caplog.records if r.name == "rq.worker"]
    assert not [m for m in theirs if "Job OK" in m or "Successfully completed" in m or "result is kept" in m]
    assert not [m for m in theirs if "solve run" in m], theirs  # the "picked up" line names the job
    assert any("Listening on" in m for m in theirs) and any("started with PID" in m for m in theirs)


def test_a_small_run_costs_the_worker_few_redis_round_trips(database_url, redis, redis_url, monkeypatch):
    # A worker solving tiny runs back to back spends more time talking to Redis than solving; RQ 2.12
    # alone sends ~19 round trips per job (heartbeats and states written twice). What we trim must still
    # leave the worker's key as rq-dashboard and RQ's clean-up read it.
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    settings = config.load()
    body = {"problem_type": "shift_scheduling", "demo": "tiny", "threads": 1, "time_limit": 10}
    ids = [runs.submit(body, settings, user=None).id for _ in range(20)]
    conn = PatientRedis.from_url(redis_url, connection_class=_CountingConnection)
    worker = SolveWorker([queueing.queue(conn, "default")], connection=conn)
    before = _CountingConnection.round_trips
    assert worker.work(burst=True, logging_level="WARNING")
    per_run = (_CountingConnection.round_trips - before) / len(ids)
    assert per_run <= 14, per_run  # 12.4 with RQ 2.12; birth, death and maintenance included here
    assert [runs.get(i, settings).status for i in ids] == ["succeeded"] * 20
    seen = Redis.from_url(redis_url)
    assert worker.key.encode() not in seen.smembers("rq:workers")  # a burst worker registers its death
    alive = SolveWorker([queueing.queue(conn, "default")], connection=conn)
    alive.register_birth()
    alive.heartbeat()
    alive.set_state("idle")
    alive.heartbeat()  # within a second of the last: skipped
    alive.set_state("idle")  # unchanged: not written again
    fields = seen.hgetall(alive.key)
    assert fields[b"state"] == b"idle" and fields[b"last_heartbeat"]
    assert seen.ttl(alive.key) > alive.worker_ttl
    alive.register_death()


def test_the_worker_freezes_what_it_loaded_and_parses_redis_in_c(redis_url):
    # In a fresh process, as `rq worker` starts: what the worker loaded (OR-Tools, numba, the problem
    # modules) is moved out of the garbage collector's reach, and redis-py found its C parser (hiredis).
    code = (
        "import gc, redis.utils\n"
        "from workers.worker import PatientRedis, SolveWorker\n"
        f"w = SolveWorker(['default'], connection=PatientRedis.from_url({redis_url!r}))\n"
        "print(gc.get_freeze_count(), redis.utils.HIREDIS_AVAILABLE)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    frozen, hiredis = out.stdout.split()
    assert int(frozen) > 100_000 and hiredis == "True", out.stdout
