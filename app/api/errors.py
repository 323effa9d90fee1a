"""API errors: one JSON shape, {"error": code, "message": ..., "errors": [{"path", "message"}]}."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from app.idempotency import KeyReused
from app.problems import InputError
from app.runs import QueueFull, RunFinished, RunNotFound

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors


def body(status: int, code: str, message: str, errors: list[dict] | None = None, headers: dict | None = None):
    payload = {"error": code, "message": message}
    if errors is not None:
        payload["errors"] = errors
    return jsonify(payload), status, headers or {}


def http_error(exc: HTTPException):
    """An HTTP error as JSON, keeping its headers (Allow on 405, Retry-After on 429, WWW-Authenticate)."""
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    if exc.code == 429:
        return body(
            429,
            "too_many_requests",
            f"rate limit exceeded ({exc.description}); retry later",
            None,
            {**headers, **_retry_after(exc)},
        )
    return body(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "", None, headers)


def _retry_after(exc: HTTPException) -> dict:
    # Flask-Limiter adds Retry-After in its after_request; this keeps it even if that does not run.
    limit = getattr(exc, "limit", None)
    window = getattr(getattr(limit, "limit", None), "get_expiry", None)
    return {"Retry-After": str(int(window()))} if callable(window) else {}


def query_int(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw) if len(raw) <= 20 else lo - 1  # int() of a huge string is slow: out of range anyway
    except ValueError:
        raise query_error(name, "an integer") from None
    if not lo <= value <= hi:
        raise query_error(name, f"between {lo} and {hi}")
    return value


def query_error(name: str, expected: str) -> ApiError:
    return ApiError(
        422,
        "invalid_query",
        f"query parameter {name} must be {expected}",
        [{"path": f"query.{name}", "message": f"must be {expected}"}],
    )


def register_app(app) -> None:
    """JSON (not HTML) for errors raised before routing reaches the blueprint: unknown /api paths, 405."""

    def _api_or_default(exc: HTTPException):
        if request.path.startswith("/api/"):
            return http_error(exc)
        return exc

    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, _api_or_default)


def register(bp: Blueprint) -> None:
    @bp.errorhandler(ApiError)
    def _api(exc: ApiError):
        return body(exc.status, exc.code, exc.message, exc.errors)

    @bp.errorhandler(InputError)
    def _input(exc: InputError):
        batch = request.endpoint == "api.create_batch"
        what = "the submitted runs (nothing was stored)" if batch else "the submitted run"
        return body(422, "invalid_input", f"{len(exc.errors)} problem(s) with {what}", exc.errors)

    @bp.errorhandler(KeyReused)
    def _key_reused(exc: KeyReused):
        message = "this Idempotency-Key was already used with a different request body"
        return body(422, "idempotency_key_reused", message, [{"path": "headers.Idempotency-Key", "message": message}])

    @bp.errorhandler(RunNotFound)
    def _not_found(exc: RunNotFound):
        return body(404, "not_found", f"no run {exc.args[0]}")

    @bp.errorhandler(RunFinished)
    def _finished(exc: RunFinished):
        return body(409, "run_finished", f"run {exc.args[0]} has already finished; there is nothing to cancel")

    @bp.errorhandler(QueueFull)
    def _queue_full(exc: QueueFull):
        return body(503, "queue_full", exc.message, None, {"Retry-After": str(exc.retry_after)})

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return http_error(exc)

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected API error")
        return body(500, "internal_error", "an unexpected error occurred; it has been logged")
