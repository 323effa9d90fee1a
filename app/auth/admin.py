"""The admin's users page: every account with its role, and the per-user caps on time limit and threads
(the same as `flask --app app users limits`). Admins only."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from app.auth import accounts, admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _url() -> str:
    return current_app.extensions["settings"].DATABASE_URL


@bp.get("/users")
@admin_required
def users():
    return render_template(
        "auth/users.html", users=accounts.all_users(_url()), settings=current_app.extensions["settings"]
    )


@bp.post("/users/<username>/limits")
@admin_required
def limits(username: str):
    try:
        caps = _caps(request.form.get("max_time_limit", ""), request.form.get("max_threads", ""))
        accounts.update(_url(), username, **caps)
    except (ValueError, accounts.AccountError) as exc:
        flash(f"Not changed: {exc}", "error")
        return redirect(url_for("admin.users"), 303)
    flash(f"Limits of {username} saved.", "info")
    return redirect(url_for("admin.users"), 303)


def _caps(time_limit: str, threads: str) -> dict[str, float | int | None]:
    """Empty means the server-wide maximum; otherwise a positive number."""
    seconds = float(time_limit) if time_limit.strip() else None
    count = int(threads) if threads.strip() else None
    if (seconds is not None and not 1 <= seconds <= 10**7) or (count is not None and not 1 <= count <= 1024):
        raise ValueError("a time limit is at least 1 second, a thread count at least 1")
    return {"max_time_limit": seconds, "max_threads": count}
