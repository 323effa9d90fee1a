"""POST /api/v1/runs/batch: many runs in one request, all stored and queued or none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import func, select

from app import create_app, db
from app.launcher import free_port
from app.models import IdempotencyKey, Run, utcnow
from tests.accounts import signed_in
from tests.support import wait_for
from workers import maintenance

pytestmark = pytest.mark.integration
TINY = {"problem_type": "knapsack", "demo": "tiny", "time_limit": 5}


@pytest.fixture(autouse=True)
def _empty_redis(redis):
    """An empty Redis for each test: no jobs, and no rate-limit counts left by earlier tests."""


def run_count(database_url: str) -> int:
    with db.session(database_url) as s:
        return s.exec(select(func.count()).select_from(Run)).one()


def batch(client, items, **headers):
    return client.post("/api/v1/runs/batch", json={"runs": items}, headers=headers)


def test_a_batch_stores_and_queues_every_run_in_order(client, redis, database_url):
    items = [{**TINY, "name": f"sweep {i}", "seed": i} for i in range(5)]
    items[3] = {**items[3], "priority": "high"}
    resp = batch(client, items)
    assert resp.status_code == 202, resp.get_json()
    docs = resp.get_json()["items"]
    assert [d["name"] for d in docs] == [f"sweep {i}" for i in range(5)]
    ids = [d["id"] for d in docs]
    assert len(set(ids)) == 5 and all(d["status"] == "queued" for d in docs)
    with db.session(database_url) as s:
        stored = {r.id: r for r in s.exec(select(Run))}
    assert sorted(stored) == sorted(ids)
    assert [stored[i].stats["seed"] for i in ids] == [0, 1, 2, 3, 4]
    assert [stored[i].priority for i in ids] == ["default", "default", "default", "high", "default"]
    # Each run's job sits on its own priority's queue, in the order sent.
    assert redis.lrange("rq:queue:high", 0, -1) == [f"run-{ids[3]}".encode()]
    expected = [f"run-{i}".encode() for n, i in enumerate(ids) if n != 3]
    assert redis.lrange("rq:queue:default", 0, -1) == expected


def test_one_bad_submission_refuses_the_batch_naming_it_and_stores_nothing(client, redis, database_url):
    items = [TINY, {**TINY, "time_limit": "30"}, {**TINY, "demo": "nope"}, {"problem_type": "knapsack"}]
    resp = batch(client, items)
    assert resp.status_code == 422
    paths = {e["path"] for e in resp.get_json()["errors"]}
    assert paths == {"runs[1].time_limit", "runs[2].demo", "runs[3].input"}, resp.get_json()
    assert resp.get_json()["message"] == "3 problem(s) with the submitted runs (nothing was stored)"
    assert run_count(database_url) == 0
    assert redis.llen("rq:queue:default") == 0


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"runs": []}, "runs"),
        ({"runs": {"problem_type": "knapsack"}}, "runs"),
        ({"items": [TINY]}, "(root)"),
        ([TINY], "(root)"),
        ({"runs": ["knapsack"]}, "runs[0]"),
    ],
)
def test_a_malformed_batch_is_a_4xx_naming_where(client, database_url, body, path):
    resp = client.post("/api/v1/runs/batch", json=body)
    assert resp.status_code == 422
    assert [e["path"] for e in resp.get_json()["errors"]] == [path], resp.get_json()
    assert run_count(database_url) == 0


def test_a_batch_larger_than_allowed_is_refused(client, settings, database_url):
    settings.MAX_BATCH_RUNS = 3
    resp = batch(client, [TINY] * 4)
    assert resp.status_code == 422
    assert "1 to 3 submissions, got 4 items" in resp.get_json()["errors"][0]["message"]
    assert run_count(database_url) == 0


def test_a_batch_that_would_overfill_the_users_queue_is_refused_whole(client, settings, database_url):
    settings.MAX_QUEUED_PER_USER = 5
    assert batch(client, [TINY] * 3).status_code == 202
    resp = batch(client, [TINY] * 3)
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    assert "3 runs waiting, and these 3 would make 6 (at most 5)" in resp.get_json()["message"]
    assert run_count(database_url) == 3
    assert batch(client, [TINY] * 2).status_code == 202


def test_each_run_of_a_batch_counts_against_the_submission_rate_limit(client, settings, database_url):
    settings.RATE_LIMIT_SUBMIT = "5 per minute"
    assert batch(client, [TINY] * 4).status_code == 202
    assert client.post("/api/v1/runs", json=TINY).status_code == 202  # the fifth
    resp = batch(client, [TINY] * 2)
    assert resp.status_code == 429 and resp.headers["Retry-After"]
    assert run_count(database_url) == 5


def test_a_batch_retried_with_its_idempotency_key_gets_the_same_runs(client, database_url):
    items = [{**TINY, "seed": i} for i in range(3)]
    first = batch(client, items, **{"Idempotency-Key": "sweep-7"})
    assert first.status_code == 202
    again = batch(client, items, **{"Idempotency-Key": "sweep-7"})
    assert again.status_code == 200
    assert [d["id"] for d in again.get_json()["items"]] == [d["id"] for d in first.get_json()["items"]]
    assert run_count(database_url) == 3
    other = batch(client, items[:2], **{"Idempotency-Key": "sweep-7"})
    assert other.status_code == 422 and other.get_json()["error"] == "idempotency_key_reused"
    # A single submission's key never meets a batch's: the same key text is another key there.
    assert client.post("/api/v1/runs", json=TINY, headers={"Idempotency-Key": "sweep-7"}).status_code == 202
    with db.session(database_url) as s:
        assert s.exec(select(func.count()).select_from(IdempotencyKey)).one() == 4


def test_other_users_do_not_see_a_batchs_runs(client, other_client):
    ids = [d["id"] for d in batch(client, [TINY] * 2).get_json()["items"]]
    assert all(other_client.get(f"/api/v1/runs/{i}").status_code == 404 for i in ids)


def test_a_worker_solves_every_run_of_a_batch(client, worker):
    ids = [d["id"] for d in batch(client, [{**TINY, "seed": i} for i in range(4)]).get_json()["items"]]

    def all_done():
        docs = [client.get(f"/api/v1/runs/{i}").get_json() for i in ids]
        return docs if all(d["terminal"] for d in docs) else None

    docs = wait_for(all_done, 60, what="the batch's runs to finish")
    assert all(d["status"] == "succeeded" and d["result"]["checked"] and d["objective"] == 5 for d in docs)


def test_a_batch_stored_while_redis_is_down_is_queued_later_by_the_reconciler(
    database_url, redis, redis_url, user, settings
):
    # Redis does not answer when the batch comes: the rows are the truth (202, stored), and the
    # reconciler enqueues every run of it once Redis is back, as it does for a single submission.
    down = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": down, "TESTING": True})
    resp = signed_in(app, user).post("/api/v1/runs/batch", json={"runs": [TINY] * 3})
    assert resp.status_code == 202, resp.get_json()
    ids = [d["id"] for d in resp.get_json()["items"]]
    assert run_count(database_url) == 3 and redis.llen("rq:queue:default") == 0
    with db.session(database_url) as s:  # past the reconciler's grace for runs being enqueued right now
        s.exec(update(Run).values(created_at=utcnow() - timedelta(minutes=5)))
        s.commit()
    assert maintenance.reconcile(settings, redis) == {"requeued": 3, "failed": 0}
    assert sorted(redis.lrange("rq:queue:default", 0, -1)) == sorted(f"run-{i}".encode() for i in ids)
