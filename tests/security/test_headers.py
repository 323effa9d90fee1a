"""Security headers on pages, the API and /rq; cookies SameSite=Lax, and Secure behind HTTPS."""

from __future__ import annotations

import re

from app import create_app
from tests.accounts import signed_in

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def assert_hardened(resp, csp: str | None = STRICT_CSP) -> None:
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    if csp:
        assert resp.headers["Content-Security-Policy"] == csp


def test_pages_api_and_errors_carry_the_headers(client, anon_client, make_run):
    run = make_run("queued")
    for resp in (
        client.get("/"),
        client.get(f"/runs/{run.id}"),
        client.get(f"/runs/{run.id}/status"),
        client.get("/api/v1/runs"),
        client.get("/api/v1/runs/999"),
        anon_client.get("/login"),
        anon_client.get("/api/v1/runs"),
        client.get("/nowhere"),
    ):
        assert_hardened(resp)
    with client.get("/static/app.css") as static:  # a file response: closed, or pytest flags the open file
        assert_hardened(static)


def test_rq_is_framed_by_nobody(admin_client, redis):
    resp = admin_client.get("/rq/")
    assert resp.status_code == 200
    assert_hardened(resp, csp=None)  # rq-dashboard needs inline scripts; still no framing


def test_templates_have_no_inline_script_or_style(client, shift_run):
    run = shift_run()
    for html in (
        client.get("/").get_data(as_text=True),
        client.get(f"/runs/{run.id}").get_data(as_text=True),
        client.get("/account").get_data(as_text=True),
    ):
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline <script>"
        assert " style=" not in html and "<style" not in html
        assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_session_cookie_is_samesite_lax_and_httponly(anon_client, user):
    resp = anon_client.get("/login")
    cookie = resp.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Secure" not in cookie  # development, http


def test_behind_the_https_proxy_cookies_are_secure(database_url, redis_url, user):
    app = create_app(
        {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SOLVEQUEUE_ENV": "production", "SECRET_KEY": "y" * 40}
    )
    client = app.test_client()
    resp = client.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Secure" in resp.headers["Set-Cookie"] and "SameSite=Lax" in resp.headers["Set-Cookie"]
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    assert signed_in(app, user).get("/", headers={"X-Forwarded-Proto": "https"}).status_code == 200
