"""Service functions about runs, shared by the JSON API and the HTML views (one code path)."""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.exceptions import RedisError
from sqlalchemy import func, insert
from sqlalchemy.orm import defer
from sqlmodel import col, select

from app import db, lifecycle, problems, queueing
from app.config import Settings
from app.models import ACTIVE, PRIORITIES, ProgressPoint, Run, RunStatus, utcnow
from app.problems import InputError

log = logging.getLogger(__name__)


class RunNotFound(LookupError):
    pass


class RunFinished(Exception):
    """The run already ended; it cannot be canceled."""


class Submission(BaseModel):
    """What a client sends to start a run: a problem (inline, as file text, or a demo) and options."""

    model_config = ConfigDict(extra="forbid")

    problem_type: str = Field(description="Registered problem type, e.g. shift_scheduling")
    name: str = Field(default="", max_length=200, description="A label for people")
    input: dict[str, Any] | str | None = Field(
        default=None, description="The problem: a JSON object, or a file's text when format is not json"
    )
    format: str = Field(default="json", description="json, or an importer's format name, e.g. benchmark_text")
    demo: str | None = Field(default=None, description="Name of a demo instance instead of input")
    time_limit: float | None = Field(default=None, gt=0, description="Seconds; default from configuration")
    priority: Literal["high", "default", "low"] = "default"
    threads: int | None = Field(default=None, ge=1, description="CP-SAT search workers")
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="CP-SAT random seed")


def parse_submission(data: Any, settings: Settings) -> tuple[Submission, dict[str, Any]]:
    """Validate a submission and its problem input; returns the input as stored (a JSON document).
    Raises InputError naming every bad field."""
    if not isinstance(data, dict):
        raise InputError([{"path": "(root)", "message": "expected a JSON object"}])
    try:
        sub = Submission.model_validate(data)
    except ValidationError as exc:
        raise InputError.from_pydantic(exc) from None
    errors = []
    try:
        problem = problems.get(sub.problem_type)
    except KeyError:
        known = ", ".join(p.name for p in problems.all_types())
        raise InputError([{"path": "problem_type", "message": f"unknown problem type; known: {known}"}]) from None
    if (sub.input is None) == (sub.demo is None):
        errors.append({"path": "input", "message": "give exactly one of input or demo"})
    elif sub.demo is not None and sub.demo not in problem.demos:
        errors.append({"path": "demo", "message": f"unknown demo; known: {', '.join(problem.demos)}"})
    if sub.time_limit is not None and sub.time_limit > settings.SOLVER_MAX_TIME_LIMIT:
        errors.append({"path": "time_limit", "message": f"at most {settings.SOLVER_MAX_TIME_LIMIT:g} seconds"})
    if sub.threads is not None and sub.threads > settings.SOLVER_MAX_THREADS:
        errors.append({"path": "threads", "message": f"at most {settings.SOLVER_MAX_THREADS}"})
    if errors:
        raise InputError(errors)
    if sub.demo is not None:
        return sub, _demo_input(sub.problem_type, sub.demo)
    try:
        inp = problem.load(sub.input, sub.format)
    except InputError as exc:
        raise InputError([{**e, "path": _under("input", e["path"])} for e in exc.errors]) from None
    check_model_size(problem, inp, settings)
    return sub, inp.model_dump(mode="json")


def check_model_size(problem: problems.ProblemType, inp: BaseModel, settings: Settings) -> None:
    """Refuse an input whose model, by the problem type's own estimate, exceeds a configured limit: it
    would exhaust a worker's memory while being built, long after the submission was accepted."""
    if problem.estimate is None:
        return
    size = problem.estimate(inp)
    errors = []
    for what, limit_name in LIMITS.items():
        limit = getattr(settings, limit_name)
        if limit and size.get(what, 0) > limit:
            errors.append(
                {
                    "path": "input",
                    "message": f"too large to solve here: its model would have about {size[what]:,} {what}; "
                    f"the limit is {limit:,} ({limit_name})",
                }
            )
    if errors:
        raise InputError(errors)


# Model-size keys a problem type's estimate may give, and the setting that limits each.
LIMITS = {"variables": "MAX_MODEL_VARIABLES", "constraints": "MAX_MODEL_CONSTRAINTS", "terms": "MAX_MODEL_TERMS"}


@lru_cache(maxsize=64)
def _demo_json(problem_type: str, demo: str) -> str:
    # Demos are seeded and deterministic: build each once per process, not on every submission.
    return json.dumps(problems.get(problem_type).demos[demo]().model_dump(mode="json"))


def _demo_input(problem_type: str, demo: str) -> dict[str, Any]:
    return json.loads(_demo_json(problem_type, demo))  # a fresh copy each time


def _under(prefix: str, path: str) -> str:
    if path == "(root)":
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


INSERT_RUN = insert(Run).returning(Run.id)


