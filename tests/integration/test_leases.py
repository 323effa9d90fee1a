"""Issue 11, points 3, 4 and 6: one process solves a run at a time (a lease), a resumed run never ends
worse than its checkpoint, and a run whose process died is resumed within seconds, at the front of its
queue; a clean shutdown costs no attempt, and repeated deaths fail the run with their reason.

Real Redis, real `rq worker` processes, real signals."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlmodel import select

from app import db
from app.models import ProgressPoint
from tests.support import finished, horse_pid, run_row, solving, start_worker, stop_process
from workers import maintenance

pytestmark = [pytest.mark.integration, pytest.mark.slow]
HARD = {"problem_type": "knapsack", "demo": "hard"}


@pytest.fixture
def start(database_url, redis, redis_url, tmp_path):
    """Starts real workers for this test's database (with extra environment); stops them afterwards."""
    procs = []

    def starter(name: str = "", **env: str):
        env.setdefault("PROGRESS_INTERVAL", "0.25")
        procs.append(start_worker(database_url, redis_url, tmp_path / f"worker{len(procs)}.log", name, **env))
        return procs[-1]

    yield starter
    for proc in procs:
        stop_process(proc)


def submit(client, **body) -> int:
    response = client.post("/api/v1/runs", json={**HARD, **body})
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def attempts_of(database_url, run_id) -> list[int]:
    with db.session(database_url) as s:
        return [p.attempt for p in s.exec(select(ProgressPoint).where(ProgressPoint.run_id == run_id))]


def test_a_run_whose_job_redis_lost_is_not_solved_twice(client, start, settings, redis, database_url):
    start(LEASE_SECONDS="2")
    start(LEASE_SECONDS="2")  # an idle worker that would take a duplicate
    settings.LEASE_SECONDS = 2
    run_id = submit(client, time_limit=8)
    solving(database_url, run_id, 30)
    redis.flushdb()  # Redis restarted and lost its data; the work horse goes on solving
    until = time.monotonic() + 5  # well past the lease: the work horse keeps refreshing it
    while time.monotonic() < until:
        assert maintenance.reconcile(settings, redis)["requeued"] == 0
        time.sleep(0.5)
    done = finished(database_url, run_id, 30)
    assert (done.status, done.attempt, done.lost) == ("succeeded", 1, 0)
    assert set(attempts_of(database_url, run_id)) == {1}


def test_a_killed_work_horse_is_resumed_at_once_at_the_front_of_its_queue(client, start, database_url):
    start()
    first = submit(client, time_limit=10)
    waiting = submit(client, time_limit=1)  # queued behind the first one
    killed = solving(database_url, first, 30)
    os.kill(horse_pid(killed), signal.SIGKILL)  # as the OOM killer would
    t0 = time.monotonic()
    resumed = solving(database_url, first, 15, attempt=2, checkpoint=False)
    assert time.monotonic() - t0 < 5
    assert run_row(database_url, waiting).status == "queued"  # the retry went ahead of it
    assert resumed.lost == 1 and "SIGKILL" in resumed.lost_reason


def test_a_run_whose_worker_died_with_its_work_horse_is_resumed_by_another(client, start, database_url):
    doomed = start(name="doomed")
    run_id = submit(client, time_limit=40)
    running = solving(database_url, run_id, 30)
    assert running.worker.startswith("doomed")
    start()  # an idle worker
    os.kill(doomed.pid, signal.SIGKILL)  # the whole machine goes: nobody sees the work horse die
    os.kill(horse_pid(running), signal.SIGKILL)
    t0 = time.monotonic()
    resumed = solving(database_url, run_id, 40, attempt=2, checkpoint=False)
    took = time.monotonic() - t0
    assert took < 30, took  # the lease expires (10 s), an idle worker notices within RECOVER_INTERVAL
    assert resumed.lost == 1 and "lease expired" in resumed.lost_reason


def test_a_shutdown_hands_the_run_over_without_using_an_attempt(client, start, database_url):
    first = start(name="first", MAX_ATTEMPTS="1")
    run_id = submit(client, time_limit=30)
    solving(database_url, run_id, 30)
    second = start(MAX_ATTEMPTS="1")
    first.send_signal(signal.SIGTERM)  # a deploy: RQ's warm shutdown, which forwards it to the work horse
    first.wait(10)  # promptly, not after the whole time limit
    run = solving(database_url, run_id, 15, attempt=2, checkpoint=False)
    assert not run.worker.startswith("first") and run.lost == 0
    for attempt in (3, 4):  # more restarts than MAX_ATTEMPTS allows deaths
        os.kill(horse_pid(run), signal.SIGTERM)
        run = solving(database_url, run_id, 15, attempt=attempt, checkpoint=False)
    stop_process(second)  # and a last one while it solves
    start(MAX_ATTEMPTS="1")
    client.post(f"/api/v1/runs/{run_id}/cancel")
    done = finished(database_url, run_id, 30)
    assert (done.status, done.lost, done.attempt) == ("canceled", 0, 5), done.error
    assert done.result["checked"]


def test_a_run_whose_work_horse_keeps_dying_fails_with_the_reason(client, start, database_url):
    start(MAX_ATTEMPTS="2")
    run_id = submit(client, time_limit=30)
    for attempt in (1, 2):
        run = solving(database_url, run_id, 30, attempt=attempt, checkpoint=False)
        os.kill(horse_pid(run), signal.SIGKILL)
    done = finished(database_url, run_id, 30)
    assert done.status == "failed"
    assert "lost 2 times" in done.error and "SIGKILL" in done.error, done.error


def test_a_resumed_roster_never_ends_worse_than_its_checkpoint(client, start, database_url):
    start(SOLVER_THREADS="2")
    body = {"problem_type": "shift_scheduling", "demo": "medium", "time_limit": 8, "threads": 2}
    run_id = client.post("/api/v1/runs", json=body).get_json()["id"]
    os.kill(horse_pid(solving(database_url, run_id, 30)), signal.SIGKILL)
    saved = run_row(database_url, run_id).checkpoint["objective"]  # what the first attempt left
    done = finished(database_url, run_id, 30)
    assert done.status == "succeeded" and done.objective <= saved
    with db.session(database_url) as s:
        later = s.exec(select(ProgressPoint).where(ProgressPoint.run_id == run_id, ProgressPoint.attempt == 2))
        objectives = [p.objective for p in later if p.objective is not None]
    assert objectives and max(objectives) <= saved  # the resumed search started from the checkpoint
