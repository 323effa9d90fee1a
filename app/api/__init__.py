"""JSON API under /api/v1. Views are thin: parse → service function → JSON.

Every route needs a signed-in user (an API token, `Authorization: Bearer`, or a session cookie with its
CSRF token) except those in PUBLIC. A user sees and cancels only their own runs; admins see all.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for

from app import jsondoc, limits, problems, runs
from app.api import errors, serialize
from app.api.openapi import document
from app.auth import current_user, login_manager
from app.models import RunStatus

bp = Blueprint("api", __name__, url_prefix="/api/v1")
errors.register(bp)
PUBLIC = frozenset({"api.openapi", "api.problem_types"})


@bp.before_request
def _signed_in():
    if request.endpoint not in PUBLIC and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _settings():
    return current_app.extensions["settings"]


@bp.post("/runs")
@limits.submit_limit
def create():
    run = runs.submit(_json_body(), _settings())
    location = url_for("api.show", run_id=run.id)
    return jsonify(serialize.run(run)), 202, {"Location": location}


@bp.get("/runs/<int:run_id>")
def show(run_id: int):
    run = runs.get(run_id, _settings())
    return jsonify(serialize.run(run, progress=runs.progress(run_id, _settings()), detail=True))


@bp.get("/runs")
def index():
    page = errors.query_int("page", 1, 1, 10**6)
    per_page = errors.query_int("per_page", 20, 1, 100)
    before = errors.query_int("before", 0, 1, 2**62) or None
    status = request.args.get("status")
    if status is not None and status not in {s.value for s in RunStatus}:
        raise errors.query_error("status", f"one of {', '.join(s.value for s in RunStatus)}")
    problem_type = request.args.get("problem_type")
    if problem_type is not None and problem_type not in {p.name for p in problems.all_types()}:
        raise errors.query_error("problem_type", f"one of {', '.join(p.name for p in problems.all_types())}")
    items, total = runs.page(_settings(), page, per_page, status, problem_type, before)
    links = {}
    if len(items) == per_page:  # there may be more: the keyset cursor of the next page
        args = {k: v for k, v in request.args.items() if k not in ("page", "before")}
        links["next"] = url_for("api.index", **args, before=items[-1].id)
    return jsonify(
        items=[serialize.run(r) for r in items], page=page, per_page=per_page, total=total, links=links
    )


@bp.post("/runs/<int:run_id>/cancel")
def cancel(run_id: int):
    run = runs.cancel(run_id, _settings())
    return jsonify(serialize.run(run)), 200 if run.is_terminal else 202


@bp.get("/problem-types")
def problem_types():
    return jsonify(items=[serialize.problem_type(p) for p in problems.all_types()])


@bp.get("/openapi.json")
def openapi():
    return jsonify(document(_settings()))


def _json_body():
    """The request's JSON document; 415 if it is not JSON, 400 (with the position) if it is malformed."""
    if not request.mimetype or request.mimetype != "application/json":
        raise errors.ApiError(415, "unsupported_media_type", "send the run as application/json")
    raw = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH (chunked bodies too)
    try:
        return jsondoc.parse(raw)
    except jsondoc.DocumentError as exc:
        raise errors.ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
