"""Database engine and sessions. One engine per process and URL: a forked worker must not reuse its
parent's pooled connections, so the engine is keyed by pid."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

_engines: dict[tuple[str, int], Engine] = {}


def get_engine(url: str) -> Engine:
    key = (url, os.getpid())
    if key not in _engines:
        _engines[key] = _create(url)
    return _engines[key]


def _create(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets the web read while a worker writes; busy_timeout waits instead of "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


_write_locks: dict[str, threading.Lock] = {}


@contextmanager
def write(url: str) -> Iterator[Connection]:
    """A short write transaction on a plain connection.

    On SQLite, threads of one process take turns through a lock first: SQLite's busy handler waits for
    a locked database by sleeping (1, 2, 5, 10 … 100 ms), so many threads contending for the one write
    lock make a long latency tail, while a Python lock hands over the moment it is released.
    """
    lock = _write_locks.setdefault(url, threading.Lock()) if url.startswith("sqlite") else nullcontext()
    with lock, get_engine(url).begin() as conn:
        yield conn


@contextmanager
def session(url: str) -> Iterator[Session]:
    with Session(get_engine(url), expire_on_commit=False) as s:
        yield s


def create_tables(url: str) -> None:
    """Create missing tables straight from the models (tests, benches: fast, no migration history)."""
    from app import models  # noqa: F401  (registers the tables)

    SQLModel.metadata.create_all(get_engine(url))


def _alembic(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Create or upgrade the database schema to the newest migration (the Procfile's release step)."""
    from alembic import command

    command.upgrade(_alembic(url), "head")


def revision(url: str, message: str) -> None:
    """Autogenerate a migration from the difference between the models and the database at `url`."""
    from alembic import command

    command.revision(_alembic(url), message=message, autogenerate=True)
