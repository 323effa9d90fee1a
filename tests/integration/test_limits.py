"""Issue 11, point 7: a model too big is refused before it is stored (422 with the limit and the
estimate), a runaway build fails its run at the work horse's memory limit without a retry, and cancel
and deadline stop a run while its model is still being built."""

from __future__ import annotations

import time

import pytest

from app import runs
from app.problems import InputError
from tests.support import BENCHMARKS, finished, solving, start_worker, stop_process

pytestmark = pytest.mark.integration


def issue_input() -> dict:
    """The 109,737-byte input of the issue: 1,366 staff, 366 days, stretches of at least 366 days."""
    person = {"min_consecutive_shifts": 366, "min_consecutive_days_off": 366}
    return {
        "horizon_days": 366,
        "shifts": [{"id": "D", "length_minutes": 480}],
        "staff": [{"id": f"S{i}", **person} for i in range(1366)],
    }


def test_a_model_too_big_for_a_worker_is_refused_with_the_limit_and_the_estimate(client):
    response = client.post("/api/v1/runs", json={"problem_type": "shift_scheduling", "input": issue_input()})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors[0]["path"] == "input"
    assert "181,986,716 constraints" in errors[0]["message"]
    assert "the limit is 2,000,000 (MAX_MODEL_CONSTRAINTS)" in errors[0]["message"]
    assert client.get("/api/v1/runs").get_json()["total"] == 0  # nothing stored


def test_every_benchmark_instance_and_demo_fits_the_default_limits(settings):
    for path in sorted((BENCHMARKS / "shift_scheduling").glob("Instance*.txt")):
        body = {"problem_type": "shift_scheduling", "format": "benchmark_text", "input": path.read_text()}
        runs.parse_submission(body, settings)
    for demo in ("small", "medium", "large"):
        runs.parse_submission({"problem_type": "shift_scheduling", "demo": demo}, settings)


def test_the_limits_are_configurable(settings):
    settings.MAX_MODEL_VARIABLES = 100
    with pytest.raises(InputError, match=r"about 302 variables; the limit is 100 \(MAX_MODEL_VARIABLES\)"):
        body = {"problem_type": "shift_scheduling", "input": runs._demo_input("shift_scheduling", "small")}
        runs.parse_submission(body, settings)


@pytest.fixture
def limited_worker(database_url, redis, redis_url, tmp_path):
    proc = start_worker(database_url, redis_url, tmp_path / "worker.log", WORKER_MEMORY_LIMIT_MB="500")
    yield proc
    stop_process(proc)


def knapsack(**fields) -> dict:
    items = [{"weight": 3, "value": 4}, {"weight": 2, "value": 3}]
    return {"problem_type": "knapsack", "input": {"capacity": 4, "items": items, **fields}}


@pytest.mark.slow
def test_a_runaway_build_fails_at_the_memory_limit_and_is_not_retried(client, limited_worker, database_url):
    run_id = client.post("/api/v1/runs", json=knapsack(hog_mb=2000)).get_json()["id"]
    done = finished(database_url, run_id, 60)
    assert done.status == "failed" and "WORKER_MEMORY_LIMIT_MB" in done.error and "500 MB" in done.error
    assert (done.attempt, done.lost) == (1, 0)
    assert limited_worker.poll() is None


@pytest.mark.slow
def test_a_cancel_stops_a_run_while_its_model_is_built(client, worker, database_url):
    run_id = client.post("/api/v1/runs", json={**knapsack(build_seconds=120), "time_limit": 300}).get_json()["id"]
    solving(database_url, run_id, 30, checkpoint=False)
    t0 = time.monotonic()
    assert client.post(f"/api/v1/runs/{run_id}/cancel").status_code == 202
    done = finished(database_url, run_id, 20)
    assert done.status == "canceled" and time.monotonic() - t0 < 10


@pytest.mark.slow
def test_the_deadline_stops_a_run_while_its_model_is_built(client, worker, database_url):
    run_id = client.post("/api/v1/runs", json={**knapsack(build_seconds=120), "time_limit": 2}).get_json()["id"]
    done = finished(database_url, run_id, 30)
    assert done.status == "failed" and done.error == "no solution within the time limit"
    assert done.wall_time < 10
