"""Flask CLI commands: `flask --app app init-db`, `flask --app app reconcile`."""

from __future__ import annotations

import click
from flask import Flask, current_app

from app import db


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(reconcile_command)


@click.command("init-db")
def init_db_command() -> None:
    """Create the tables that do not exist yet (safe to run on every release)."""
    settings = current_app.extensions["settings"]
    db.create_tables(settings.DATABASE_URL)
    click.echo(f"database ready: {settings.DATABASE_URL.split('@')[-1]}")


@click.command("reconcile")
def reconcile_command() -> None:
    """Re-enqueue runs whose job is missing and fail runs whose worker was lost too often."""
    from workers import maintenance
    from app import queueing

    settings = current_app.extensions["settings"]
    click.echo(maintenance.run_once(settings, queueing.connect(settings.REDIS_URL)))
