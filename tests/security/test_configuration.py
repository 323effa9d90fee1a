"""Configuration: production refuses the default secret and local mode; `make run`'s local mode signs
the developer in as the local admin."""

from __future__ import annotations

import pytest

from app import create_app
from app.config import UnsafeConfiguration
from app.launcher import local_settings

LONG_SECRET = "x" * 40


@pytest.mark.parametrize("secret", ["dev-only-change-me", "", "short"])
def test_production_refuses_to_start_with_the_default_or_no_secret(database_url, secret):
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        create_app({"DATABASE_URL": database_url, "SOLVEQUEUE_ENV": "production", "SECRET_KEY": secret})


def test_production_is_the_default(monkeypatch, database_url):
    monkeypatch.delenv("SOLVEQUEUE_ENV")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(UnsafeConfiguration):
        create_app({"DATABASE_URL": database_url})


def test_production_refuses_local_mode(database_url):
    with pytest.raises(UnsafeConfiguration, match="LOCAL_MODE"):
        create_app(
            {
                "DATABASE_URL": database_url,
                "SOLVEQUEUE_ENV": "production",
                "SECRET_KEY": LONG_SECRET,
                "LOCAL_MODE": True,
            }
        )


def test_production_starts_with_a_real_secret(database_url, redis_url):
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SOLVEQUEUE_ENV": "production",
            "SECRET_KEY": LONG_SECRET,
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_local_mode_signs_in_as_the_local_admin(database_url, redis_url, redis):
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "LOCAL_MODE": True})
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200 and "local" in page.get_data(as_text=True)
    assert client.get("/rq/").status_code == 200  # the local admin
    assert client.get("/api/v1/runs").status_code == 200


def test_make_run_uses_local_mode_in_development(monkeypatch):
    monkeypatch.delenv("SOLVEQUEUE_ENV")
    monkeypatch.delenv("LOCAL_MODE", raising=False)
    assert local_settings() == {"SOLVEQUEUE_ENV": "development", "LOCAL_MODE": "1"}
