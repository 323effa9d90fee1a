"""rq-dashboard mounted at /rq, for admins only (HTTP Basic with ADMIN_USER / ADMIN_PASSWORD).

rq-dashboard has no auth of its own and some of its mutating routes accept GET (requeue), so every
request to its blueprint passes our guard first. No password configured means /rq is closed.
Browsers resend cached Basic credentials on cross-site requests, so changes (POST) must also come from
a page of this site, and the GET form of "requeue all" is refused (its own UI POSTs).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

import rq_dashboard
from flask import Flask, Response, current_app, request

PREFIX = "/rq"
REALM = 'Basic realm="SolveQueue admin", charset="UTF-8"'


def init_app(app: Flask) -> None:
    settings = app.extensions["settings"]
    # Set before setup: otherwise rq-dashboard reads our REDIS_URL as its deprecated alias and warns.
    app.config["RQ_DASHBOARD_REDIS_URL"] = settings.REDIS_URL
    app.config.setdefault("RQ_DASHBOARD_POLL_INTERVAL", 2500)
    rq_dashboard.web.setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=PREFIX)
    # App-level before_request runs before the blueprint's own (which opens Redis connections).
    app.before_request(_guard)


def is_admin(auth) -> bool:
    settings = current_app.extensions["settings"]
    if not settings.ADMIN_PASSWORD or auth is None or auth.type != "basic":
        return False
    user_ok = hmac.compare_digest((auth.username or "").encode(), settings.ADMIN_USER.encode())
    password_ok = hmac.compare_digest((auth.password or "").encode(), settings.ADMIN_PASSWORD.encode())
    return user_ok and password_ok


def _guard() -> Response | None:
    if request.blueprint != rq_dashboard.blueprint.name and request.path.rstrip("/") != PREFIX \
            and not request.path.startswith(PREFIX + "/"):
        return None
    if not is_admin(request.authorization):
        return Response("Admin credentials required.\n", 401, {"WWW-Authenticate": REALM}, mimetype="text/plain")
    if request.method == "GET" and "/requeue/" in request.path:
        return Response("Use the dashboard's button (POST).\n", 405, {"Allow": "POST"}, mimetype="text/plain")
    if request.method not in ("GET", "HEAD", "OPTIONS") and _cross_site():
        return Response("Cross-site request refused.\n", 403, mimetype="text/plain")
    return None


def _cross_site() -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    return origin is not None and urlsplit(origin).netloc != request.host


def enabled() -> bool:
    """Whether to show the link: /rq can only open when an admin password is configured."""
    return bool(current_app.extensions["settings"].ADMIN_PASSWORD)
