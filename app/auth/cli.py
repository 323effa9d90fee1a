"""`flask --app app users ...` and `flask --app app tokens ...`: accounts and API tokens from a shell.

flask --app app users create-admin alice        # the first admin (asks for a password)
flask --app app users create bob
flask --app app users limits bob --time-limit 600 --threads 4
flask --app app tokens create bob "laptop"       # prints the token once
flask --app app tokens revoke 3
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.auth import accounts, tokens


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(tokens_group)


def _url() -> str:
    return current_app.extensions["settings"].DATABASE_URL


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc))


@click.group("users", cls=AppGroup)
def users() -> None:
    """Accounts: create users and admins, set passwords and per-user limits."""


def _create(username: str, password: str, admin: bool) -> None:
    try:
        user = accounts.create(_url(), username, password, is_admin=admin)
    except accounts.AccountError as exc:
        _fail(exc)
    click.echo(f"{'admin' if admin else 'user'} {user.username} created (id {user.id})")


password_option = click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 10 characters (asked for when not given).",
)


@users.command("create-admin")
@click.argument("username")
@password_option
def create_admin(username: str, password: str) -> None:
    """Create an admin: sees every run, reaches /rq and the operator pages."""
    _create(username, password, True)


@users.command("create")
@click.argument("username")
@password_option
def create(username: str, password: str) -> None:
    """Create an ordinary user: sees and cancels only their own runs."""
    _create(username, password, False)


@users.command("password")
@click.argument("username")
@password_option
def password(username: str, password: str) -> None:
    """Set a user's password."""
    try:
        accounts.set_password(_url(), username, password)
    except accounts.AccountError as exc:
        _fail(exc)
    click.echo(f"password of {username} changed")


@users.command("limits")
@click.argument("username")
@click.option("--time-limit", type=click.FloatRange(min=1), help="Most seconds one run of theirs may ask for.")
@click.option("--threads", type=click.IntRange(min=1), help="Most CP-SAT threads one run of theirs may ask for.")
@click.option("--clear", is_flag=True, help="Back to the server-wide maxima.")
def limits(username: str, time_limit: float | None, threads: int | None, clear: bool) -> None:
    """Cap what one user's runs may ask for (below the server-wide SOLVER_MAX_*)."""
    fields = {"max_time_limit": None, "max_threads": None} if clear else {}
    if time_limit is not None:
        fields["max_time_limit"] = time_limit
    if threads is not None:
        fields["max_threads"] = threads
    try:
        user = accounts.update(_url(), username, **fields)
    except accounts.AccountError as exc:
        _fail(exc)
    click.echo(
        f"{user.username}: time limit ≤ {user.max_time_limit or 'server maximum'}, "
        f"threads ≤ {user.max_threads or 'server maximum'}"
    )


@users.command("set")
@click.argument("username")
@click.option("--admin/--no-admin", default=None)
@click.option("--active/--disabled", default=None, help="A disabled user cannot sign in or use tokens.")
def set_flags(username: str, admin: bool | None, active: bool | None) -> None:
    """Make a user an admin (or not), disable or re-enable them."""
    fields = {k: v for k, v in (("is_admin", admin), ("active", active)) if v is not None}
    try:
        user = accounts.update(_url(), username, **fields)
    except accounts.AccountError as exc:
        _fail(exc)
    click.echo(f"{user.username}: admin={user.is_admin} active={user.active}")


@users.command("list")
def list_users() -> None:
    """Every user with their role and limits."""
    for u in accounts.all_users(_url()):
        role = "admin" if u.is_admin else "user"
        click.echo(
            f"{u.id}\t{u.username}\t{role}\t{'active' if u.active else 'disabled'}\t"
            f"time≤{u.max_time_limit or '-'}\tthreads≤{u.max_threads or '-'}"
        )


@click.group("tokens", cls=AppGroup)
def tokens_group() -> None:
    """Personal API tokens (Authorization: Bearer)."""


@tokens_group.command("create")
@click.argument("username")
@click.argument("name", default="")
def create_token(username: str, name: str) -> None:
    """Create a token for USERNAME and print it (the only time it is shown)."""
    user = next((u for u in accounts.all_users(_url()) if u.username == username), None)
    if user is None:
        _fail(accounts.AccountError(f"no user {username}"))
    row, token = tokens.create(_url(), user.id, name)
    click.echo(token)
    click.echo(f"token {row.id} for {username}; send it as 'Authorization: Bearer <token>'", err=True)


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
def revoke_token(token_id: int) -> None:
    """Revoke a token by its id (see `tokens list`)."""
    if not tokens.revoke(_url(), token_id, None):
        _fail(click.ClickException(f"no live token {token_id}"))
    click.echo(f"token {token_id} revoked")


@tokens_group.command("list")
@click.argument("username")
def list_tokens(username: str) -> None:
    """A user's live tokens: id, prefix, name, last used."""
    user = next((u for u in accounts.all_users(_url()) if u.username == username), None)
    if user is None:
        _fail(accounts.AccountError(f"no user {username}"))
    for t in tokens.of_user(_url(), user.id):
        click.echo(f"{t.id}\t{t.prefix}…\t{t.name}\tlast used {t.last_used_at or 'never'}")
