"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

import json

import pytest

from app import create_app
from tests.accounts import signed_in

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


def test_json_logs_have_one_object_per_event(database_url, redis_url, redis, user, monkeypatch, capsys):
    monkeypatch.setenv("LOG_FORMAT", "json")
    client = signed_in(create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url}), user)
    try:
        capsys.readouterr()
        run_id = client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny"}).get_json()["id"]
        client.post(f"/api/v1/runs/{run_id}/cancel")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        monkeypatch.delenv("LOG_FORMAT")
        create_app({"DATABASE_URL": database_url})  # back to plain text for the tests that follow
    submit, cancel = (next(e for e in lines if e.get("event") == kind) for kind in ("submit", "cancel"))
    assert submit["run_id"] == run_id and submit["problem_type"] == "knapsack" and submit["status"] == "queued"
    assert 0 < submit["duration"] < 5 and submit["level"] == "info" and submit["ts"].endswith("+00:00")
    assert cancel["run_id"] == run_id and cancel["status"] == "canceled"


def test_plain_text_logs_are_the_default(client, redis, capsys):
    capsys.readouterr()
    client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny"})
    err = capsys.readouterr().err
    assert "INFO app.runs: submit run_id=1 problem_type=knapsack status=queued" in err and "{" not in err


def test_reconciler_actions_are_counted_and_logged(client, settings, redis, database_url, caplog):
    from datetime import timedelta

    from app.models import utcnow
    from tests.web.factories import store_run
    from workers import maintenance

    lost = store_run(database_url, "queued", created_at=utcnow() - timedelta(minutes=5))  # its job never made it
    dead = store_run(database_url, "running", attempt=3, lost=settings.MAX_ATTEMPTS)  # lost too often
    before = client.get("/metrics").get_data(as_text=True)
    assert maintenance.reconcile(settings, redis) == {"requeued": 1, "failed": 1}
    after = client.get("/metrics").get_data(as_text=True)
    for action in ("requeued", "failed"):
        name = "solvequeue_reconciler_actions_total"
        assert sample(after, name, action=action) == sample(before, name, action=action) + 1
    events = {r.fields["run_id"]: r.fields for r in caplog.records if getattr(r, "fields", {}).get("event")}
    assert events[lost.id]["action"] == "requeued" and events[lost.id]["job_status"] == "missing"
    assert events[dead.id]["action"] == "failed" and events[dead.id]["status"] == "failed"
