"""Test accounts: every test database has the ordinary user `alice` (id 1, the owner of runs the
factories store); `bob` (a second user) and `root` (an admin) are added by the fixtures that need them.
`SignedInClient` is a Flask test client signed in as one of them, the way a browser and a script are:
a session cookie plus the CSRF token on every change, and the user's API token on /api/ calls."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from werkzeug.security import generate_password_hash

from app import db
from app.auth import tokens
from app.models import User

PASSWORD = "correct horse battery staple"
ALICE_ID = 1  # the first user of every test database


@lru_cache(maxsize=1)
def password_hash() -> str:
    return generate_password_hash(PASSWORD)  # once per session: scrypt takes a while


def add_user(database_url: str, username: str, is_admin: bool = False, **fields) -> User:
    user = User(username=username, password_hash=password_hash(), is_admin=is_admin, **fields)
    with db.session(database_url) as s:
        s.add(user)
        s.commit()
        s.refresh(user)
    return user


class SignedInClient(FlaskClient):
    """A test client signed in as `user` (see the module docstring); `csrf=False` or `token=None` turn
    either part off, and a request that brings its own Authorization header keeps it."""

    user: User | None = None
    token: str | None = None
    csrf: bool = True
    _csrf_token: str = ""

    def sign_in(self, user: User, token: str | None, csrf: bool = True) -> SignedInClient:
        self.user, self.token, self.csrf = user, token, csrf
        raw = hashlib.sha1(os.urandom(64)).hexdigest()
        with self.session_transaction() as sess:
            sess["_user_id"] = str(user.id)
            sess["_fresh"] = True
            sess["csrf_token"] = raw
        self._csrf_token = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)
        return self

    @property
    def csrf_token(self) -> str:
        return self._csrf_token

    def open(self, *args, **kwargs):
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "")
        method = (kwargs.get("method") or "GET").upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token and path.startswith("/api/") and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.csrf and self._csrf_token and method not in ("GET", "HEAD", "OPTIONS"):
            headers.setdefault("X-CSRFToken", self._csrf_token)
        return super().open(*args, headers=headers, **kwargs)


def signed_in(app, user: User, with_token: bool = True, csrf: bool = True) -> SignedInClient:
    settings = app.extensions["settings"]
    token = tokens.create(settings.DATABASE_URL, user.id, "tests")[1] if with_token else None
    app.test_client_class = SignedInClient
    try:
        client = app.test_client()
    finally:
        app.test_client_class = None
    return client.sign_in(user, token, csrf)
