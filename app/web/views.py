"""The pages. Views are thin: read the request → call a service in app.runs → render.

Every page works as a plain form POST + redirect; htmx only makes it live (polling fragments, cancel
in place). The full page and its fragment render from the same partial template.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from app import limits, runs, solver_logs
from app.auth import current_user, login_manager
from app.config import Settings
from app.models import RunStatus
from app.problems import InputError
from app.web import downloads, forms, present

bp = Blueprint("web", __name__)


@bp.before_request
def _start_clock() -> None:
    g.started = time.perf_counter()


@bp.before_request
def _signed_in():
    # Every page needs an account; each view then shows only the user's own runs (admins: all).
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.after_request
def _server_timing(response: Response) -> Response:
    # Browsers' dev tools (and bench/poll_latency.py) show how long the app itself took.
    if "started" in g:
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - g.started) * 1000:.2f}"
    return response


def _settings() -> Settings:
    return current_app.extensions["settings"]


@bp.get("/")
def index():
    listing = present.listing(_settings(), request.args.get("page", ""), request.args.get("status", ""))
    if request.htmx and request.htmx.target == "runs" and not request.htmx.history_restore_request:
        return render_template("runs/_list.html", listing=listing)
    return render_template("index.html", form=forms.SubmitForm.blank(), listing=listing)


@bp.post("/runs")
@limits.submit_limit
def create():
    try:
        form, data = forms.read(request.form, request.files)
    except RequestEntityTooLarge:
        form, data = forms.too_large(current_app.config["MAX_CONTENT_LENGTH"]), {}
    status, headers = 422, {}
    if not form.errors:
        try:
            run = runs.submit(data, _settings())
            return redirect(url_for("web.show", run_id=run.id), 303)
        except InputError as exc:
            form.fail(exc)
        except runs.QueueFull as exc:
            form.fail(InputError([{"path": "form", "message": exc.message}]))
            status, headers = 503, {"Retry-After": str(exc.retry_after)}
    listing = present.listing(_settings(), "", "")
    return render_template("index.html", form=form, listing=listing), status, headers


@bp.get("/runs/<int:run_id>")
def show(run_id: int):
    run = runs.get(run_id, _settings())
    log = solver_logs.read(_settings().DATABASE_URL, run_id, limit=_settings().SOLVER_LOG_MAX_BYTES)
    return render_template("runs/show.html", log=log, **present.status_context(run, _settings(), request.args))


@bp.get("/runs/<int:run_id>/log")
def solver_log(run_id: int):
    """The solver log written after chunk ?after=N: the open panel follows the solve with it."""
    run = runs.get_summary(run_id, _settings())  # first: once the run is finished, its log is complete
    after = max(-1, min(request.args.get("after", -1, type=int), 2**31 - 1))
    log = solver_logs.read(_settings().DATABASE_URL, run_id, after, _settings().SOLVER_LOG_MAX_BYTES)
    return render_template("runs/_log.html", run=run, log=log)


@bp.get("/runs/<int:run_id>/solver.log")
def download_log(run_id: int):
    runs.get_summary(run_id, _settings())  # 404 for an unknown run
    log = solver_logs.read(_settings().DATABASE_URL, run_id, limit=_settings().SOLVER_LOG_MAX_BYTES)
    disposition = f'attachment; filename="run-{run_id}-solver.log"'
    return Response(log.text, mimetype="text/plain", headers={"Content-Disposition": disposition})


@bp.get("/runs/<int:run_id>/status")
def status(run_id: int):
    # The 1 s poll: only the live figures, until the run is terminal and its result is shown.
    run = runs.get_live(run_id, _settings())
    if run.is_terminal:
        run = runs.get(run_id, _settings())
    return render_template("runs/_live.html", **present.status_context(run, _settings(), with_result=False))


@bp.get("/runs/<int:run_id>/result")
def result(run_id: int):
    # A finished run's solution view alone: loaded once after the poll sees the end, and per roster page.
    run = runs.get(run_id, _settings())
    return render_template("runs/_result.html", **present.status_context(run, _settings(), request.args))


@bp.post("/runs/<int:run_id>/cancel")
def cancel(run_id: int):
    try:
        run = runs.cancel(run_id, _settings())
    except runs.RunFinished:
        run = runs.get(run_id, _settings())
        flash("This run had already finished; there was nothing to cancel.", "info")
    if request.htmx:
        return render_template("runs/_live.html", **present.status_context(run, _settings(), with_result=False))
    if run.status != RunStatus.CANCELED.value and not run.is_terminal:
        flash("Stopping the solve; the best solution found so far will be kept.", "info")
    return redirect(url_for("web.show", run_id=run_id), 303)


@bp.post("/runs/<int:run_id>/again")
@limits.submit_limit
def again(run_id: int):
    run = runs.get(run_id, _settings())
    try:
        new = runs.submit(forms.again(run, request.form.get("time_limit", "")), _settings())
    except InputError as exc:
        flash("Could not solve again: " + "; ".join(e["message"] for e in exc.errors), "error")
        return redirect(url_for("web.show", run_id=run_id), 303)
    except runs.QueueFull as exc:
        flash(f"Could not solve again: {exc.message}.", "error")
        return redirect(url_for("web.show", run_id=run_id), 303)
    return redirect(url_for("web.show", run_id=new.id), 303)


@bp.get("/runs/<int:run_id>/download/<filename>")
def download(run_id: int, filename: str):
    run = runs.get(run_id, _settings())
    found = downloads.render(run, filename, _settings())
    if found is None:
        abort(404)
    body, mimetype = found
    disposition = f'attachment; filename="run-{run.id}-{filename}"'
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": disposition})
