"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from app import db, models  # noqa: F401


def schema_diff(url: str) -> list:
    with db.get_engine(url).connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)


def test_upgrade_from_empty_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    db.upgrade(url)
    assert schema_diff(url) == []
    db.upgrade(url)  # running the release step again is harmless


def test_runs_solving_during_the_upgrade_keep_their_work_horse(tmp_path):
    # Work horses of the previous release do not refresh a lease: the upgrade gives them one until their
    # time limit is up, so the reconciler does not start a second attempt beside them.
    from alembic import command
    from sqlalchemy import text

    from app.models import Run

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(db._alembic(url), "0001")
    with db.get_engine(url).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO run (problem_type, name, status, priority, time_limit, threads, input, input_format,"
                " num_solutions, created_at, attempt, worker) VALUES ('knapsack', '', 'running', 'default', 600, 1,"
                " '{}', 'json', 0, '2026-12-01 00:00:00', 1, 'w1 pid 42')"
            )
        )
    db.upgrade(url)
    with db.session(url) as s:
        run = s.get(Run, 1)
    assert run.lease_owner == "w1 pid 42" and run.lease_expires_at > models.utcnow() + timedelta(seconds=600)
