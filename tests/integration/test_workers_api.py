"""The workers and queues API without a running worker: a worker whose heartbeat stopped is stale,
admin credentials are required, and an empty system reads as such."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from rq import Worker
from rq.utils import utcformat

from app import create_app
from app.models import utcnow
from tests.integration.test_monitoring import sample

pytestmark = pytest.mark.integration
AUTH = {"Authorization": "Basic " + base64.b64encode(b"boss:s3cret").decode()}


@pytest.fixture
def admin_client(database_url, redis_url):
    settings = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "ADMIN_USER": "boss", "ADMIN_PASSWORD": "s3cret"}
    return create_app(settings).test_client()


def test_workers_and_queues_need_admin_credentials(admin_client, redis):
    for path in ("/api/v1/workers", "/api/v1/queues", "/workers"):
        resp = admin_client.get(path)
        assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Basic")
    assert admin_client.get("/api/v1/workers").get_json()["error"] == "unauthorized"
    assert admin_client.get("/api/v1/workers", headers=AUTH).status_code == 200


def test_nothing_registered_nothing_queued(admin_client, redis):
    assert admin_client.get("/api/v1/workers", headers=AUTH).get_json() == {"items": []}
    queues = admin_client.get("/api/v1/queues", headers=AUTH).get_json()["items"]
    assert [q["name"] for q in queues] == ["high", "default", "low"]
    assert all(q["depth"] == 0 and q["oldest"] is None and q["running"] == [] for q in queues)
    assert "No worker is registered" in admin_client.get("/workers", headers=AUTH).get_data(as_text=True)


def test_a_worker_whose_heartbeat_stopped_is_stale(admin_client, redis):
    ghost = Worker(["default"], connection=redis, name="ghost")
    ghost.register_birth()  # as a worker does when it starts; then it went silent
    redis.hset(ghost.key, "last_heartbeat", utcformat(utcnow() - timedelta(minutes=3)))
    (doc,) = admin_client.get("/api/v1/workers", headers=AUTH).get_json()["items"]
    assert doc["name"] == "ghost" and doc["stale"] is True and doc["heartbeat_age"] > 170 and doc["run"] is None
    page = admin_client.get("/workers", headers=AUTH).get_data(as_text=True)
    assert 'class="state state-stale"' in page
    metrics = admin_client.get("/metrics").get_data(as_text=True)
    assert sample(metrics, "solvequeue_workers", state="stale") == 1
    assert sample(metrics, "solvequeue_workers", state="idle") == 0


def test_without_redis_the_views_say_so(database_url):
    settings = {
        "DATABASE_URL": database_url,
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "ADMIN_USER": "boss",
        "ADMIN_PASSWORD": "s3cret",
    }
    client = create_app(settings).test_client()
    resp = client.get("/api/v1/workers", headers=AUTH)
    assert resp.status_code == 503 and resp.get_json()["error"] == "redis_unavailable"
    assert client.get("/api/v1/queues", headers=AUTH).status_code == 503
    page = client.get("/workers", headers=AUTH)
    assert page.status_code == 200 and "Redis did not answer" in page.get_data(as_text=True)
