"""Health check (web → DB and Redis)."""

from __future__ import annotations

from flask import Flask, current_app, jsonify
from sqlalchemy import text

from app import db, queueing


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz)


def healthz():
    settings = current_app.extensions["settings"]
    checks = {}
    try:
        with db.session(settings.DATABASE_URL) as s:
            s.exec(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't raise: this is the page operators look at when things break
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        queueing.connect(settings.REDIS_URL).ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {exc.__class__.__name__}"
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "degraded", **checks), 200 if ok else 503
