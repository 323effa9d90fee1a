"""Rate limits (Flask-Limiter, counted in Redis): submissions per user, sign-in attempts per address.
A limited request gets 429 with Retry-After. The queue caps (503) are the service's: app.runs.QueueFull.

Each limit is read from the settings at request time (RATE_LIMIT_SUBMIT, RATE_LIMIT_LOGIN), so tests
and deployments change them without code. If Redis does not answer, requests pass (errors swallowed):
the limits protect the service, they must not take it down.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

limiter = Limiter(key_func=get_remote_address)


def init_app(app: Flask) -> None:
    settings = app.extensions["settings"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.REDIS_URL)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "solvequeue")
    limiter.init_app(app)


def user_key() -> str:
    """Per signed-in user (whichever way they signed in); per address for anyone else."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"addr:{get_remote_address()}"


def _setting(name: str):
    return lambda: getattr(current_app.extensions["settings"], name)


# One shared budget for every way of starting a run (API, form, "solve again").
submit_limit = limiter.shared_limit(_setting("RATE_LIMIT_SUBMIT"), scope="submit", key_func=user_key)


def submit_limit_of(cost):
    """The same shared budget, charged `cost()` submissions per request (a batch: one per run)."""
    return limiter.shared_limit(_setting("RATE_LIMIT_SUBMIT"), scope="submit", key_func=user_key, cost=cost)


login_limit = limiter.shared_limit(_setting("RATE_LIMIT_LOGIN"), scope="login", key_func=get_remote_address)
