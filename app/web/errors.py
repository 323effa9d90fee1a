"""Friendly HTML error pages: an unknown run or page (404), a file too large (413).

The JSON API answers its own errors; for /api/ paths these handlers hand over to whatever handler
was registered before them (app.api.errors), so the API keeps its JSON shape.
"""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from app.runs import RunNotFound

PAGES = {
    404: ("Not found", "There is no page here. The run may have been deleted, or the address mistyped."),
    405: ("Not allowed", "This address does not take that kind of request."),
    413: ("File too large", "The uploaded file is larger than this server accepts."),
}


def init_app(app: Flask) -> None:
    for code in PAGES:
        app.register_error_handler(code, _chain(code, app.error_handler_spec[None].get(code, {})))
    app.register_error_handler(RunNotFound, _no_run)


def _no_run(exc: RunNotFound):
    return page(404, "Run not found", f"There is no run {exc.args[0]}. It may have been purged after its "
                                      "retention period, or the address mistyped.")


def _chain(code: int, previous: dict):
    before = next(iter(previous.values()), None)

    def handler(exc: HTTPException):
        if request.path.startswith("/api/") and before is not None:
            return before(exc)
        if request.path.startswith(("/api/", "/rq")):
            return exc
        title, message = PAGES[code]
        return page(code, title, message)

    return handler


def page(code: int, title: str, message: str):
    return render_template("error.html", code=code, title=title, message=message), code
