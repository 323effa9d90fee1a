"""Small runs are solved in the worker process itself (no fork, issue 12), and give up nothing for it:
progress points, the checker, cancel, deadline, SIGTERM hand-over and crash recovery all hold.

Real Redis, real `rq worker` processes, real signals."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlmodel import select

from app import db
from app.models import ProgressPoint
from tests.support import finished, horse_pid, solving, start_worker, stop_process, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def start(database_url, redis, redis_url, tmp_path):
    procs = []

    def starter(name: str = "", **env: str):
        env.setdefault("PROGRESS_INTERVAL", "0.25")
        procs.append(start_worker(database_url, redis_url, tmp_path / f"worker{len(procs)}.log", name, **env))
        return procs[-1]

    yield starter
    for proc in procs:
        stop_process(proc)


def submit(client, **body) -> int:
    response = client.post("/api/v1/runs", json={"problem_type": "knapsack", **body})
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def points_of(database_url, run_id) -> list[ProgressPoint]:
    with db.session(database_url) as s:
        return list(s.exec(select(ProgressPoint).where(ProgressPoint.run_id == run_id)))


def test_a_small_run_is_solved_in_the_worker_process_and_stored_in_full(client, worker, database_url):
    run_id = submit(client, demo="tiny")
    done = finished(database_url, run_id, 30)
    assert (done.status, done.solver_status, done.objective) == ("succeeded", "OPTIMAL", 5)
    assert horse_pid(done) == worker.pid  # no work horse was forked
    assert done.result["checked"] and points_of(database_url, run_id)
    big = finished(database_url, submit(client, demo="hard", time_limit=1), 30)
    assert horse_pid(big) != worker.pid  # a big model still gets a work horse of its own


@pytest.mark.slow
def test_an_inline_run_obeys_cancel_and_deadline_and_the_worker_goes_on(inline_client, worker, database_url):
    run_id = submit(inline_client, demo="hard", time_limit=60)
    running = solving(database_url, run_id, 30)
    assert horse_pid(running) == worker.pid
    assert inline_client.post(f"/api/v1/runs/{run_id}/cancel").status_code == 202
    t0 = time.monotonic()
    done = finished(database_url, run_id, 10)
    assert time.monotonic() - t0 < 2.0
    assert done.status == "canceled" and done.result["checked"]

    timed = finished(database_url, submit(inline_client, demo="hard", time_limit=1.5), 30)
    assert timed.status == "succeeded" and timed.solver_status == "FEASIBLE" and timed.wall_time < 3
    assert horse_pid(timed) == worker.pid  # the same process, still serving


@pytest.mark.slow
def test_sigterm_during_an_inline_run_hands_it_over_and_ends_the_worker(inline_client, start, database_url):
    first = start(name="first")
    run_id = submit(inline_client, demo="hard", time_limit=30)
    running = solving(database_url, run_id, 30)
    assert horse_pid(running) == first.pid
    first.send_signal(signal.SIGTERM)  # a deploy
    assert first.wait(15) == 0  # the worker stops (as a work horse would end), promptly
    second = start(name="second")
    resumed = solving(database_url, run_id, 30, attempt=2, checkpoint=False)
    assert resumed.lost == 0  # a hand-over costs no attempt
    assert horse_pid(resumed) != second.pid  # a resumed run is never inline: a forked work horse
    assert resumed.checkpoint is None or resumed.checkpoint["objective"] >= 0
    inline_client.post(f"/api/v1/runs/{run_id}/cancel")
    done = finished(database_url, run_id, 30)
    assert done.status == "canceled" and done.result["checked"]
    assert done.objective <= running.checkpoint["objective"]  # resuming lost no ground


@pytest.mark.slow
def test_a_worker_that_dies_in_an_inline_solve_has_its_run_resumed_by_another(inline_client, start, database_url):
    doomed = start(name="doomed", LEASE_SECONDS="3")
    run_id = submit(inline_client, demo="hard", time_limit=40)
    running = solving(database_url, run_id, 30)
    assert horse_pid(running) == doomed.pid
    start(name="survivor", LEASE_SECONDS="3", RECOVER_INTERVAL="1")
    os.kill(doomed.pid, signal.SIGKILL)  # a crash inside the solve takes the worker with it
    resumed = solving(database_url, run_id, 40, attempt=2, checkpoint=False)
    assert resumed.worker.startswith("survivor") and resumed.lost == 1
    wait_for(
        lambda: points_of(database_url, run_id) and {p.attempt for p in points_of(database_url, run_id)} >= {2},
        30,
        what="progress of the resumed attempt",
    )
