"""Idempotency-Key on POST /api/v1/runs: a retry gets the same run; concurrent duplicates make one run."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from sqlalchemy import update
from sqlmodel import func, select

from app import db
from app.launcher import free_port
from app.models import IdempotencyKey, Run, utcnow
from tests.accounts import admin_headers
from tests.integration.test_postgres import pg_url  # noqa: F401  (fixture: a throwaway PostgreSQL database)
from tests.support import answers, start_web, stop_process, wait_for

pytestmark = pytest.mark.integration
BODY = {"problem_type": "knapsack", "demo": "tiny", "time_limit": 5}


def run_count(database_url: str) -> int:
    with db.session(database_url) as s:
        return s.exec(select(func.count()).select_from(Run)).one()


def post(client, body=BODY, key="order-42"):
    return client.post("/api/v1/runs", json=body, headers={"Idempotency-Key": key})


def test_a_retry_with_the_same_key_and_body_returns_the_same_run(client, redis, database_url):
    first = post(client)
    assert first.status_code == 202
    again = post(client, body=dict(reversed(list(BODY.items()))))  # same document, other key order
    assert again.status_code == 200
    assert again.headers["Location"] == first.headers["Location"]
    assert again.get_json()["id"] == first.get_json()["id"]
    assert run_count(database_url) == 1 and redis.llen("rq:queue:default") == 1


def test_the_same_key_with_another_body_is_422(client, redis, database_url):
    post(client)
    resp = post(client, body={**BODY, "time_limit": 6})
    assert resp.status_code == 422
    assert resp.get_json()["error"] == "idempotency_key_reused"
    assert resp.get_json()["errors"][0]["path"] == "headers.Idempotency-Key"
    assert run_count(database_url) == 1


def test_other_keys_and_no_key_make_new_runs(client, redis, database_url):
    post(client, key="a")
    post(client, key="b")
    client.post("/api/v1/runs", json=BODY)
    client.post("/api/v1/runs", json=BODY)
    assert run_count(database_url) == 4


def test_an_invalid_key_or_body_stores_nothing(client, redis, database_url):
    assert post(client, key="x" * 256).status_code == 422
    assert post(client, body={"problem_type": "knapsack"}).status_code == 422
    assert run_count(database_url) == 0
    assert post(client).status_code == 202  # the failed attempt did not burn the key


def test_a_key_expires_after_24_hours(client, redis, database_url):
    first = post(client).get_json()["id"]
    with db.write(database_url) as conn:
        conn.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=24, seconds=1)))
    resp = post(client, body={**BODY, "time_limit": 7})
    assert resp.status_code == 202 and resp.get_json()["id"] != first


def _post_json(url: str, body: dict, key: str, auth: dict[str, str]) -> tuple[int, str, int]:
    req = urllib.request.Request(
        url + "/api/v1/runs",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": key, **auth},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, resp.headers["Location"], json.load(resp)["id"]


def _sixteen_at_once(url: str, auth: dict[str, str]) -> list[tuple[int, str, int]]:
    barrier = Barrier(16)

    def one(_):
        barrier.wait()  # all 16 requests leave together
        return _post_json(url, BODY, "pay-once", auth)

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(one, range(16)))


@pytest.fixture
def server(tmp_path, redis, redis_url):
    started = []

    def start(database_url: str) -> str:
        port = free_port()
        proc = start_web(database_url, redis_url, tmp_path / "web.log", port, workers=2)
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: proc.poll() is not None or answers(url), 30, what="gunicorn to answer")
        assert proc.poll() is None, (tmp_path / "web.log").read_text()
        return url

    yield start
    for proc in started:
        stop_process(proc)


@pytest.mark.slow
def test_sixteen_parallel_duplicates_make_exactly_one_run_sqlite(server, database_url, redis):
    answers_ = _sixteen_at_once(server(database_url), admin_headers(database_url))
    assert len({(loc, rid) for _, loc, rid in answers_}) == 1
    assert sorted(status for status, _, _ in answers_) == [200] * 15 + [202]
    assert run_count(database_url) == 1 and redis.llen("rq:queue:default") == 1


@pytest.mark.slow
@pytest.mark.postgres
def test_sixteen_parallel_duplicates_make_exactly_one_run_postgres(server, pg_url, redis):  # noqa: F811
    db.upgrade(pg_url)
    answers_ = _sixteen_at_once(server(pg_url), admin_headers(pg_url))
    assert len({(loc, rid) for _, loc, rid in answers_}) == 1
    assert sorted(status for status, _, _ in answers_) == [200] * 15 + [202]
    assert run_count(pg_url) == 1 and redis.llen("rq:queue:default") == 1


def _batches_at_once(url: str, auth: dict[str, str], count: int = 8) -> list[tuple[int, list[int]]]:
    barrier = Barrier(count)
    body = json.dumps({"runs": [{**BODY, "seed": i} for i in range(3)]}).encode()

    def one(_):
        barrier.wait()
        req = urllib.request.Request(
            url + "/api/v1/runs/batch",
            data=body,
            headers={"Content-Type": "application/json", "Idempotency-Key": "sweep-once", **auth},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, [doc["id"] for doc in json.load(resp)["items"]]

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_parallel_duplicate_batches_make_exactly_one_set_of_runs(server, database_url, redis, request, backend):
    url = database_url
    if backend == "postgres":
        url = request.getfixturevalue("pg_url")
        db.upgrade(url)
    answers_ = _batches_at_once(server(url), admin_headers(url))
    assert len({tuple(ids) for _, ids in answers_}) == 1
    assert sorted(status for status, _ in answers_) == [200] * 7 + [202]
    assert run_count(url) == 3 and redis.llen("rq:queue:default") == 3
