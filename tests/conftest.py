"""Fixtures: every test gets its own SQLite file; integration tests share one private redis-server
(flushed per test) and get a real RQ worker process. Nothing touches a developer's Redis or database.

Accounts (tests/accounts.py): `client` is signed in as the ordinary user alice (session + CSRF token for
pages, her API token for /api/); `other_client` as bob, `admin_client` as the admin root, `anon_client`
as nobody. Runs stored by the factories belong to alice unless given another owner_id."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from redis import Redis

from app import create_app, db, problems
from app.launcher import start_bundled_redis
from tests.accounts import add_user, signed_in
from tests.support import start_worker, stop_process

os.environ.setdefault("PROBLEM_MODULES", "tests.problems")
# Tests (and the servers and workers they start) run as on a developer's machine: the production
# checks (a real SECRET_KEY) are tested explicitly in tests/security/test_configuration.py.
os.environ.setdefault("SOLVEQUEUE_ENV", "development")


@pytest.fixture(scope="session", autouse=True)
def prepared_problems() -> None:
    """As a worker does when it starts: ready what each problem's search needs (compiled annealing walks),
    so no test's time limit or stop deadline pays a first compilation."""
    for problem in problems.all_types():
        if problem.prepare is not None:
            problem.prepare()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    """A private redis-server (the bundled one) for the whole test session."""
    proc, url = start_bundled_redis(tmp_path_factory.mktemp("redis"))
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def redis(redis_url) -> Redis:
    conn = Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.close()


@pytest.fixture
def database_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    db.create_tables(url)
    add_user(url, "alice")  # id 1: the owner of the runs the factories store
    return url


@pytest.fixture
def app(database_url, redis_url):
    return create_app(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "TESTING": True,
            "SOLVER_THREADS": 2,
            "PROGRESS_INTERVAL": 0.25,
            "MAX_CONTENT_LENGTH": 256 * 1024,
            # Rate-limit counters live in the session's shared Redis: each app counts on its own.
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    )


@pytest.fixture
def user(database_url):
    """alice, the ordinary user `client` is signed in as."""
    from app.models import User

    with db.session(database_url) as s:
        return s.get(User, 1)


@pytest.fixture
def other_user(database_url):
    return add_user(database_url, "bob")


@pytest.fixture
def admin_user(database_url):
    return add_user(database_url, "root", is_admin=True)


@pytest.fixture
def client(app, user):
    """Signed in as alice: session cookie + CSRF token on every change, her API token on /api/ calls."""
    return signed_in(app, user)


@pytest.fixture
def other_client(app, other_user):
    return signed_in(app, other_user)


@pytest.fixture
def admin_client(app, admin_user):
    return signed_in(app, admin_user)


@pytest.fixture
def anon_client(app):
    """Nobody signed in."""
    return app.test_client()


@pytest.fixture
def settings(app):
    return app.extensions["settings"]


@pytest.fixture
def worker(database_url, redis, redis_url, tmp_path):
    """A real RQ worker process solving from this test's database."""
    proc = start_worker(database_url, redis_url, tmp_path / "worker.log", PROGRESS_INTERVAL="0.25")
    yield proc
    stop_process(proc)
    if os.environ.get("SHOW_WORKER_LOG"):
        print(Path(tmp_path / "worker.log").read_text())


@pytest.fixture
def inline_client(database_url, redis_url, redis, user):
    """Alice on an app that solves every knapsack run inline, "hard" included (a slow solve to stop)."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "TESTING": True,
            "SOLVER_THREADS": 2,
            "INLINE_MAX_VARIABLES": 10**6,
        }
    )
    return signed_in(app, user)
