"""Runs and problem types as JSON documents."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import url_for

from app.cluster import QueueInfo, RunRef, WorkerInfo
from app.models import ProgressPoint, Run
from app.problems import ProblemType

SUMMARY_FIELDS = (
    "id",
    "name",
    "problem_type",
    "status",
    "priority",
    "time_limit",
    "threads",
    "solver_status",
    "objective",
    "solver_objective",
    "best_bound",
    "gap",
    "maximize",
    "num_solutions",
    "wall_time",
    "error",
    "attempt",
    "worker",
    "input_format",
)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def run(r: Run, progress: list[ProgressPoint] | None = None, detail: bool = False) -> dict:
    out = {f: getattr(r, f) for f in SUMMARY_FIELDS}
    out.update(
        created_at=_iso(r.created_at),
        started_at=_iso(r.started_at),
        finished_at=_iso(r.finished_at),
        cancel_requested=r.cancel_requested_at is not None,
        terminal=r.is_terminal,
        links={"self": url_for("api.show", run_id=r.id), "cancel": url_for("api.cancel", run_id=r.id)},
    )
    if detail:
        out["stats"] = r.stats
        out["input"] = r.input
        out["result"] = r.result
        out["progress"] = [
            {"elapsed": p.elapsed, "objective": p.objective, "bound": p.bound, "attempt": p.attempt}
            for p in (progress or [])
        ]
    return out


def problem_type(p: ProblemType) -> dict:
    return {
        "name": p.name,
        "title": p.title,
        "description": p.description,
        "formats": ["json", *p.importers],
        "demos": list(p.demos),
        "rules": [{"key": r.key, "label": r.label} for r in p.rules],
        "schema": p.input_model.model_json_schema(),
    }


def run_ref(r: RunRef | None) -> dict | None:
    if r is None:
        return None
    return {
        "id": r.id,
        "name": r.name,
        "problem_type": r.problem_type,
        "priority": r.priority,
        "threads": r.threads,
        "created_at": _iso(r.created_at),
        "started_at": _iso(r.started_at),
        "worker": r.worker,
        "horse_pid": r.horse_pid,
        "links": {"self": url_for("api.show", run_id=r.id), "page": url_for("web.show", run_id=r.id)},
    }


def worker(w: WorkerInfo) -> dict:
    return {
        "name": w.name,
        "host": w.host,
        "pid": w.pid,
        "state": w.state,
        "queues": w.queues,
        "run": run_ref(w.run),
        "since": _iso(w.since),
        "threads": w.threads,
        "last_heartbeat": _iso(w.last_heartbeat),
        "heartbeat_age": w.heartbeat_age,
        "stale": w.stale,
        "jobs_done": w.jobs_done,
        "jobs_failed": w.jobs_failed,
    }


def queue(q: QueueInfo) -> dict:
    return {
        "name": q.name,
        "depth": q.depth,
        "queued_runs": q.queued_runs,
        "oldest": run_ref(q.oldest),
        "oldest_wait": q.oldest_wait,
        "running": [run_ref(r) for r in q.running],
    }
