"""Issue 11, points 2 and 5: workers survive a Redis outage and start while Redis is down; a cancel is
recorded in the database first, is never a 5xx, and reaches the solve through the run row when Redis
is down or lost it.

Each test here gets a redis-server of its own, so it can stop and restart it (with its data lost)."""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from app import create_app
from app.launcher import free_port, start_bundled_redis
from app.models import Run, utcnow
from tests.accounts import db, signed_in
from tests.support import finished, horse_pid, run_row, solving, start_worker, stop_process, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]
HARD = {"problem_type": "knapsack", "demo": "hard"}
TINY = {"problem_type": "knapsack", "demo": "tiny", "time_limit": 2}


class PrivateRedis:
    """A redis-server on a fixed port that a test can stop and start again (empty: nothing persisted)."""

    def __init__(self, workdir: Path):
        self.workdir, self.port, self.proc = workdir, free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc, _ = start_bundled_redis(self.workdir, self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path / "redis")
    yield server
    server.stop()


@pytest.fixture
def outage_client(database_url, private_redis, admin_user):
    # An admin: the runs these tests store directly have no owner.
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": private_redis.url, "TESTING": True})
    return signed_in(app, admin_user)


@pytest.fixture
def log_path(tmp_path) -> Path:
    return tmp_path / "worker.log"


def submit(client, body) -> int:
    response = client.post("/api/v1/runs", json=body)
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def test_a_busy_worker_survives_a_redis_outage(outage_client, private_redis, database_url, log_path):
    private_redis.start()
    # Its work-horse monitor talks to Redis every second (RQ's default: every 30 s).
    worker = start_worker(database_url, private_redis.url, log_path, args=("--job-monitoring-interval", "1"))
    try:
        run_id = submit(outage_client, {**HARD, "time_limit": 8})
        solving(database_url, run_id, 30)
        private_redis.stop()
        wait_for(lambda: run_row(database_url, run_id).is_terminal, 20, what="the solve to end during the outage")
        assert worker.poll() is None, log_path.read_text()[-3000:]
        private_redis.start()  # back, with its data lost
        assert finished(database_url, run_id, 5).status == "succeeded"
        assert finished(database_url, submit(outage_client, TINY), 30).status == "succeeded"  # it still works
        assert worker.poll() is None
    finally:
        stop_process(worker)


def test_a_worker_started_while_redis_is_down_waits_for_it(outage_client, private_redis, database_url, log_path):
    worker = start_worker(database_url, private_redis.url, log_path)
    try:
        missed = lambda: worker.poll() is not None or "Redis does not answer" in log_path.read_text()  # noqa: E731
        wait_for(missed, 30, what="the worker to exit or to wait for Redis")
        assert worker.poll() is None, log_path.read_text()[-3000:]
        private_redis.start()
        assert finished(database_url, submit(outage_client, TINY), 40).status == "succeeded"
    finally:
        stop_process(worker)


def stored_run(database_url, **fields) -> int:
    with db.session(database_url) as s:
        run = Run(problem_type="knapsack", time_limit=5, threads=1, input={"capacity": 5, "items": []}, **fields)
        s.add(run)
        s.commit()
        return run.id


def test_cancel_answers_from_the_database_while_redis_is_down(outage_client, database_url):
    queued = stored_run(database_url)
    running = stored_run(database_url, status="running", attempt=1)
    response = outage_client.post(f"/api/v1/runs/{queued}/cancel")
    assert (response.status_code, response.get_json()["status"]) == (200, "canceled")
    response = outage_client.post(f"/api/v1/runs/{running}/cancel")
    assert response.status_code == 202 and run_row(database_url, running).cancel_requested_at is not None
    assert outage_client.post(f"/runs/{running}/cancel").status_code == 303  # the page's form
    for page in (f"/runs/{running}", f"/runs/{running}/status", f"/api/v1/runs/{running}", "/"):
        assert outage_client.get(page).status_code == 200, page
    assert outage_client.post("/api/v1/runs", json=TINY).status_code == 202  # stored; enqueued later


def test_a_cancel_redis_lost_still_reaches_the_resumed_solve(outage_client, private_redis, database_url, log_path):
    private_redis.start()
    doomed = start_worker(database_url, private_redis.url, log_path, LEASE_SECONDS="3", PROGRESS_INTERVAL="0.25")
    run_id = submit(outage_client, {**HARD, "time_limit": 60})
    running = solving(database_url, run_id, 30)
    os.kill(doomed.pid, signal.SIGKILL)  # the machine solving it is lost ...
    os.kill(horse_pid(running), signal.SIGKILL)
    stop_process(doomed)
    assert outage_client.post(f"/api/v1/runs/{run_id}/cancel").status_code == 202  # ... a cancel is answered ...
    private_redis.stop()  # ... and Redis restarts, losing the cancel key and every job
    private_redis.start()
    with db.session(database_url) as s:  # as if it had been created long ago: no grace for the reconciler
        s.exec(update(Run).where(Run.id == run_id).values(created_at=utcnow() - timedelta(minutes=5)))
        s.commit()
    worker = start_worker(database_url, private_redis.url, log_path, LEASE_SECONDS="3")
    try:
        done = finished(database_url, run_id, 40)
        assert (done.status, done.attempt) == ("canceled", 2), done.error
        assert done.result["checked"] and done.objective <= running.checkpoint["objective"]
    finally:
        stop_process(worker)
