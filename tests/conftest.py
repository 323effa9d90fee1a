"""Fixtures: every test gets its own SQLite file; integration tests share one private redis-server
(flushed per test) and get a real RQ worker process. Nothing touches a developer's Redis or database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from redis import Redis

from app import create_app, db
from app.launcher import start_bundled_redis
from tests.support import start_worker, stop_process

os.environ.setdefault("PROBLEM_MODULES", "tests.problems")


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
        }
    )


@pytest.fixture
def client(app):
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
