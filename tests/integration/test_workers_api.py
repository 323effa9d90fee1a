"""The workers and queues API without a running worker: a worker whose heartbeat stopped is stale,
admin credentials are required, and an empty system reads as such."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Worker
from rq.utils import utcformat

from app import create_app
from app.models import utcnow
from tests.accounts import add_user, signed_in
from tests.integration.test_monitoring import sample

pytestmark = pytest.mark.integration


def test_workers_and_queues_are_for_admins(admin_client, client, anon_client, redis):
    for path in ("/api/v1/workers", "/api/v1/queues"):
        assert anon_client.get(path).status_code == 401
        assert client.get(path).status_code == 403  # signed in, not an admin
        assert admin_client.get(path).status_code == 200
    assert anon_client.get("/api/v1/workers").get_json()["error"] == "unauthorized"
    assert anon_client.get("/workers").status_code == 302  # to the sign-in page
    assert client.get("/workers").status_code == 403


def test_nothing_registered_nothing_queued(admin_client, redis):
    assert admin_client.get("/api/v1/workers").get_json() == {"items": []}
    queues = admin_client.get("/api/v1/queues").get_json()["items"]
    assert [q["name"] for q in queues] == ["high", "default", "low"]
    assert all(q["depth"] == 0 and q["oldest"] is None and q["running"] == [] for q in queues)
    assert "No worker is registered" in admin_client.get("/workers").get_data(as_text=True)


def test_a_worker_whose_heartbeat_stopped_is_stale(admin_client, redis):
    ghost = Worker(["default"], connection=redis, name="ghost")
    ghost.register_birth()  # as a worker does when it starts; then it went silent
    redis.hset(ghost.key, "last_heartbeat", utcformat(utcnow() - timedelta(minutes=3)))
    (doc,) = admin_client.get("/api/v1/workers").get_json()["items"]
    assert doc["name"] == "ghost" and doc["stale"] is True and doc["heartbeat_age"] > 170 and doc["run"] is None
    page = admin_client.get("/workers").get_data(as_text=True)
    assert 'class="state state-stale"' in page
    metrics = admin_client.get("/metrics").get_data(as_text=True)
    assert sample(metrics, "solvequeue_workers", state="stale") == 1
    assert sample(metrics, "solvequeue_workers", state="idle") == 0


def test_without_redis_the_views_say_so(database_url):
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:9/0"})
    client = signed_in(app, add_user(database_url, "root", is_admin=True))
    resp = client.get("/api/v1/workers")
    assert resp.status_code == 503 and resp.get_json()["error"] == "redis_unavailable"
    assert client.get("/api/v1/queues").status_code == 503
    page = client.get("/workers")
    assert page.status_code == 200 and "Redis did not answer" in page.get_data(as_text=True)
