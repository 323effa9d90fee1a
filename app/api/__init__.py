"""JSON API under /api/v1. Views are thin: parse → service function → JSON.

Every route needs a signed-in user (an API token, `Authorization: Bearer`, or a session cookie with its
CSRF token) except those in PUBLIC. A user sees and cancels only their own runs; admins see all.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from redis.exceptions import RedisError

from app import cluster, idempotency, jsondoc, limits, problems, runs, solver_logs
from app.api import errors, serialize
from app.api.openapi import document
from app.auth import admin_required, current_user, login_manager
from app.models import RunStatus
from app.problems import InputError

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
    key = request.headers.get(idempotency.HEADER)
    if key is None:
        run, created = runs.submit(_json_body(), _settings()), True
    else:
        run, created = idempotency.submit(_json_body(), _settings(), key)
    location = url_for("api.show", run_id=run.id)
    return jsonify(serialize.run(run)), 202 if created else 200, {"Location": location}


def _batch_cost() -> int:
    """What a batch costs against the submission rate limit: one per run it carries."""
    try:
        doc = _json_body()
    except errors.ApiError:
        return 1  # refused anyway, by the view
    items = doc.get("runs") if isinstance(doc, dict) else None
    return min(len(items), _settings().MAX_BATCH_RUNS) if isinstance(items, list) and items else 1


@bp.post("/runs/batch")
@limits.submit_limit_of(_batch_cost)
def create_batch():
    """Many runs in one request: {"runs": [submission, ...]}. All are stored, or none (a 4xx says which
    submission is wrong, under runs[i]); 202 with the runs in the order sent."""
    doc = _json_body()
    if not isinstance(doc, dict) or set(doc) != {"runs"}:
        message = 'expected an object with one field, "runs": a list of submissions'
        raise InputError([{"path": "(root)", "message": message}])
    key = request.headers.get(idempotency.HEADER)
    if key is None:
        batch, created = runs.submit_many(doc["runs"], _settings()), True
    else:
        batch, created = idempotency.submit_many(doc["runs"], _settings(), key)
    return jsonify(items=[serialize.run(run) for run in batch]), 202 if created else 200


@bp.get("/runs/<int:run_id>")
def show(run_id: int):
    with_input = request.args.getlist("input") or ["1"]
    if len(with_input) > 1 or with_input[0] not in ("0", "1", "false", "true"):
        raise errors.query_error("input", "one of 0, 1, false, true")
    run = runs.get(run_id, _settings())
    doc = serialize.run(run, progress=runs.progress(run_id, _settings()), detail=True)
    if with_input[0] in ("0", "false"):
        doc.pop("input")  # a polling client has its model already; it can be megabytes
    return jsonify(doc)


@bp.get("/runs/<int:run_id>/log")
def solver_log(run_id: int):
    runs.get_summary(run_id, _settings())  # 404 for an unknown run
    log = solver_logs.read(_settings().DATABASE_URL, run_id, limit=_settings().SOLVER_LOG_MAX_BYTES)
    return Response(log.text, mimetype="text/plain")


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


@bp.get("/workers")
@admin_required
def workers():
    with _redis_needed():
        return jsonify(items=[serialize.worker(w) for w in cluster.workers(_settings())])


@bp.get("/queues")
@admin_required
def queues():
    with _redis_needed():
        return jsonify(items=[serialize.queue(q) for q in cluster.queues(_settings())])


@contextmanager
def _redis_needed():
    try:
        yield
    except RedisError:
        raise errors.ApiError(
            503, "redis_unavailable", "Redis did not answer: workers and queues are unknown"
        ) from None


@bp.get("/openapi.json")
def openapi():
    return jsonify(document(_settings()))


def _json_body():
    """The request's JSON document; 415 if it is not JSON, 400 (with the position) if it is malformed.
    Read once per request (a batch's rate-limit cost reads it before the view)."""
    if "json_body" not in g:
        try:
            g.json_body = _read_json_body(), None
        except errors.ApiError as exc:
            g.json_body = None, exc
    doc, error = g.json_body
    if error is not None:
        raise error
    return doc


def _read_json_body():
    if not request.mimetype or request.mimetype != "application/json":
        raise errors.ApiError(415, "unsupported_media_type", "send the run as application/json")
    raw = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH (chunked bodies too)
    try:
        return jsondoc.parse(raw)
    except jsondoc.DocumentError as exc:
        raise errors.ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
