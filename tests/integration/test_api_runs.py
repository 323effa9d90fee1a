"""The core flow over HTTP with a real Redis and a real worker process: submit → progress → result."""

from __future__ import annotations

import pytest

from app import db
from app.models import Run
from tests.support import wait_for

pytestmark = pytest.mark.integration


def submit(client, **body):
    return client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny", "time_limit": 10, **body})


def run_json(client, run_id):
    return client.get(f"/api/v1/runs/{run_id}").get_json()


def finished(client, run_id):
    doc = run_json(client, run_id)
    return doc if doc["terminal"] else None


def test_submit_answers_202_with_location_and_stored_queued_run(client, redis, database_url):
    resp = submit(client)
    assert resp.status_code == 202
    doc = resp.get_json()
    assert resp.headers["Location"].endswith(f"/api/v1/runs/{doc['id']}")
    assert doc["status"] == "queued"
    # The row is committed, and the job on the default queue carries the derived id.
    with db.session(database_url) as s:
        assert s.get(Run, doc["id"]).status == "queued"
    assert redis.lrange("rq:queue:default", 0, -1) == [f"run-{doc['id']}".encode()]


def test_priority_picks_the_queue(client, redis):
    run_id = submit(client, priority="high").get_json()["id"]
    assert redis.lrange("rq:queue:high", 0, -1) == [f"run-{run_id}".encode()]


def test_worker_solves_a_run_to_a_checked_optimum(client, worker):
    run_id = submit(client).get_json()["id"]
    doc = wait_for(lambda: finished(client, run_id), 30, what="run to finish")
    assert doc["status"] == "succeeded", doc
    assert doc["solver_status"] == "OPTIMAL"
    assert doc["objective"] == 5  # pack items 0 and 1 (weight 5, value 7); item 2 (value 5) stays behind
    assert doc["result"]["checked"] is True
    assert doc["result"]["breakdown"][0]["cost"] == doc["objective"]
    assert doc["progress"], "the final state is always recorded as a progress point"
    assert doc["stats"]["ortools_version"].startswith("9.15")
    assert doc["attempt"] == 1 and doc["started_at"] and doc["finished_at"]


def test_infeasible_input_ends_infeasible(client, worker):
    body = {"problem_type": "knapsack", "input": {"capacity": 1, "min_value": 10, "items": [{"weight": 5, "value": 9}]}}
    run_id = client.post("/api/v1/runs", json=body).get_json()["id"]
    doc = wait_for(lambda: finished(client, run_id), 30, what="run to finish")
    assert doc["status"] == "infeasible" and doc["result"] is None


def test_an_error_in_the_solve_fails_the_run_loudly(client, worker, redis):
    body = {"problem_type": "knapsack", "input": {"capacity": 1, "items": [], "explode": True}}
    run_id = client.post("/api/v1/runs", json=body).get_json()["id"]
    doc = wait_for(lambda: finished(client, run_id), 30, what="run to finish")
    assert doc["status"] == "failed"
    assert "exploded on purpose" in doc["error"]
    # Re-raised, so RQ records the failure too (and does not retry a deterministic error).
    wait_for(lambda: redis.zscore("rq:failed:default", f"run-{run_id}") is not None, 10, what="RQ failed registry")


def test_cancel_a_queued_run_means_it_never_starts(client, redis, database_url, tmp_path):
    run_id = submit(client).get_json()["id"]  # no worker yet
    resp = client.post(f"/api/v1/runs/{run_id}/cancel")
    assert resp.status_code == 200 and resp.get_json()["status"] == "canceled"
    assert redis.lrange("rq:queue:default", 0, -1) == []
    with db.session(database_url) as s:
        run = s.get(Run, run_id)
    assert run.status == "canceled" and run.started_at is None and run.attempt == 0


def test_cancel_of_a_finished_run_is_409(client, worker):
    run_id = submit(client).get_json()["id"]
    wait_for(lambda: finished(client, run_id), 30, what="run to finish")
    assert client.post(f"/api/v1/runs/{run_id}/cancel").status_code == 409


def test_cancel_a_running_solve_keeps_its_incumbent(client, worker):
    run_id = submit(client, demo="hard", time_limit=60).get_json()["id"]
    wait_for(lambda: run_json(client, run_id)["num_solutions"] > 0, 30, what="a first solution")
    resp = client.post(f"/api/v1/runs/{run_id}/cancel")
    assert resp.status_code == 202
    import time

    t0 = time.monotonic()
    doc = wait_for(lambda: finished(client, run_id), 5, interval=0.02, what="canceled")
    assert time.monotonic() - t0 < 2.0
    assert doc["status"] == "canceled"
    assert doc["result"]["checked"] and doc["objective"] is not None


def test_list_runs_paginates_and_filters(client):
    ids = [submit(client).get_json()["id"] for _ in range(3)]
    client.post(f"/api/v1/runs/{ids[0]}/cancel")
    page = client.get("/api/v1/runs?per_page=2").get_json()
    assert page["total"] == 3 and [r["id"] for r in page["items"]] == ids[::-1][:2]
    page2 = client.get("/api/v1/runs?per_page=2&page=2").get_json()
    assert [r["id"] for r in page2["items"]] == [ids[0]]
    canceled = client.get("/api/v1/runs?status=canceled").get_json()
    assert [r["id"] for r in canceled["items"]] == [ids[0]]
    assert client.get("/api/v1/runs?problem_type=shift_scheduling").get_json()["total"] == 0


def test_list_runs_follows_the_keyset_cursor_to_the_end(client):
    ids = [client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny"}).get_json()["id"]
           for _ in range(5)]
    seen, url = [], "/api/v1/runs?per_page=2&problem_type=knapsack"
    while url:
        page = client.get(url).get_json()
        assert page["total"] == (5 if "before=" not in url else None)  # keyset pages do not count
        seen += [r["id"] for r in page["items"]]
        url = page["links"].get("next")
        assert url is None or "problem_type=knapsack" in url  # filters carry over
    assert seen == sorted(ids, reverse=True)
