"""Flask CLI commands: `flask --app app init-db`, `flask --app app reconcile`."""

from __future__ import annotations

import click
from flask import Flask, current_app

from app import db


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(reconcile_command)
    app.cli.add_command(revision_command)


@click.command("init-db")
def init_db_command() -> None:
    """Create or upgrade the database to the newest migration (safe to run on every release)."""
    settings = current_app.extensions["settings"]
    db.upgrade(settings.DATABASE_URL)
    click.echo(f"database ready: {settings.DATABASE_URL.split('@')[-1]}")


@click.command("reconcile")
def reconcile_command() -> None:
    """Re-enqueue runs whose job is missing and fail runs whose worker was lost too often."""
    from app import queueing
    from workers import maintenance

    settings = current_app.extensions["settings"]
    click.echo(maintenance.run_once(settings, queueing.connect(settings.REDIS_URL)))


@click.command("db-revision")
@click.argument("message")
def revision_command(message: str) -> None:
    """Write a new migration for what changed in app/models.py."""
    db.revision(current_app.extensions["settings"].DATABASE_URL, message)
