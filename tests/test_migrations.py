"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

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
