"""Personal API tokens, sent as `Authorization: Bearer <token>`. Only the SHA-256 of a token is stored:
tokens are 256 random bits, so a fast hash suffices (no password-style stretching needed)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, timedelta

from sqlalchemy import bindparam, update
from sqlmodel import col, select

from app import db
from app.auth.accounts import Account
from app.models import ApiToken, User, utcnow

PREFIX = "sq_"
# last_used_at is written at most this often per token, so API calls do not each cost a write.
TOUCH_EVERY = timedelta(minutes=5)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(url: str, user_id: int, name: str = "") -> tuple[ApiToken, str]:
    """A new token for the user: the stored row and the token itself (shown once, never stored)."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user_id, name=name.strip()[:100], token_hash=digest(token), prefix=token[:10])
    with db.session(url) as s:
        s.add(row)
        s.commit()
        s.refresh(row)
    return row, token


def of_user(url: str, user_id: int) -> list[ApiToken]:
    """The user's tokens that still work, newest first."""
    with db.session(url) as s:
        stmt = select(ApiToken).where(ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))
        return list(s.exec(stmt.order_by(col(ApiToken.id).desc())))


def revoke(url: str, token_id: int, user_id: int | None) -> bool:
    """Revoke one token (of `user_id`; None: anyone's, for admins and the CLI). False if there was none."""
    with db.session(url) as s:
        row = s.get(ApiToken, token_id)
        if row is None or row.revoked_at is not None or (user_id is not None and row.user_id != user_id):
            return False
        row.revoked_at = utcnow()
        s.add(row)
        s.commit()
        return True


# Compiled once: every API call runs it (a plain connection, not an ORM session: the hot path).
LOOKUP = (
    select(
        ApiToken.id, ApiToken.last_used_at, User.id, User.username, User.is_admin, User.max_time_limit, User.max_threads
    )
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("digest"), col(ApiToken.revoked_at).is_(None), col(User.active).is_(True))
)


def authenticate(url: str, token: str) -> Account | None:
    """The account a bearer token belongs to, if the token is live and its user active."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    with db.get_engine(url).connect() as conn:
        row = conn.execute(LOOKUP, {"digest": digest(token)}).first()
    if row is None:
        return None
    token_id, last_used, user_id, username, is_admin, max_time_limit, max_threads = row
    now = utcnow()
    if last_used is None or now - (last_used if last_used.tzinfo else last_used.replace(tzinfo=UTC)) > TOUCH_EVERY:
        with db.write(url) as conn:
            conn.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    return Account(user_id, username, is_admin, max_time_limit, max_threads, via_token=True)
