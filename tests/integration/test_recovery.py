"""Nothing is lost, nothing is stuck: crashed work horses resume from their checkpoint, and the
reconciler re-enqueues what Redis lost and fails what used up its attempts."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from rq import Worker
from sqlmodel import select

from app import db, queueing
from app.models import ProgressPoint, Run, utcnow
from tests.support import start_worker, stop_process, wait_for
from workers import maintenance

pytestmark = pytest.mark.integration


def run_row(database_url, run_id) -> Run:
    with db.session(database_url) as s:
        return s.get(Run, run_id)


@pytest.mark.slow
def test_a_killed_work_horse_is_retried_from_its_checkpoint(client, worker, database_url):
    body = {"problem_type": "knapsack", "demo": "hard", "time_limit": 6}
    run_id = client.post("/api/v1/runs", json=body).get_json()["id"]
    wait_for(lambda: run_row(database_url, run_id).checkpoint, 30, what="a stored checkpoint")
    first = run_row(database_url, run_id)
    pid = int(first.worker.rsplit(" pid ", 1)[1])  # the work horse solving it
    assert pid != worker.pid
    os.kill(pid, signal.SIGKILL)  # as the OOM killer would

    done = wait_for(lambda: (r := run_row(database_url, run_id)).is_terminal and r, 60, what="the retried run")
    assert done.status == "succeeded" and done.attempt == 2, (done.status, done.error)
    # The retry started from the checkpoint: it is never worse than what the first attempt had.
    assert done.objective <= first.checkpoint["objective"]
    with db.session(database_url) as s:
        attempts = {p.attempt for p in s.exec(select(ProgressPoint).where(ProgressPoint.run_id == run_id))}
    assert attempts == {1, 2}


def _stored_run(database_url, **fields) -> int:
    with db.session(database_url) as s:
        run = Run(
            problem_type="knapsack",
            time_limit=5,
            threads=1,
            input={"capacity": 5, "items": [{"weight": 3, "value": 4}]},
            **fields,
        )
        s.add(run)
        s.commit()
        return run.id


def test_reconciler_enqueues_a_queued_run_whose_job_was_lost(settings, redis, database_url):
    old = utcnow() - timedelta(minutes=5)
    lost = _stored_run(database_url, created_at=old)
    fresh = _stored_run(database_url)  # may be between commit and enqueue: left alone
    counts = maintenance.reconcile(settings, redis)
    assert counts == {"requeued": 1, "failed": 0}
    assert redis.lrange("rq:queue:default", 0, -1) == [f"run-{lost}".encode()]
    assert queueing.fetch_job(redis, fresh) is None


def test_reconciler_fails_a_run_whose_worker_was_lost_too_often(settings, redis, database_url):
    reason = "its work horse was killed by SIGKILL at a peak of 4,000 MB"
    run_id = _stored_run(
        database_url, status="running", attempt=settings.MAX_ATTEMPTS, lost=settings.MAX_ATTEMPTS, lost_reason=reason
    )
    assert maintenance.reconcile(settings, redis) == {"requeued": 0, "failed": 1}
    run = run_row(database_url, run_id)
    assert run.status == "failed" and f"lost {settings.MAX_ATTEMPTS} times" in run.error and reason in run.error


def test_reconciler_resumes_a_running_run_whose_job_vanished(settings, redis, database_url, worker):
    run_id = _stored_run(database_url, status="running", attempt=1)
    assert maintenance.reconcile(settings, redis)["requeued"] == 1
    done = wait_for(lambda: (r := run_row(database_url, run_id)).is_terminal and r, 30, what="the resumed run")
    assert done.status == "succeeded" and done.attempt == 2


@pytest.mark.slow
def test_sigterm_stops_the_search_and_the_run_resumes(client, worker, database_url):
    body = {"problem_type": "knapsack", "demo": "hard", "time_limit": 5}
    run_id = client.post("/api/v1/runs", json=body).get_json()["id"]
    first = wait_for(lambda: (r := run_row(database_url, run_id)).checkpoint and r, 30, what="a stored checkpoint")
    os.kill(int(first.worker.rsplit(" pid ", 1)[1]), signal.SIGTERM)  # a platform restart signals every process

    done = wait_for(lambda: (r := run_row(database_url, run_id)).is_terminal and r, 30, what="the resumed run")
    assert done.status == "succeeded" and done.attempt == 2, (done.status, done.error)
    assert done.stats["attempt"] == 2


@pytest.mark.slow
def test_the_real_worker_command_reconciles_every_reconcile_interval(database_url, redis, redis_url, tmp_path):
    # The Procfile's command line: `rq worker` passes --maintenance-interval 600 of its own accord.
    proc = start_worker(database_url, redis_url, tmp_path / "worker.log", RECONCILE_INTERVAL="3")
    try:
        wait_for(lambda: Worker.count(connection=redis) == 1, 30, what="the worker to register")
        # Accepted while Redis was down (never enqueued), and still within the enqueue grace when the
        # worker's first maintenance ran: only a later, periodic reconcile (from an idle worker, blocked
        # in its dequeue) can enqueue it.
        created = utcnow() - maintenance.ENQUEUE_GRACE + timedelta(seconds=4)
        run_id = _stored_run(database_url, created_at=created)
        done = wait_for(lambda: (r := run_row(database_url, run_id)).is_terminal and r, 20, what="the reconciled run")
        assert done.status == "succeeded"
    finally:
        stop_process(proc)
