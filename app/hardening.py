"""What a network-facing app needs besides accounts: security headers on every response, cookie flags,
the proxy in front (Heroku's router) trusted for scheme and address, and a size limit that also holds
for chunked request bodies.

CSP: scripts and styles only from this site — no inline script or style (htmx is configured by a
<meta> tag and sends the CSRF token from hx-headers). rq-dashboard at /rq is not ours: its pages use
inline scripts and underscore templates (eval), so /rq gets a policy that allows those, and only admins
reach it; everything else stays as strict there (no framing, no foreign connections, forms post home).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import Settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
CSP_DASHBOARD = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def init_app(app: Flask, settings: Settings) -> None:
    app.config.update(
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.production,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.production,
        REMEMBER_COOKIE_HTTPONLY=True,
        PREFERRED_URL_SCHEME="https" if settings.production else "http",
    )
    app.after_request(_security_headers)
    app.wsgi_app = BodyLimit(app.wsgi_app, settings.MAX_CONTENT_LENGTH)  # type: ignore[method-assign]
    if settings.TRUSTED_PROXIES:
        # Outermost: the scheme (→ Secure cookies, https URLs) and client address come from the proxy.
        hops = settings.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _security_headers(response: Response) -> Response:
    dashboard = request.path == "/rq" or request.path.startswith("/rq/")
    response.headers.setdefault("Content-Security-Policy", CSP_DASHBOARD if dashboard else CSP)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


class BodyLimit:
    """413 for a chunked body (no Content-Length) longer than MAX_CONTENT_LENGTH, before any view reads
    it; shorter ones are buffered and handed on with a Content-Length, so nothing can arrive truncated."""

    def __init__(self, wsgi_app: Callable, limit: int):
        self.wsgi_app, self.limit = wsgi_app, limit

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            body = _read_at_most(environ["wsgi.input"], self.limit + 1)
            if len(body) > self.limit:
                return _too_large(environ, start_response, self.limit)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)


def _read_at_most(stream, n: int) -> bytes:
    parts, size = [], 0
    while size < n:
        chunk = stream.read(min(65536, n - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def _too_large(environ: dict, start_response: Callable, limit: int) -> list[bytes]:
    message = f"the request body is larger than {limit} bytes, the most this server accepts"
    if environ.get("PATH_INFO", "").startswith("/api/"):
        body, kind = json.dumps({"error": "request_entity_too_large", "message": message}).encode(), "application/json"
    else:
        body, kind = (message + "\n").encode(), "text/plain; charset=utf-8"
    headers = [
        ("Content-Type", kind),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
        *((k, v) for k, v in HEADERS.items()),
        ("Content-Security-Policy", CSP),
    ]
    start_response("413 Content Too Large", headers)
    return [body]
