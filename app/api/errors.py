"""API errors: one JSON shape, {"error": code, "message": ..., "errors": [{"path", "message"}]}."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from app.idempotency import KeyReused
from app.problems import InputError
from app.runs import RunFinished, RunNotFound

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors


def body(status: int, code: str, message: str, errors: list[dict] | None = None):
    payload = {"error": code, "message": message}
    if errors is not None:
        payload["errors"] = errors
    return jsonify(payload), status


def query_int(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
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
            return body(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")
        return exc

    for code in (404, 405, 413):
        app.register_error_handler(code, _api_or_default)


def register(bp: Blueprint) -> None:
    @bp.errorhandler(ApiError)
    def _api(exc: ApiError):
        return body(exc.status, exc.code, exc.message, exc.errors)

    @bp.errorhandler(InputError)
    def _input(exc: InputError):
        return body(422, "invalid_input", f"{len(exc.errors)} problem(s) with the submitted run", exc.errors)

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

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return body(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected API error")
        return body(500, "internal_error", "an unexpected error occurred; it has been logged")
