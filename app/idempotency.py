"""Idempotent submits: POST /api/v1/runs (and /runs/batch) with an Idempotency-Key header.

A retry with the same key and the same body gets the run the first request created (for 24 hours);
the same key with another body is refused. The run and its key are inserted in one transaction and the
key is the table's primary key, so of several concurrent duplicates exactly one commits: the others
fail on the constraint, roll their run back and answer with the winner's run. The database is the
arbiter, so this holds across web processes and hosts (Redis is not involved).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from app import db, runs
from app.config import Settings
from app.models import IdempotencyKey, Run, utcnow
from app.problems import InputError

log = logging.getLogger(__name__)
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 200  # stored as "<owner id>:<key>" in a 255-character column
HEADER = "Idempotency-Key"


class KeyReused(Exception):
    """The key was already used, within its lifetime, for a different request body."""


def fingerprint(data: Any) -> str:
    """The body's identity: sha256 of its canonical JSON (key order and spacing do not matter)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        message = f"1 to {MAX_KEY_LENGTH} printable characters"
        raise InputError([{"path": f"headers.{HEADER}", "message": message}])
    return key


def submit(data: Any, settings: Settings, key: str, user: Any = runs.CURRENT) -> tuple[Run, bool]:
    """The run for this key: (run, True) if this call created it, (run, False) for a replay.
    Keys are the submitter's own: two users' equal keys never meet."""
    check_key(key)
    started = time.perf_counter()
    user = runs._user(user)
    key = f"{getattr(user, 'id', None) or 0}:{key}"
    digest = fingerprint(data)
    earlier = _replay(key, digest, settings)
    if earlier is not None:
        return earlier, False
    run, sub = runs.prepare(data, settings, user)
    try:
        _store(settings, [key], [run], digest)
    except IntegrityError:
        # A concurrent duplicate committed first: its transaction holds the key, ours rolled back.
        earlier = _replay(key, digest, settings)
        if earlier is None:
            raise
        log.info("Idempotency-Key %r: a concurrent duplicate committed run %s first", key, earlier.id)
        return earlier, False
    runs.enqueue([(run, sub)], settings, started)
    return run, True


def submit_many(items: Any, settings: Settings, key: str, user: Any = runs.CURRENT) -> tuple[list[Run], bool]:
    """A batch (runs.submit_many) with a key: (runs, True) if this call created them, (runs, False) for
    a replay. Each run has a key record of its own ("<owner>:<key>", a unit separator, its position),
    all inserted with the runs in one transaction."""
    check_key(key)
    started = time.perf_counter()
    user = runs._user(user)
    base = f"{getattr(user, 'id', None) or 0}:{key}"
    digest = fingerprint(items)
    count = len(items) if isinstance(items, list) else 0
    earlier = _replay_batch(base, count, digest, settings)
    if earlier is not None:
        return earlier, False
    prepared = runs.prepare_many(items, settings, user)
    batch = [run for run, _ in prepared]
    try:
        _store(settings, [_item_key(base, i) for i in range(len(batch))], batch, digest)
    except IntegrityError:
        earlier = _replay_batch(base, count, digest, settings)
        if earlier is None:
            raise
        log.info("Idempotency-Key %r: a concurrent duplicate committed its batch first", base)
        return earlier, False
    runs.enqueue(prepared, settings, started)
    return batch, True


def _store(settings: Settings, keys: list[str], batch: list[Run], digest: str) -> None:
    """Insert the runs and a key record for each (`keys[i]` for `batch[i]`) in one transaction. An
    expired key may be used again: its old record is dropped in the same transaction. IntegrityError if
    a concurrent duplicate committed one of the keys first (this transaction then rolls back)."""
    with db.write(settings.DATABASE_URL) as conn:
        expired = IdempotencyKey.created_at < utcnow() - TTL
        conn.execute(delete(IdempotencyKey).where(IdempotencyKey.key.in_(keys), expired))
        runs.insert_runs(conn, batch)
        now = utcnow()
        pairs = zip(keys, batch, strict=True)
        conn.execute(
            insert(IdempotencyKey),
            [{"key": k, "fingerprint": digest, "run_id": run.id, "created_at": now} for k, run in pairs],
        )


def _item_key(base: str, position: int) -> str:
    # A client's key is printable, so no single submission's key can equal a batch item's.
    return f"{base}\x1f{position}"


def _replay(key: str, digest: str, settings: Settings) -> Run | None:
    """The run an unexpired record of `key` points to; KeyReused if it was made for another body."""
    found = _records([key], settings).get(key)
    if found is None or _expired(found.created_at):
        return None
    if found.fingerprint != digest:
        raise KeyReused(key)
    return runs.get(found.run_id, settings, owner=None)  # the key is already the owner's own


def _replay_batch(base: str, count: int, digest: str, settings: Settings) -> list[Run] | None:
    """The runs an unexpired batch under `base` created (same body: same count); KeyReused if that
    batch had another body."""
    keys = [_item_key(base, i) for i in range(max(count, 1))]
    found = _records(keys, settings)
    first = found.get(keys[0])
    if first is None or _expired(first.created_at):
        return None
    if first.fingerprint != digest or len(found) != len(keys):
        raise KeyReused(base.split(":", 1)[1])
    return [runs.get(found[k].run_id, settings, owner=None) for k in keys]


def _records(keys: list[str], settings: Settings) -> dict:
    with db.get_engine(settings.DATABASE_URL).connect() as conn:
        rows = conn.execute(
            select(IdempotencyKey.key, IdempotencyKey.fingerprint, IdempotencyKey.run_id, IdempotencyKey.created_at)
            .where(IdempotencyKey.key.in_(keys))
        ).all()
    return {row.key: row for row in rows}


def _expired(created_at) -> bool:
    created = created_at if created_at.tzinfo else created_at.replace(tzinfo=utcnow().tzinfo)
    return utcnow() - created >= TTL


def purge(settings: Settings) -> int:
    """Forget expired keys (maintenance)."""
    with db.write(settings.DATABASE_URL) as conn:
        return conn.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - TTL)).rowcount
