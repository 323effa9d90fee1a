"""Operators' pages: the workers and queues at a glance (admins only)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from redis.exceptions import RedisError

from app import cluster
from app.auth import admin_required

bp = Blueprint("operations", __name__)


@bp.get("/workers")
@admin_required
def workers():
    """Each worker and the run it solves, each queue and what waits; the fragment refreshes every 2 s."""
    settings = current_app.extensions["settings"]
    ctx = {"workers": [], "queues": [], "stale_after": cluster.STALE_AFTER, "unavailable": False}
    try:
        ctx.update(workers=cluster.workers(settings), queues=cluster.queues(settings))
    except RedisError:
        ctx["unavailable"] = True  # say so, and keep polling: it shows up again when Redis is back
    if request.htmx and not request.htmx.history_restore_request:
        return render_template("operations/_cluster.html", **ctx)
    return render_template("operations/workers.html", **ctx)
