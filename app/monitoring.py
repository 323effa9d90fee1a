"""Liveness (/healthz), readiness (/readyz) and Prometheus metrics (/metrics)."""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, Response, current_app, jsonify
from redis import Redis
from sqlalchemy import text

from app import db, metrics


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
    app.add_url_rule("/metrics", "metrics", scrape)


def healthz():
    """The process answers: nothing else is touched, so a slow database never gets web processes
    restarted by a liveness probe."""
    return jsonify(status="ok")


def readyz():
    """Ready to take traffic: the database and Redis both answer. 503 names what failed."""
    settings = current_app.extensions["settings"]
    checks = {"database": _check(lambda: _database(settings.DATABASE_URL)), "redis": _check(lambda: _redis(settings))}
    failed = [name for name, result in checks.items() if result != "ok"]
    body = {"status": "ok" if not failed else "unavailable", "failed": failed, **checks}
    return jsonify(body), 503 if failed else 200


def _database(url: str) -> None:
    with db.get_engine(url).connect() as conn:
        conn.execute(text("SELECT 1"))


@lru_cache(maxsize=8)
def _probe_connection(url: str) -> Redis:
    # Short timeouts: a Redis behind a broken network must fail the probe, not hang it.
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def _redis(settings) -> None:
    _probe_connection(settings.REDIS_URL).ping()


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # report, don't raise: this is what operators look at when things break
        return f"error: {exc.__class__.__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}".rstrip(": ")


def scrape() -> Response:
    body = metrics.exposition(current_app.extensions["settings"])
    return Response(body, mimetype="text/plain", content_type="text/plain; version=0.0.4; charset=utf-8")
