"""Personal API tokens, sent as `Authorization: Bearer <token>`. Only the SHA-256 of a token is stored:
tokens are 256 random bits, so a fast hash suffices (no password-style stretching needed)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

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


def authenticate(url: str, token: str) -> Account | None:
    """The account a bearer token belongs to, if the token is live and its user active."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    with db.session(url) as s:
        found = s.exec(select(ApiToken, User).join(User).where(ApiToken.token_hash == digest(token))).first()
        if found is None:
            return None
        row, user = found
        if row.revoked_at is not None or not user.active:
            return None
        now = utcnow()
        last = row.last_used_at
        if last is None or now - (last if last.tzinfo else last.replace(tzinfo=now.tzinfo)) > TOUCH_EVERY:
            row.last_used_at = now
            s.add(row)
            s.commit()
        return Account.of(user, via_token=True)
