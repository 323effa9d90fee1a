"""Runs and progress points stored straight into a test database, in any state, without a worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app import db
from app.models import ProgressPoint, Run, utcnow


def store_run(database_url: str, status: str = "queued", problem_type: str = "knapsack", **fields: Any) -> Run:
    """A run as if a worker had got it to `status` (started / finished timestamps filled in), owned by
    alice (id 1, the user `client` is signed in as) unless `owner_id` says otherwise."""
    now = utcnow()
    values: dict[str, Any] = {"owner_id": 1, "problem_type": problem_type, "name": f"{status} run", "status": status,
                              "time_limit": 10.0, "threads": 2, "input": {"capacity": 5, "items": []}}
    if status != "queued":
        values.update(started_at=now - timedelta(seconds=4), attempt=1)
    if status not in ("queued", "running"):
        values.update(finished_at=now, wall_time=3.5, solver_status="FEASIBLE")
    values.update(fields)
    run = Run(**values)
    with db.session(database_url) as s:
        s.add(run)
        s.commit()
        s.refresh(run)
    return run


def update_run(database_url: str, run_id: int, **fields: Any) -> None:
    with db.session(database_url) as s:
        run = s.get(Run, run_id)
        for key, value in fields.items():
            setattr(run, key, value)
        s.add(run)
        s.commit()


def add_progress(database_url: str, run_id: int, points: list[tuple[float, float | None, float | None]]) -> None:
    with db.session(database_url) as s:
        s.add_all(ProgressPoint(run_id=run_id, elapsed=e, objective=o, bound=b) for e, o, b in points)
        s.commit()
