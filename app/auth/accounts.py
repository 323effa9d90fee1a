"""Users: create, authenticate, change limits. Passwords are hashed with Werkzeug's scrypt."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_login import UserMixin
from sqlalchemy import bindparam
from sqlmodel import col, select
from werkzeug.security import check_password_hash, generate_password_hash

from app import db
from app.models import User

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 10
LOCAL_ADMIN = "local"  # the account `make run`'s local mode signs everyone in as
# Compared against when the user does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password of anyone")


class AccountError(ValueError):
    """A username or password that cannot be used; the message says why."""


@dataclass(frozen=True, eq=False)
class Account(UserMixin):
    """The signed-in user of one request (a plain value: never a session-bound ORM object)."""

    id: int
    username: str
    is_admin: bool
    max_time_limit: float | None = None
    max_threads: int | None = None
    via_token: bool = False  # authenticated by an API token: exempt from CSRF checks

    def get_id(self) -> str:
        return str(self.id)

    @classmethod
    def of(cls, user: User, via_token: bool = False) -> Account:
        return cls(user.id, user.username, user.is_admin, user.max_time_limit, user.max_threads, via_token)


def create(url: str, username: str, password: str | None, is_admin: bool = False) -> User:
    """A new user; `password` None makes an account that can only use API tokens (or local mode)."""
    if not USERNAME.match(username):
        raise AccountError("a username is 1-64 letters, digits or . _ @ -")
    if password is not None:
        _check_password(password)
    with db.session(url) as s:
        if s.exec(select(User).where(User.username == username)).first():
            raise AccountError(f"user {username} already exists")
        user = User(
            username=username,
            is_admin=is_admin,
            password_hash=generate_password_hash(password) if password is not None else "",
        )
        s.add(user)
        s.commit()
        s.refresh(user)
        return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters")
    if "\x00" in password:
        raise AccountError("a password cannot contain a NUL character")


def set_password(url: str, username: str, password: str) -> None:
    _check_password(password)
    with db.session(url) as s:
        user = _by_name(s, username)
        user.password_hash = generate_password_hash(password)
        s.add(user)
        s.commit()


def update(url: str, username: str, **fields: object) -> User:
    """Change a user's is_admin, active, max_time_limit or max_threads."""
    with db.session(url) as s:
        user = _by_name(s, username)
        for key, value in fields.items():
            if key not in ("is_admin", "active", "max_time_limit", "max_threads"):
                raise AccountError(f"unknown field {key}")
            setattr(user, key, value)
        s.add(user)
        s.commit()
        s.refresh(user)
        return user


def _by_name(s, username: str) -> User:
    user = s.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise AccountError(f"no user {username}")
    return user


def authenticate(url: str, username: str, password: str) -> Account | None:
    """The account if the name and password match an active user, else None."""
    if not USERNAME.match(username) or "\x00" in password:
        return None
    with db.session(url) as s:
        user = s.exec(select(User).where(User.username == username)).first()
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return Account.of(user)


# Compiled once: every page request of a signed-in user runs it (a plain connection, not an ORM session).
ACTIVE_BY_ID = select(User.id, User.username, User.is_admin, User.max_time_limit, User.max_threads).where(
    User.id == bindparam("user_id"), col(User.active).is_(True)
)


def load(url: str, user_id: int) -> Account | None:
    """The account of an active user, by id (the session's user); None if gone or disabled."""
    with db.get_engine(url).connect() as conn:
        row = conn.execute(ACTIVE_BY_ID, {"user_id": user_id}).first()
    return Account(*row) if row is not None else None


def all_users(url: str) -> list[User]:
    with db.session(url) as s:
        return list(s.exec(select(User).order_by(col(User.username))))


def local_admin(url: str) -> Account:
    """The local-mode admin, created on first use (no password: it cannot sign in from elsewhere)."""
    with db.session(url) as s:
        user = s.exec(select(User).where(User.username == LOCAL_ADMIN)).first()
    if user is None:
        try:
            user = create(url, LOCAL_ADMIN, None, is_admin=True)
        except AccountError:  # created meanwhile by another request
            return local_admin(url)
    return Account.of(user)
