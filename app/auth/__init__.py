"""Accounts: session sign-in for the pages, personal API tokens (`Authorization: Bearer`) for the API,
CSRF protection for cookie sessions, and the helpers other modules guard their views with. A request
with a token is stateless: it never gets a session cookie (TokenSessionInterface).

    from app.auth import current_user, login_required, admin_required, scope

`scope()` is the owner filter of the signed-in user: their id, or None for an admin (who sees all runs).
In LOCAL_MODE (`make run` only; refused in production) every visitor is the local admin.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user, login_required
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import RequestEntityTooLarge

from app.auth import accounts, tokens
from app.auth.accounts import Account

login_manager = LoginManager()
csrf = CSRFProtect()
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

__all__ = ["Account", "admin_required", "current_user", "init_app", "login_required", "scope"]


def init_app(app: Flask) -> None:
    settings = app.extensions["settings"]
    app.session_interface = TokenSessionInterface()
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    # Checked by _check_csrf below instead of on every POST: API calls with a token are exempt.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session is
    csrf.init_app(app)
    app.before_request(_check_csrf)
    app.register_error_handler(CSRFError, _csrf_refused)
    from app.auth import admin, cli, views

    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    cli.init_app(app)
    app.jinja_env.globals.update(current_user=current_user)
    if settings.LOCAL_MODE:
        app.logger.warning("LOCAL_MODE: every visitor is signed in as the local admin")


def _url() -> str:
    return current_app.extensions["settings"].DATABASE_URL


def bearer() -> str | None:
    """The token of an `Authorization: Bearer` header, if the request has one."""
    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


class TokenSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except that a request with an API token never writes it.

    A token request is stateless: what it touched in the session (the CSRF token a page renders with
    `csrf_token()`, Flask-Login's bookkeeping, a flash) is dropped, so it gets no `Set-Cookie`, and a
    browser cookie it may carry as well stays as it was. Keyed on the header, not on how the user was
    loaded: LOCAL_MODE also signs people in through the request loader, and their browsers need the
    session for the CSRF token. (The pattern Flask-Login's docs give for keeping API requests cookie-free.)"""

    def save_session(self, app: Flask, session, response) -> None:
        if bearer() is not None:
            if session.accessed:
                response.vary.add("Cookie")  # as Flask does: a flash in a cookie could still show
            return
        super().save_session(app, session, response)


@login_manager.user_loader
def _from_session(user_id: str) -> Account | None:
    if bearer() is not None:
        return None  # a token, when sent, decides who this is (see _from_request)
    try:
        return accounts.load(_url(), int(user_id))
    except ValueError:
        return None


@login_manager.request_loader
def _from_request(req) -> Account | None:
    token = bearer()
    if token is not None:
        return tokens.authenticate(_url(), token)
    if current_app.extensions["settings"].LOCAL_MODE:
        return accounts.local_admin(_url())
    return None


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        error = "invalid_token" if bearer() is not None else "unauthorized"
        message = (
            "the API token is unknown or revoked"
            if error == "invalid_token"
            else "sign in, or send a personal API token as Authorization: Bearer <token>"
        )
        resp = jsonify(error=error, message=message)
        resp.status_code = 401
        resp.headers["WWW-Authenticate"] = 'Bearer realm="SolveQueue"' + (
            ', error="invalid_token"' if error == "invalid_token" else ""
        )
        return resp
    target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if request.headers.get("HX-Request"):
        return "", 401, {"HX-Redirect": target}
    return redirect(target)


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only admins: others get 403, visitors who are not signed in are sent to sign in."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def scope() -> int | None:
    """Whose runs the signed-in user may see: their own id, or None (all) for an admin.
    Outside a signed-in request it is -1, which matches no run."""
    if not current_user.is_authenticated:
        return -1
    return None if current_user.is_admin else current_user.id


def _check_csrf() -> None:
    """Cookie sessions must show the CSRF token on every change; token-authenticated calls cannot be
    forged by another site (a browser never adds an Authorization header on its own)."""
    if request.method not in UNSAFE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    from app.web import dashboard

    if dashboard.handles(request.path):
        return  # rq-dashboard's own JavaScript posts without our token: its guard checks the origin
    if bearer() is not None:
        return  # an invalid token gets its 401 from the view; never falls back to the cookie
    if request.path.startswith("/api/") and not current_user.is_authenticated:
        return  # no session either: the view answers 401
    try:
        csrf.protect()
    except RequestEntityTooLarge:
        # The body cannot be read, so the view cannot act on it either: it answers with the size error.
        return


def _csrf_refused(exc: CSRFError):
    if request.path.startswith("/api/"):
        return jsonify(
            error="csrf_failed",
            message=f"{exc.description} Send a CSRF token with cookie sessions, or use an API token instead.",
        ), 400
    return render_template(
        "error.html",
        code=400,
        title="Request refused",
        message="This form expired or came from another site. Go back, reload the page and try again.",
    ), 400
