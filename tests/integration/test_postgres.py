"""The same flow on PostgreSQL (what a multi-machine deployment uses), in a throwaway database.

Skipped when no PostgreSQL answers on PG_TEST_URL (default: localhost:5432, trust auth)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from app import create_app, db
from app.queueing import CHUNK_RUNS
from tests.accounts import add_user, signed_in
from tests.support import start_worker, stop_process, wait_for
from tests.test_migrations import schema_diff

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
SERVER = os.environ.get("PG_TEST_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_url():
    try:
        admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # no server here: nothing to test against
        pytest.skip(f"no PostgreSQL at {SERVER}: {exc.__class__.__name__}")
    name = f"solvequeue_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    yield url
    for engine in [e for (u, _), e in db._engines.items() if u == url]:
        engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_submit_solve_and_cancel_on_postgres(pg_url, redis, redis_url, tmp_path):
    db.upgrade(pg_url)  # the release step's migrations, on PostgreSQL
    assert schema_diff(pg_url) == []
    app = create_app({"DATABASE_URL": pg_url, "REDIS_URL": redis_url, "SOLVER_THREADS": 2})
    client = signed_in(app, add_user(pg_url, "alice"))
    worker = start_worker(pg_url, redis_url, tmp_path / "worker.log")
    try:
        run_id = client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny"}).get_json()["id"]
        doc = wait_for(
            lambda: (d := client.get(f"/api/v1/runs/{run_id}").get_json())["terminal"] and d,
            30,
            what="the run to finish",
        )
        assert doc["status"] == "succeeded" and doc["objective"] == 5 and doc["progress"]

        slow = client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "hard", "time_limit": 60})
        slow_id = slow.get_json()["id"]
        wait_for(lambda: client.get(f"/api/v1/runs/{slow_id}").get_json()["num_solutions"] > 0, 30, what="a solution")
        assert client.post(f"/api/v1/runs/{slow_id}/cancel").status_code == 202
        doc = wait_for(
            lambda: (d := client.get(f"/api/v1/runs/{slow_id}").get_json())["terminal"] and d, 5, what="canceled"
        )
        assert doc["status"] == "canceled" and doc["result"]["checked"]
    finally:
        stop_process(worker)


def test_former_5xx_inputs_are_4xx_on_postgres(pg_url, redis, redis_url):
    """PostgreSQL's `integer` ends at 2^31 and its text refuses NUL: both used to be 500s."""
    db.upgrade(pg_url)
    app = create_app({"DATABASE_URL": pg_url, "REDIS_URL": redis_url})
    client = signed_in(app, add_user(pg_url, "alice"))
    for path in ("/api/v1/runs/2147483648", "/api/v1/runs/9223372036854775808", "/runs/2147483648",
                 "/runs/2147483648/status"):
        assert client.get(path).status_code == 404, path
    assert client.post("/api/v1/runs/2147483648/cancel").status_code == 404
    resp = client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny", "name": "a\x00b"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["path"] == "name"
    assert client.get("/api/v1/runs?problem_type=knap%00sack").status_code == 422
    assert client.get("/?status=fail%00ed").status_code == 200
    login = app.test_client().post("/login", data={"username": "al\x00ice", "password": "x"})
    assert login.status_code in (400, 401)


def test_a_batch_on_postgres_gets_its_ids_in_order_and_a_retry_the_same_runs(pg_url, redis, redis_url):
    """One multi-row INSERT … RETURNING: PostgreSQL must hand the ids back in the order sent, and the
    batch's idempotency records (keys with a unit separator) must store there too."""
    db.upgrade(pg_url)
    app = create_app({"DATABASE_URL": pg_url, "REDIS_URL": redis_url})
    client = signed_in(app, add_user(pg_url, "alice"))
    items = [{"problem_type": "knapsack", "demo": "tiny", "name": f"n{i}", "seed": i} for i in range(10)]
    resp = client.post("/api/v1/runs/batch", json={"runs": items}, headers={"Idempotency-Key": "sweep"})
    assert resp.status_code == 202, resp.get_json()
    docs = resp.get_json()["items"]
    assert [d["name"] for d in docs] == [f"n{i}" for i in range(10)]
    for doc in docs[::3]:
        assert client.get(f"/api/v1/runs/{doc['id']}").get_json()["stats"]["seed"] == int(doc["name"][1:])
    again = client.post("/api/v1/runs/batch", json={"runs": items}, headers={"Idempotency-Key": "sweep"})
    assert again.status_code == 200 and [d["id"] for d in again.get_json()["items"]] == [d["id"] for d in docs]
    bad = client.post("/api/v1/runs/batch", json={"runs": [items[0], {**items[1], "demo": "x"}]})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["path"] == "runs[1].demo"
    assert redis.llen("rq:queue:default") == 10


def test_a_batch_of_small_runs_shares_jobs_and_every_run_solves_on_postgres(pg_url, redis, redis_url, tmp_path):
    """The ids of one multi-row INSERT are consecutive on PostgreSQL too, so whole blocks share a job."""
    db.upgrade(pg_url)
    app = create_app({"DATABASE_URL": pg_url, "REDIS_URL": redis_url})
    client = signed_in(app, add_user(pg_url, "alice"))
    items = [{"problem_type": "knapsack", "demo": "tiny", "seed": i} for i in range(2 * CHUNK_RUNS - 1)]
    ids = [d["id"] for d in client.post("/api/v1/runs/batch", json={"runs": items}).get_json()["items"]]
    queued = [j.decode() for j in redis.lrange("rq:queue:default", 0, -1)]
    assert len(queued) == len(ids) - CHUNK_RUNS + 1 and sum(j.startswith("runs-") for j in queued) == 1
    worker = start_worker(pg_url, redis_url, tmp_path / "worker.log")
    try:
        docs = [
            wait_for(lambda i=i: (d := client.get(f"/api/v1/runs/{i}").get_json())["terminal"] and d, 30, what="end")
            for i in ids
        ]
    finally:
        stop_process(worker)
    assert all(d["status"] == "succeeded" and d["objective"] == 5 and d["result"]["checked"] for d in docs)
