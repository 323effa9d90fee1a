"""Friendly HTML error pages: bad request (400), forbidden (403), unknown run or page (404), wrong method
(405, with Allow), file too large (413), too many requests (429, with Retry-After), queue full (503).

The JSON API answers its own errors; for /api/ paths these handlers hand over to whatever handler
was registered before them (app.api.errors), so the API keeps its JSON shape.
"""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from app.runs import QueueFull, RunNotFound

PAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "Your account cannot open this page."),
    404: ("Not found", "There is no page here. The run may have been deleted, or the address mistyped."),
    405: ("Not allowed", "This address does not take that kind of request."),
    413: ("File too large", "The uploaded file is larger than this server accepts."),
    429: ("Too many requests", "You have started many runs in a short time. Wait a little and try again."),
}


def init_app(app: Flask) -> None:
    for code in PAGES:
        app.register_error_handler(code, _chain(code, app.error_handler_spec[None].get(code, {})))
    app.register_error_handler(RunNotFound, _no_run)
    app.register_error_handler(QueueFull, _queue_full)


def _no_run(exc: RunNotFound):
    return page(404, "Run not found", f"There is no run {exc.args[0]}. It may have been purged after its "
                                      "retention period, or the address mistyped.")


def _queue_full(exc: QueueFull):
    body, code = page(503, "Queue full", exc.message[:1].upper() + exc.message[1:] + ".")
    return body, code, {"Retry-After": str(exc.retry_after)}


def _chain(code: int, previous: dict):
    before = next(iter(previous.values()), None)

    def handler(exc: HTTPException):
        if request.path.startswith("/api/") and before is not None:
            return before(exc)
        if request.path.startswith(("/api/", "/rq")):
            return exc
        title, message = PAGES[code]
        headers = {k: v for k, v in exc.get_headers() if k.lower() in ("allow", "retry-after")}
        body, status = page(code, title, message)
        return body, status, headers

    return handler


def page(code: int, title: str, message: str):
    return render_template("error.html", code=code, title=title, message=message), code
