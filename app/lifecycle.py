"""Run state changes. Each is one conditional UPDATE, so a late or duplicate write (a retried job, a
cancel racing the finish) can never move a run backwards or out of a terminal state."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from app.models import ACTIVE, ProgressPoint, Run, RunStatus, utcnow


def transition(s: Session, run_id: int, to: RunStatus, from_: Iterable[RunStatus], **fields: Any) -> bool:
    """Move run `run_id` to `to` if it is in one of `from_`; True if this call moved it. Commits."""
    allowed = [st.value for st in from_]
    stmt = update(Run).where(Run.id == run_id, Run.status.in_(allowed)).values(status=to.value, **fields)
    moved = s.exec(stmt).rowcount == 1  # type: ignore[call-overload]
    s.commit()
    return moved


def start(s: Session, run_id: int, worker: str) -> bool:
    """queued → running (or running → running when a crashed attempt is retried); counts the attempt."""
    run = s.get(Run, run_id)
    if run is None or RunStatus(run.status) not in ACTIVE:
        return False
    return transition(
        s,
        run_id,
        RunStatus.RUNNING,
        ACTIVE,
        started_at=run.started_at or utcnow(),
        attempt=Run.attempt + 1,
        worker=worker,
    )


def finish(s: Session, run_id: int, to: RunStatus, **fields: Any) -> bool:
    """running → a terminal status with its result fields."""
    assert to.value in {"succeeded", "infeasible", "failed", "canceled"}
    return transition(s, run_id, to, [RunStatus.RUNNING], finished_at=utcnow(), **fields)


def fail(s: Session, run_id: int, error: str) -> bool:
    """Any active run → failed with `error` (used when a solve raises or its worker is lost)."""
    return transition(s, run_id, RunStatus.FAILED, ACTIVE, finished_at=utcnow(), error=error[:4000])


def cancel_queued(s: Session, run_id: int) -> bool:
    """queued → canceled: it will never start."""
    return transition(s, run_id, RunStatus.CANCELED, [RunStatus.QUEUED], finished_at=utcnow(), error=None)


def record_progress(s: Session, run_id: int, points: list[dict], **fields: Any) -> bool:
    """Store new progress points and the run's live figures, only while it is still running."""
    stmt = update(Run).where(Run.id == run_id, Run.status == RunStatus.RUNNING.value).values(**fields)
    live = s.exec(stmt).rowcount == 1  # type: ignore[call-overload]
    if live:
        s.add_all(ProgressPoint(run_id=run_id, **p) for p in points)
    s.commit()
    return live
