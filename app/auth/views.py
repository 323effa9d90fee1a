"""Sign in, sign out, and the account page where people create and revoke their API tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app import limits
from app.auth import accounts, tokens

bp = Blueprint("auth", __name__)


def _url() -> str:
    return current_app.extensions["settings"].DATABASE_URL


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another one."""
    parts = urlsplit(target or "")
    if not target or parts.scheme or parts.netloc or not target.startswith("/") or "\\" in target:
        return url_for("web.index")
    return target


@bp.get("/login")
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", username="", next=request.args.get("next", ""))


@bp.post("/login")
@limits.login_limit
def login_post():
    username = request.form.get("username", "").strip()
    account = accounts.authenticate(_url(), username, request.form.get("password", ""))
    if account is None:
        flash("Wrong username or password.", "error")
        return render_template("auth/login.html", username=username[:64], next=request.form.get("next", "")), 401
    login_user(account)
    return redirect(_safe_next(request.form.get("next")), 303)


@bp.post("/logout")
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), 303)


@bp.get("/account")
@login_required
def account():
    return render_template("auth/account.html", tokens=tokens.of_user(_url(), current_user.id), new_token=None)


@bp.post("/account/tokens")
@login_required
def create_token():
    row, token = tokens.create(_url(), current_user.id, request.form.get("name", "").replace("\x00", ""))
    # Shown once, on this response only: it is not stored anywhere.
    return render_template(
        "auth/account.html", tokens=tokens.of_user(_url(), current_user.id), new_token=token, new_row=row
    ), 201


@bp.post("/account/tokens/<int(max=2147483647):token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if tokens.revoke(_url(), token_id, current_user.id):
        flash("Token revoked: it no longer works.", "info")
    else:
        flash("No such token.", "error")
    return redirect(url_for("auth.account"), 303)
