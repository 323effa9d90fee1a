"""Browser tests: the real app served by gunicorn on a free port (this test's database, the session's
Redis), a real RQ worker, and the system Chromium driven by Playwright (never `playwright install`).
`page` is already signed in as alice; `anon_page` is not (to test signing in itself)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis import Redis

from app.launcher import free_port
from tests.accounts import PASSWORD
from tests.support import ROOT, stop_process, wait_for, worker_env

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"


def _answers(url: str) -> bool:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@contextmanager
def serve(database_url: str, redis_url: str, tmp_path: Path, **env: str) -> Iterator[str]:
    """gunicorn (the Procfile's settings, fewer workers) serving the app on 127.0.0.1:<free port>."""
    port = free_port()
    log = open(tmp_path / "web.log", "ab")  # noqa: SIM115  (closed by stop_process)
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--threads",
        "8",
        "--no-control-socket",
        "app:create_app()",
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=worker_env(database_url, redis_url, SOLVER_THREADS="2", **env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.log = log  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: proc.poll() is not None or _answers(url), 30, what="gunicorn to answer")
        assert proc.poll() is None, (tmp_path / "web.log").read_text()
        yield url
    finally:
        stop_process(proc)


@pytest.fixture
def live_server(database_url, redis: Redis, redis_url, tmp_path) -> Iterator[str]:
    with serve(database_url, redis_url, tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}; .ci/run installs it")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_in(page, username: str = "alice", password: str = PASSWORD) -> None:
    """Through the sign-in form, as a person would; lands on the runs page."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def anon_page(chromium, live_server):
    """A browser tab on the live app, not signed in."""
    context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def page(anon_page):
    """A browser tab on the live app, signed in as alice (the owner of the runs the factories store)."""
    sign_in(anon_page)
    return anon_page


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (gitignored; CI keeps it)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
