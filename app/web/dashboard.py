"""rq-dashboard mounted at /rq, for admins only: they sign in with their own account.

rq-dashboard has no auth of its own and some of its mutating routes accept GET (requeue), so every
request to its blueprint passes our guard first. Its JavaScript posts without our CSRF token, so its
changes (POST) must come from a page of this site (Sec-Fetch-Site / Origin), on top of the session
cookie being SameSite=Lax; the GET and HEAD forms of "requeue" are refused (its own UI POSTs).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import rq_dashboard
from flask import Flask, Response, request

from app.auth import current_user, login_manager

PREFIX = "/rq"


def init_app(app: Flask) -> None:
    settings = app.extensions["settings"]
    # Set before setup: otherwise rq-dashboard reads our REDIS_URL as its deprecated alias and warns.
    app.config["RQ_DASHBOARD_REDIS_URL"] = settings.REDIS_URL
    app.config.setdefault("RQ_DASHBOARD_POLL_INTERVAL", 2500)
    rq_dashboard.web.setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=PREFIX)
    # App-level before_request runs before the blueprint's own (which opens Redis connections).
    app.before_request(_guard)


def handles(path: str) -> bool:
    return path.rstrip("/") == PREFIX or path.startswith(PREFIX + "/")


def _guard() -> Response | None:
    if request.blueprint != rq_dashboard.blueprint.name and not handles(request.path):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        return Response("Only admins can open the queue dashboard.\n", 403, mimetype="text/plain")
    if request.method in ("GET", "HEAD") and "/requeue/" in request.path:
        return Response("Use the dashboard's button (POST).\n", 405, {"Allow": "POST"}, mimetype="text/plain")
    if request.method not in ("GET", "HEAD", "OPTIONS") and _cross_site():
        return Response("Cross-site request refused.\n", 403, mimetype="text/plain")
    return None


def _cross_site() -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    # Neither header: not a browser's cross-site form (browsers send Origin on every POST).
    return origin is not None and urlsplit(origin).netloc != request.host


def enabled() -> bool:
    """Whether to show the link: only admins can open /rq."""
    return bool(current_user.is_authenticated and current_user.is_admin)


def is_admin(_authorization: object = None) -> bool:
    """Whether the signed-in user is an admin. (The argument, HTTP Basic credentials before accounts
    existed, is ignored: pages guarded with `is_admin(request.authorization)` keep working; new code
    uses app.auth.admin_required.)"""
    return enabled()
