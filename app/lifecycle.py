"""Run state changes. Each is one conditional UPDATE, so a late or duplicate write (a retried job, a
cancel racing the finish) can never move a run backwards or out of a terminal state."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, case, func, insert, or_, update
from sqlmodel import Session

from app.models import ACTIVE, ProgressPoint, Run, RunStatus, utcnow

LEASE_SECONDS = 10.0
EXPIRED = "the process solving it stopped answering (its lease expired)"


def transition(s: Session, run_id: int, to: RunStatus, from_: Iterable[RunStatus], **fields: Any) -> bool:
    """Move run `run_id` to `to` if it is in one of `from_`; True if this call moved it. Commits."""
    allowed = [st.value for st in from_]
    stmt = update(Run).where(Run.id == run_id, Run.status.in_(allowed)).values(status=to.value, **fields)
    moved = s.exec(stmt).rowcount == 1  # type: ignore[call-overload]
    s.commit()
    return moved


def _start_statement():
    """queued → running, or running → running when the attempt before is gone (see `start`). Built once:
    constructing this UPDATE costs more than running it, and every run starts through it."""
    now, running = bindparam("now"), Run.status == RunStatus.RUNNING.value
    takeable = or_(
        Run.status == RunStatus.QUEUED.value,
        and_(running, or_(Run.lease_owner.is_(None), Run.lease_expires_at < now)),
    )
    died_unseen = and_(running, Run.lease_owner.is_not(None))
    return (
        update(Run)
        .where(Run.id == bindparam("run_id"), takeable)
        .values(
            status=RunStatus.RUNNING.value,
            started_at=func.coalesce(Run.started_at, now),
            attempt=Run.attempt + 1,
            worker=bindparam("worker"),
            lease_owner=bindparam("worker"),
            lease_expires_at=bindparam("expires"),
            # SET expressions see the row as it was before this UPDATE.
            lost=Run.lost + case((died_unseen, 1), else_=0),
            lost_reason=case((died_unseen, EXPIRED), else_=Run.lost_reason),
        )
        .returning(Run)
        .execution_options(synchronize_session=False)
    )


START = _start_statement()


def start(s: Session, run_id: int, worker: str, lease_seconds: float = LEASE_SECONDS) -> Run | None:
    """queued → running, or running → running when the attempt before is gone (its lease expired or
    was released); takes the lease for `worker` and counts the attempt. A lease that expired without
    being released means the process holding it died unseen: that counts as a loss.
    Returns the run as started (one UPDATE … RETURNING: no second read), None if it could not start."""
    now = utcnow()
    params = {"run_id": run_id, "now": now, "worker": worker, "expires": now + timedelta(seconds=lease_seconds)}
    run = s.execute(START, params).scalars().first()
    s.commit()
    return run


def refresh_lease(s: Session, run_id: int, owner: str, lease_seconds: float = LEASE_SECONDS) -> datetime | None | bool:
    """Extend `owner`'s lease. False if it no longer holds it (the run ended, or another attempt took
    it over: stop without writing); else the run's cancel_requested_at (None: no cancel)."""
    stmt = (
        update(Run)
        .where(Run.id == run_id, Run.lease_owner == owner, Run.status == RunStatus.RUNNING.value)
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
        .returning(Run.cancel_requested_at)
    )
    row = s.exec(stmt).first()  # type: ignore[call-overload]
    s.commit()
    return False if row is None else row[0]


def release_lease(s: Session, run_id: int, owner: str) -> bool:
    """A clean hand-over (shutdown): the next attempt may start at once, and it is not a loss."""
    stmt = (
        update(Run)
        .where(Run.id == run_id, Run.lease_owner == owner, Run.status == RunStatus.RUNNING.value)
        .values(lease_owner=None, lease_expires_at=None)
    )
    released = s.exec(stmt).rowcount == 1  # type: ignore[call-overload]
    s.commit()
    return released


def record_loss(s: Session, run_id: int, owner: str, reason: str) -> Run | None:
    """The process `owner` died solving the run (seen by its worker): count the loss, free the lease
    so the retry starts at once. Returns the run as updated, None if `owner` did not hold it."""
    stmt = (
        update(Run)
        .where(Run.id == run_id, Run.lease_owner == owner, Run.status == RunStatus.RUNNING.value)
        .values(lease_owner=None, lease_expires_at=None, lost=Run.lost + 1, lost_reason=reason[:500])
    )
    counted = s.exec(stmt).rowcount == 1  # type: ignore[call-overload]
    s.commit()
    return s.get(Run, run_id, populate_existing=True) if counted else None


def finish(
    s: Session, run_id: int, to: RunStatus, owner: str | None = None, points: list[dict] = (), **fields: Any
) -> bool:
    """running → a terminal status with its result fields and its last progress `points`, in one
    transaction; only by the lease holder if `owner` is given."""
    assert to.value in {"succeeded", "infeasible", "failed", "canceled"}
    params = {"run_id": run_id, "owner": owner, "to": to.value, "finished_at": utcnow()}
    params.update({f"v_{key}": value for key, value in fields.items()})
    stmt = _finish_statement(tuple(sorted(fields)), owner is not None)
    moved = s.connection().execute(stmt, params).rowcount == 1
    if moved:
        _insert_points(s, run_id, points)
    s.commit()
    return moved


@lru_cache(maxsize=64)
def _finish_statement(keys: tuple[str, ...], by_owner: bool):
    # Built once per set of fields (a worker stores the same few): building costs more than running it.
    where = [Run.id == bindparam("run_id"), Run.status == RunStatus.RUNNING.value]
    if by_owner:
        where.append(Run.lease_owner == bindparam("owner"))
    values = {key: bindparam(f"v_{key}", type_=Run.__table__.c[key].type) for key in keys}
    return update(Run).where(*where).values(status=bindparam("to"), finished_at=bindparam("finished_at"), **values)


def fail(s: Session, run_id: int, error: str, owner: str | None = None) -> bool:
    """Any active run → failed with `error` (used when a solve raises or its worker is lost); only by
    the lease holder if `owner` is given."""
    where = [Run.lease_owner == owner] if owner is not None else []
    stmt = (
        update(Run)
        .where(Run.id == run_id, Run.status.in_([st.value for st in ACTIVE]), *where)
        .values(status=RunStatus.FAILED.value, finished_at=utcnow(), error=error[:4000])
    )
    moved = s.exec(stmt).rowcount == 1  # type: ignore[call-overload]
    s.commit()
    return moved


def cancel_queued(s: Session, run_id: int) -> bool:
    """queued → canceled: it will never start."""
    return transition(s, run_id, RunStatus.CANCELED, [RunStatus.QUEUED], finished_at=utcnow(), error=None)


def record_progress(s: Session, run_id: int, points: list[dict], owner: str | None = None, **fields: Any) -> bool:
    """Store new progress points and the run's live figures, only while it is still running (and, if
    `owner` is given, only while that attempt holds the lease)."""
    where = [Run.lease_owner == owner] if owner is not None else []
    stmt = update(Run).where(Run.id == run_id, Run.status == RunStatus.RUNNING.value, *where).values(**fields)
    live = s.exec(stmt).rowcount == 1  # type: ignore[call-overload]
    if live:
        _insert_points(s, run_id, points)
    s.commit()
    return live


def _insert_points(s: Session, run_id: int, points: list[dict]) -> None:
    # One executemany without RETURNING: the ORM's unit of work would fetch every new id back.
    if points:
        s.connection().execute(insert(ProgressPoint), [{"run_id": run_id, **p} for p in points])
