"""Who may see the operators' views (workers and queues, in the pages and the API).

One function decides, so accounts (issue 13) replace it in one place: until then an admin is whoever
sends the ADMIN_USER / ADMIN_PASSWORD Basic credentials that also open /rq.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Response, jsonify, request

from app.web import dashboard


def is_admin() -> bool:
    return dashboard.is_admin(request.authorization)


def admin_only(view: Callable) -> Callable:
    """401 with a Basic challenge unless is_admin() (JSON under /api/, plain text elsewhere)."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if is_admin():
            return view(*args, **kwargs)
        challenge = {"WWW-Authenticate": dashboard.REALM}
        if request.path.startswith("/api/"):
            return jsonify(error="unauthorized", message="admin credentials required"), 401, challenge
        return Response("Admin credentials required.\n", 401, challenge, mimetype="text/plain")

    return guarded