def submit(data: Any, settings: Settings) -> Run:
    """Validate, store the run (committed), then enqueue its solve. Returns the stored run."""
    sub, inp = parse_submission(data, settings)
    run = Run(
        problem_type=sub.problem_type,
        name=sub.name or (f"{sub.demo} demo" if sub.demo else f"{sub.problem_type} run"),
        priority=sub.priority,
        time_limit=sub.time_limit or settings.SOLVER_DEFAULT_TIME_LIMIT,
        threads=sub.threads or settings.SOLVER_THREADS,
        input=inp,
        input_format="demo" if sub.demo else sub.format,
        stats={"seed": sub.seed},
    )
    # Plain Core on a connection, the statement compiled once: the hot path of every submission, where
    # the ORM's unit of work and per-call statement building cost several times the insert itself.
    with db.write(settings.DATABASE_URL) as conn:
        run.id = conn.execute(INSERT_RUN, run.model_dump(exclude={"id"})).scalar_one()
    try:
        queueing.enqueue_solve(
            queueing.connect(settings.REDIS_URL),
            run.id,
            run.priority,
            run.time_limit,
            settings.JOB_TIMEOUT_GRACE,
        )
    except RedisError:
        # The row is the truth: the reconciler enqueues queued runs whose job is missing.
        log.exception("run %s stored but not enqueued; the reconciler will enqueue it", run.id)
    return run


# The big JSON columns; lists and status polls never need them.
HEAVY = (Run.input, Run.result, Run.checkpoint, Run.stats)


def get(run_id: int, settings: Settings) -> Run:
    with db.session(settings.DATABASE_URL) as s:
        run = s.get(Run, run_id)
    if run is None:
        raise RunNotFound(run_id)
    return run


def get_summary(run_id: int, settings: Settings) -> Run:
    """The run without its input, result, checkpoint and stats (cheap: for status polling).
    Reading one of those columns from the returned object raises; use get() for them."""
    with db.session(settings.DATABASE_URL) as s:
        run = s.exec(select(Run).where(Run.id == run_id).options(*(defer(c) for c in HEAVY))).first()
    if run is None:
        raise RunNotFound(run_id)
    return run


def progress(run_id: int, settings: Settings) -> list[ProgressPoint]:
    with db.session(settings.DATABASE_URL) as s:
        stmt = select(ProgressPoint).where(ProgressPoint.run_id == run_id)
        return list(s.exec(stmt.order_by(col(ProgressPoint.id))))


def page(
    settings: Settings,
    page: int = 1,
    per_page: int = 20,
    status: str | None = None,
    problem_type: str | None = None,
    before: int | None = None,
) -> tuple[list[Run], int]:
    """One page of runs, newest first, and the total count under the filters (heavy columns not loaded).

    `before` (keyset pagination: runs with a smaller id) replaces `page` for deep pages: an index seek
    instead of counting past every earlier run, so page 500 costs what page 1 does."""
    with db.session(settings.DATABASE_URL) as s:
        stmt = select(Run).options(*(defer(c) for c in HEAVY))
        count = select(func.count()).select_from(Run)
        if status:
            stmt, count = stmt.where(Run.status == status), count.where(Run.status == status)
        if problem_type:
            stmt = stmt.where(Run.problem_type == problem_type)
            count = count.where(Run.problem_type == problem_type)
        total = s.exec(count).one()
        stmt = stmt.order_by(col(Run.id).desc()).limit(per_page)
        if before is not None:
            stmt = stmt.where(col(Run.id) < before)
        else:
            stmt = stmt.offset((page - 1) * per_page)
        return list(s.exec(stmt)), int(total)


def any_active(settings: Settings) -> bool:
    """Is some run queued or running? (An index seek, where counting would read every such run.)"""
    with db.session(settings.DATABASE_URL) as s:
        stmt = select(Run.id).where(col(Run.status).in_([st.value for st in ACTIVE])).limit(1)
        return s.exec(stmt).first() is not None


def cancel(run_id: int, settings: Settings) -> Run:
    """A queued run never starts; a running one is asked to stop and keeps its best solution.

    The run row records the cancel first (it is the truth, and the worker reads it from there too);
    telling Redis is only the fast path, so a Redis outage neither loses the cancel nor fails the request.
    """
    run = get(run_id, settings)
    if run.is_terminal:
        raise RunFinished(run_id)
    with db.session(settings.DATABASE_URL) as s:
        if lifecycle.cancel_queued(s, run_id):
            _tell_redis(queueing.drop_queued_job, settings, run_id)
            return get(run_id, settings)
        # It started meanwhile (or was running): ask the worker to stop the search.
        lifecycle.transition(s, run_id, RunStatus.RUNNING, [RunStatus.RUNNING], cancel_requested_at=utcnow())
    _tell_redis(queueing.request_cancel, settings, run_id)
    run = get(run_id, settings)
    if run.is_terminal and run.status != RunStatus.CANCELED.value:
        raise RunFinished(run_id)
    return run


def _tell_redis(action, settings: Settings, run_id: int) -> None:
    try:
        action(queueing.connect(settings.REDIS_URL), run_id)
    except RedisError:
        log.warning("Redis did not answer; the cancel of run %s is recorded in the database", run_id)


__all__ = [
    "PRIORITIES",
    "RunFinished",
    "RunNotFound",
    "Submission",
    "cancel",
    "get",
    "get_summary",
    "page",
    "progress",
    "submit",
]
