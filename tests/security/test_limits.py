"""Limits: submissions per user per minute (429 + Retry-After), runs waiting per user and in total
(503 + Retry-After), and per-user caps on time limit and threads set by an admin."""

from __future__ import annotations

import uuid

import pytest

from app import create_app
from app.auth import accounts
from tests.accounts import signed_in
from tests.web.factories import store_run

DEMO = {"problem_type": "knapsack", "demo": "tiny"}


@pytest.fixture
def limited_app(database_url, redis_url, redis):
    return create_app(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "TESTING": True,
            "RATE_LIMIT_SUBMIT": "2 per minute",
            "MAX_QUEUED_PER_USER": 3,
            "MAX_QUEUED_TOTAL": 5,
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    )


def test_submissions_past_the_rate_limit_get_429_with_retry_after(limited_app, user, other_user):
    alice, bob = signed_in(limited_app, user), signed_in(limited_app, other_user)
    assert [alice.post("/api/v1/runs", json=DEMO).status_code for _ in range(2)] == [202, 202]
    resp = alice.post("/api/v1/runs", json=DEMO)
    assert resp.status_code == 429 and resp.get_json()["error"] == "too_many_requests"
    assert 0 < int(resp.headers["Retry-After"]) <= 60
    page = alice.post("/runs", data={"source": "demo", "demo": "knapsack/tiny"})  # the form shares the budget
    assert page.status_code == 429 and "Retry-After" in page.headers and "Too many requests" in page.get_data(True)
    assert bob.post("/api/v1/runs", json=DEMO).status_code == 202  # per user


def test_a_full_queue_answers_503_with_retry_after(limited_app, user, other_user, database_url):
    for _ in range(3):
        store_run(database_url, "queued")
    alice, bob = signed_in(limited_app, user), signed_in(limited_app, other_user)
    resp = alice.post("/api/v1/runs", json=DEMO)
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "60"
    assert "3 runs waiting" in resp.get_json()["message"]
    page = alice.post("/runs", data={"source": "demo", "demo": "knapsack/tiny"})
    assert page.status_code == 503 and "3 runs waiting" in page.get_data(as_text=True)
    assert bob.post("/api/v1/runs", json=DEMO).status_code == 202  # bob has room; the queue has 4 of 5
    store_run(database_url, "queued", owner_id=None)  # 5 of 5
    full = bob.post("/api/v1/runs", json=DEMO)
    assert full.status_code == 503 and "queue is full" in full.get_json()["message"]
    assert alice.get("/api/v1/runs").get_json()["total"] == 3  # nothing stored by the refusals


def test_an_admin_caps_one_users_time_limit_and_threads(client, other_client, database_url, redis):
    accounts.update(database_url, "alice", max_time_limit=60.0, max_threads=2)
    over = client.post("/api/v1/runs", json={**DEMO, "time_limit": 61, "threads": 3})
    assert over.status_code == 422
    assert {e["path"]: e["message"] for e in over.get_json()["errors"]} == {
        "time_limit": "at most 60 seconds",
        "threads": "at most 2",
    }
    run = client.post("/api/v1/runs", json={**DEMO, "time_limit": 60}).get_json()
    assert run["time_limit"] == 60 and run["threads"] <= 2
    assert other_client.post("/api/v1/runs", json={**DEMO, "time_limit": 600, "threads": 3}).status_code == 202


def test_sign_in_attempts_are_limited_per_address(database_url, redis_url, redis, user):
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "TESTING": True,
            "RATE_LIMIT_LOGIN": "3 per minute",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    )
    guesser = app.test_client()
    answers = [
        guesser.post("/login", data={"username": "alice", "password": f"guess {i}"}).status_code for i in range(4)
    ]
    assert answers == [401, 401, 401, 429]
    assert "Retry-After" in guesser.post("/login", data={"username": "alice", "password": "x"}).headers
