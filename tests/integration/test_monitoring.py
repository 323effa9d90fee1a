"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

import pytest

from app import create_app

pytestmark = pytest.mark.integration


def test_healthz_is_cheap_and_touches_neither_database_nor_redis(tmp_path):
    app = create_app({"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none", "REDIS_URL": "redis://127.0.0.1:9/0"})
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}


def test_readyz_checks_database_and_redis(client, redis):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "failed": [], "database": "ok", "redis": "ok"}


def test_readyz_names_redis_when_it_is_down(database_url):
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:9/0"})
    resp = app.test_client().get("/readyz")
    doc = resp.get_json()
    assert resp.status_code == 503 and doc["failed"] == ["redis"]
    assert doc["database"] == "ok" and doc["redis"].startswith("error: ConnectionError")


def test_readyz_names_the_database_when_it_is_down(redis_url, tmp_path):
    app = create_app({"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none", "REDIS_URL": redis_url})
    resp = app.test_client().get("/readyz")
    doc = resp.get_json()
    assert resp.status_code == 503 and doc["failed"] == ["database"] and doc["redis"] == "ok"
    assert doc["database"].startswith("error: OperationalError")


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 if absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_metrics_count_submits_and_read_queues_at_scrape_time(client, redis):
    before = client.get("/metrics").get_data(as_text=True)
    client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny", "priority": "low"})
    after = client.get("/metrics").get_data(as_text=True)
    submitted = "solvequeue_runs_submitted_total"
    assert sample(after, submitted, problem_type="knapsack") == sample(before, submitted, problem_type="knapsack") + 1
    assert sample(after, "solvequeue_submit_seconds_count") == sample(before, "solvequeue_submit_seconds_count") + 1
    assert sample(after, "solvequeue_queue_depth", queue="low") == 1
    assert sample(after, "solvequeue_queue_depth", queue="default") == 0
    assert sample(after, "solvequeue_queue_oldest_wait_seconds", queue="low") > 0
    assert sample(after, "solvequeue_workers", state="busy") == 0
