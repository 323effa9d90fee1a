"""The flagship problem end to end: a benchmark file over the API, solved by a real worker process."""

from __future__ import annotations

import time

import pytest

from app import problems
from tests.support import BENCHMARKS, wait_for

pytestmark = pytest.mark.integration
INSTANCE1 = BENCHMARKS / "shift_scheduling" / "Instance1.txt"


def run_json(client, run_id):
    return client.get(f"/api/v1/runs/{run_id}").get_json()


def finished(client, run_id):
    doc = run_json(client, run_id)
    return doc if doc["terminal"] else None


def assert_checked(doc):
    """Re-run the independent checker on what the API returned."""
    problem = problems.get("shift_scheduling")
    check = problem.check(problem.validate(doc["input"]), doc["result"]["solution"])
    assert check.ok, check.violations[:5]
    assert check.objective == doc["objective"]
    assert sum(rule["cost"] for rule in doc["result"]["breakdown"]) == doc["objective"]


@pytest.mark.slow
@pytest.mark.skipif(not INSTANCE1.exists(), reason="needs ../shared/benchmarks")
def test_instance1_is_solved_to_the_published_optimum(client, worker):
    body = {
        "problem_type": "shift_scheduling",
        "format": "benchmark_text",
        "input": INSTANCE1.read_text(),
        "time_limit": 60,
        "threads": 4,
        "name": "Instance1",
    }
    started = time.monotonic()
    resp = client.post("/api/v1/runs", json=body)
    assert resp.status_code == 202, resp.get_json()
    run_id = resp.get_json()["id"]
    doc = wait_for(lambda: finished(client, run_id), 75, interval=0.2, what="Instance1 to finish")
    assert time.monotonic() - started < 60
    assert (doc["status"], doc["solver_status"], doc["objective"]) == ("succeeded", "OPTIMAL", 607)
    assert doc["best_bound"] == 607 and doc["gap"] == 0
    assert doc["input_format"] == "benchmark_text"
    assert_checked(doc)


@pytest.mark.slow
def test_progress_appears_while_solving_then_a_checked_roster(client, worker):
    resp = client.post("/api/v1/runs", json={"problem_type": "shift_scheduling", "demo": "medium", "time_limit": 8})
    run_id = resp.get_json()["id"]

    def solution_seen(d):
        return d["status"] == "running" and any(p["objective"] is not None for p in d["progress"]) and d

    # Bound improvements can come first (objective still None); wait for a roster's point.
    live = wait_for(lambda: solution_seen(run_json(client, run_id)), 30, what="progress points while running")
    doc = wait_for(lambda: finished(client, run_id), 30, interval=0.2, what="the run to finish")
    assert doc["status"] == "succeeded" and doc["solver_status"] in ("OPTIMAL", "FEASIBLE")
    assert len(doc["progress"]) >= len(live["progress"])
    elapsed = [p["elapsed"] for p in doc["progress"]]
    assert elapsed == sorted(elapsed)
    assert_checked(doc)


@pytest.mark.slow
def test_cancel_a_running_large_solve_keeps_a_checked_incumbent(client, worker):
    resp = client.post("/api/v1/runs", json={"problem_type": "shift_scheduling", "demo": "large", "time_limit": 120})
    run_id = resp.get_json()["id"]
    wait_for(lambda: run_json(client, run_id)["num_solutions"] > 0, 60, what="a first roster")
    asked = time.monotonic()
    assert client.post(f"/api/v1/runs/{run_id}/cancel").status_code == 202
    doc = wait_for(lambda: finished(client, run_id), 10, interval=0.02, what="the run to stop")
    assert time.monotonic() - asked < 2.0
    assert doc["status"] == "canceled" and doc["stats"]["stop_reason"] == "canceled"
    assert_checked(doc)
