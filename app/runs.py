"""Service functions about runs, shared by the JSON API and the HTML views (one code path)."""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, TypeVar

from flask import has_request_context
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError
from redis.exceptions import RedisError
from sqlalchemy import bindparam, func, insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import defer
from sqlmodel import col, select

from app import db, jsondoc, lifecycle, logs, metrics, problems, queueing
from app.config import Settings
from app.models import ACTIVE, PRIORITIES, ProgressPoint, Run, RunStatus, utcnow
from app.problems import InputError

log = logging.getLogger(__name__)


class RunNotFound(LookupError):
    pass


class RunFinished(Exception):
    """The run already ended; it cannot be canceled."""


class QueueFull(Exception):
    """Too many runs are waiting (the user's own, or everyone's): try again later (503 + Retry-After)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


class _Current:
    """Default of `owner`/`user` parameters: the signed-in user of the request, if there is one."""

    def __repr__(self) -> str:
        return "CURRENT"


CURRENT: Any = _Current()
MAX_RUN_ID = 2**31 - 1  # PostgreSQL `integer`; routes refuse larger ids before they reach the database


def _owner(owner: int | None | _Current) -> int | None:
    """The owner filter: an id, None for everyone's runs (admins, workers, the CLI)."""
    if owner is not CURRENT:
        return owner
    if has_request_context():
        from app import auth

        return auth.scope()
    return None


def _user(user: Any) -> Any:
    if user is not CURRENT:
        return user
    if has_request_context():
        from app.auth import current_user

        return current_user if current_user.is_authenticated else None
    return None


class Submission(BaseModel):
    """What a client sends to start a run: a problem (inline, as file text, or a demo) and options.
    Strict types: "30" is not a number, true is not an integer, 2.0 is not a thread count."""

    model_config = ConfigDict(extra="forbid", strict=True)

    problem_type: str = Field(description="Registered problem type, e.g. shift_scheduling", max_length=64)
    name: str = Field(default="", max_length=200, description="A label for people")
    input: dict[str, Any] | str | None = Field(
        default=None, description="The problem: a JSON object, or a file's text when format is not json"
    )
    format: str = Field(default="json", description="json, or an importer's format name, e.g. benchmark_text")
    demo: str | None = Field(default=None, description="Name of a demo instance instead of input")
    time_limit: float | None = Field(
        default=None, ge=1, allow_inf_nan=False, description="Seconds; default from configuration"
    )
    priority: Literal["high", "default", "low"] = "default"
    threads: int | None = Field(default=None, ge=1, description="CP-SAT search workers")
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="CP-SAT random seed")
    # The problem type's model-size estimate, set by parse_submission (not part of the request).
    _size: dict[str, int] = PrivateAttr(default_factory=dict)
    _maximize: bool = PrivateAttr(default=False)  # the input asks to maximise (set likewise)


@dataclass(frozen=True)
class Caps:
    """The most one submitter's run may ask for: the server's maxima, lowered by the user's own caps."""

    time_limit: float
    threads: int
    default_time_limit: float
    default_threads: int

    @classmethod
    def of(cls, settings: Settings, user: Any = None) -> Caps:
        time_cap = min(settings.SOLVER_MAX_TIME_LIMIT, getattr(user, "max_time_limit", None) or math.inf)
        thread_cap = min(settings.SOLVER_MAX_THREADS, getattr(user, "max_threads", None) or 10**6)
        return cls(time_cap, thread_cap, min(settings.SOLVER_DEFAULT_TIME_LIMIT, time_cap),
                   min(settings.SOLVER_THREADS, thread_cap))


def parse_submission(data: Any, settings: Settings, caps: Caps | None = None) -> tuple[Submission, dict[str, Any]]:
    """Validate a submission and its problem input; returns the input as stored (a JSON document).
    Raises InputError naming every bad field."""
    caps = caps or Caps.of(settings)
    if not isinstance(data, dict):
        raise InputError([{"path": "(root)", "message": "expected a JSON object"}])
    if found := jsondoc.problems(data):
        raise InputError(found)
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
    if sub.demo is not None and sub.format != "json" and sub.format not in problem.importers:
        # (with an input, loading it names an unknown format: input.format)
        known = ", ".join(["json", *problem.importers])
        errors.append({"path": "format", "message": f"unknown format {sub.format!r}; known: {known}"})
    if sub.time_limit is not None and sub.time_limit > caps.time_limit:
        errors.append({"path": "time_limit", "message": f"at most {caps.time_limit:g} seconds"})
    if sub.threads is not None and sub.threads > caps.threads:
        errors.append({"path": "threads", "message": f"at most {caps.threads}"})
    if errors:
        raise InputError(errors)
    if sub.demo is not None:
        size, sub._maximize = _demo_facts(sub.problem_type, sub.demo)
        sub._size = dict(size)
        return sub, _demo_input(sub.problem_type, sub.demo)
    try:
        inp = problem.load(sub.input, sub.format)
    except InputError as exc:
        raise InputError([{**e, "path": _under("input", e["path"])} for e in exc.errors]) from None
    sub._size, sub._maximize = check_model_size(problem, inp, settings), problem.maximizes(inp)
    return sub, inp.model_dump(mode="json")


def check_model_size(problem: problems.ProblemType, inp: BaseModel, settings: Settings) -> dict[str, int]:
    """Refuse an input whose model, by the problem type's own estimate, exceeds a configured limit: it
    would exhaust a worker's memory while being built, long after the submission was accepted.
    Returns the estimate ({} when the type gives none)."""
    if problem.estimate is None:
        return {}
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
    return size


def solves_inline(size: dict[str, int], settings: Settings) -> bool:
    """Small enough to solve in the worker process itself (see SolveWorker.execute_job)."""
    return 0 < size.get("variables", 0) <= settings.INLINE_MAX_VARIABLES


# Model-size keys a problem type's estimate may give, and the setting that limits each.
LIMITS = {"variables": "MAX_MODEL_VARIABLES", "constraints": "MAX_MODEL_CONSTRAINTS", "terms": "MAX_MODEL_TERMS"}


@lru_cache(maxsize=64)
def _demo_json(problem_type: str, demo: str) -> str:
    # Demos are seeded and deterministic: build each once per process, not on every submission.
    return json.dumps(problems.get(problem_type).demos[demo]().model_dump(mode="json"))


@lru_cache(maxsize=64)
def _demo_facts(problem_type: str, demo: str) -> tuple[tuple[tuple[str, int], ...], bool]:
    """A demo's size estimate (as items) and whether it maximises: the same for every submission."""
    problem = problems.get(problem_type)
    inp = problem.demos[demo]()
    return tuple((problem.estimate(inp) if problem.estimate else {}).items()), problem.maximizes(inp)


def _demo_input(problem_type: str, demo: str) -> dict[str, Any]:
    return json.loads(_demo_json(problem_type, demo))  # a fresh copy each time


def _under(prefix: str, path: str) -> str:
    if path == "(root)":
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


INSERT_RUN = insert(Run).returning(Run.id)


# Counted only up to the caps (LIMIT): a submission never reads more queued runs than the caps allow.
_QUEUED = select(Run.id).where(Run.status == RunStatus.QUEUED.value)
QUEUED_COUNTS = select(
    select(func.count()).select_from(_QUEUED.limit(bindparam("cap_total")).subquery()).scalar_subquery(),
    select(func.count())
    .select_from(_QUEUED.where(Run.owner_id == bindparam("owner")).limit(bindparam("cap_user")).subquery())
    .scalar_subquery(),
)


def check_capacity(settings: Settings, owner_id: int | None, count: int = 1) -> None:
    """Refuse `count` new runs if the user would have more than MAX_QUEUED_PER_USER waiting, or the
    queue more than MAX_QUEUED_TOTAL."""
    with db.get_engine(settings.DATABASE_URL).connect() as conn:
        caps = {"cap_total": settings.MAX_QUEUED_TOTAL, "cap_user": settings.MAX_QUEUED_PER_USER}
        total, mine = conn.execute(QUEUED_COUNTS, {"owner": owner_id, **caps}).one()
    wait = settings.QUEUE_FULL_RETRY_AFTER
    these = "" if count == 1 else f", and these {count} would make {mine + count}"
    if owner_id is not None and mine + count > settings.MAX_QUEUED_PER_USER:
        raise QueueFull(f"you already have {mine} runs waiting{these} (at most {settings.MAX_QUEUED_PER_USER}); "
                        "wait for some to start, or cancel some", wait)
    if total + count > settings.MAX_QUEUED_TOTAL:
        these = "" if count == 1 else f"; these {count} would make {total + count}"
        raise QueueFull(f"the queue is full ({total} runs waiting{these}); try again in a minute", wait)


def submit(data: Any, settings: Settings, user: Any = CURRENT) -> Run:
    """Validate, check the queue has room, store the run (committed), then enqueue its solve.
    `user` (default: the signed-in one) owns the run and their caps apply. Returns the stored run."""
    started = time.perf_counter()
    run, sub = prepare(data, settings, user)
    # Plain Core on a connection, the statement compiled once: the hot path of every submission, where
    # the ORM's unit of work and per-call statement building cost several times the insert itself.
    with db.write(settings.DATABASE_URL) as conn:
        insert_run(conn, run)
    enqueue([(run, sub)], settings, started)
    return run


def submit_many(items: Any, settings: Settings, user: Any = CURRENT) -> list[Run]:
    """A batch: validate every submission, check the queue has room for all, store them in one
    transaction and enqueue them in one Redis transaction. All or nothing: one bad submission refuses
    the batch (its errors' paths start with runs[i]) and stores nothing. Returns the runs in order."""
    started = time.perf_counter()
    prepared = prepare_many(items, settings, user)
    with db.write(settings.DATABASE_URL) as conn:
        insert_runs(conn, [run for run, _ in prepared])
    enqueue(prepared, settings, started)
    return [run for run, _ in prepared]


def prepare(data: Any, settings: Settings, user: Any = CURRENT) -> tuple[Run, Submission]:
    """The run row a submission becomes (validated, within the user's caps and the queue's room; not
    stored yet), and the parsed submission."""
    user = _user(user)
    caps = Caps.of(settings, user)
    sub, inp = parse_submission(data, settings, caps)
    check_capacity(settings, getattr(user, "id", None))
    return _new_run(sub, inp, caps, user), sub


def prepare_many(items: Any, settings: Settings, user: Any = CURRENT) -> list[tuple[Run, Submission]]:
    """`prepare` for a batch (a list of submissions): every item's errors at once, under runs[i]."""
    user = _user(user)
    caps = Caps.of(settings, user)
    most = settings.MAX_BATCH_RUNS
    if not isinstance(items, list) or not 1 <= len(items) <= most:
        got = f"{len(items)} items" if isinstance(items, list) else f"a JSON {_json_kind(items)}"
        raise InputError([{"path": "runs", "message": f"expected a list of 1 to {most} submissions, got {got}"}])
    parsed, errors = [], []
    for i, data in enumerate(items):
        try:
            parsed.append(parse_submission(data, settings, caps))
        except InputError as exc:
            errors += [{**e, "path": _under(f"runs[{i}]", e["path"])} for e in exc.errors]
    if errors:
        raise InputError(errors[:MAX_ERRORS])
    check_capacity(settings, getattr(user, "id", None), count=len(parsed))
    return [(_new_run(sub, inp, caps, user), sub) for sub, inp in parsed]


MAX_ERRORS = 100  # a batch of bad submissions: the first this many errors (each names its run)


def _json_kind(value: Any) -> str:
    kinds = {dict: "object", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}
    return kinds.get(type(value), "value")


def _new_run(sub: Submission, inp: dict[str, Any], caps: Caps, user: Any) -> Run:
    return Run(
        owner_id=getattr(user, "id", None),
        problem_type=sub.problem_type,
        name=sub.name or (f"{sub.demo} demo" if sub.demo else f"{sub.problem_type} run"),
        priority=sub.priority,
        time_limit=sub.time_limit or caps.default_time_limit,
        threads=sub.threads or caps.default_threads,
        input=inp,
        input_format="demo" if sub.demo else sub.format,
        maximize=sub._maximize,
        stats={"seed": sub.seed},
    )


def insert_run(conn: Connection, run: Run) -> None:
    """INSERT the run inside the caller's transaction; sets run.id."""
    run.id = conn.execute(INSERT_RUN, run.model_dump(exclude={"id"})).scalar_one()


def insert_runs(conn: Connection, batch: list[Run]) -> None:
    """INSERT several runs in one statement inside the caller's transaction; sets each run.id."""
    if len(batch) == 1:
        return insert_run(conn, batch[0])  # the single-row statement, compiled once
    ids = conn.execute(INSERT_RUNS, [run.model_dump(exclude={"id"}) for run in batch]).scalars().all()
    for run, run_id in zip(batch, ids, strict=True):
        run.id = run_id


INSERT_RUNS = insert(Run).returning(Run.id, sort_by_parameter_order=True)


def enqueue(submitted: list[tuple[Run, Submission]], settings: Settings, started: float) -> None:
    """Enqueue committed runs' solves (several: in one Redis transaction); count and log each submission
    (`started`: perf_counter at arrival). A small run is marked to solve in the worker process
    (solves_inline)."""
    solves = [
        queueing.Solve(run.id, run.priority, run.time_limit, solves_inline(sub._size, settings))
        for run, sub in submitted
    ]
    try:
        queueing.enqueue_solves(queueing.connect(settings.REDIS_URL), solves, settings.JOB_TIMEOUT_GRACE)
    except RedisError:
        # The row is the truth: the reconciler enqueues queued runs whose job is missing.
        log.exception("runs %s stored but not enqueued; the reconciler will enqueue them", [s.run_id for s in solves])
    took = time.perf_counter() - started
    metrics.SUBMIT_SECONDS.observe(took)
    for run, _ in submitted:
        metrics.RUNS_SUBMITTED.labels(run.problem_type).inc()
        logs.event(
            log,
            "submit",
            run_id=run.id,
            problem_type=run.problem_type,
            status=run.status,
            priority=run.priority,
            time_limit=run.time_limit,
            threads=run.threads,
            duration=took,
        )


RunT = TypeVar("RunT", "Run", "LiveRun")

# The big JSON columns; lists and status polls never need them.
HEAVY = (Run.input, Run.result, Run.checkpoint, Run.stats)


def _visible(run: RunT | None, run_id: int, owner: int | None) -> RunT:
    # Another user's run is "not found", exactly like a missing one: its existence is not disclosed.
    if run is None or (owner is not None and run.owner_id != owner):
        raise RunNotFound(run_id)
    return run


def get(run_id: int, settings: Settings, owner: int | None = CURRENT) -> Run:
    """The run, if `owner` (default: the signed-in user's scope; None: anyone's) may see it."""
    owner = _owner(owner)
    if not 0 < run_id <= MAX_RUN_ID:
        raise RunNotFound(run_id)
    with db.session(settings.DATABASE_URL) as s:
        run = s.get(Run, run_id)
    return _visible(run, run_id, owner)


def get_summary(run_id: int, settings: Settings, owner: int | None = CURRENT) -> Run:
    """The run without its input, result, checkpoint and stats (cheap: for status polling).
    Reading one of those columns from the returned object raises; use get() for them."""
    owner = _owner(owner)
    if not 0 < run_id <= MAX_RUN_ID:
        raise RunNotFound(run_id)
    with db.session(settings.DATABASE_URL) as s:
        run = s.exec(select(Run).where(Run.id == run_id).options(*(defer(c) for c in HEAVY))).first()
    return _visible(run, run_id, owner)


@dataclass(frozen=True, slots=True)
class LiveRun:
    """What the status card shows of a run, as a plain value: the 1 s poll reads it with one
    precompiled query on a plain connection instead of an ORM load (about a sixth of the cost)."""

    id: int
    owner_id: int | None
    status: str
    priority: str
    time_limit: float
    objective: float | None
    solver_objective: float | None
    best_bound: float | None
    gap: float | None
    maximize: bool
    num_solutions: int
    wall_time: float | None
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested_at: datetime | None

    @property
    def is_terminal(self) -> bool:
        return RunStatus(self.status).terminal


LIVE = select(*(getattr(Run, f.name) for f in fields(LiveRun))).where(Run.id == bindparam("run_id"))


def get_live(run_id: int, settings: Settings, owner: int | None = CURRENT) -> LiveRun:
    """The run's live figures (see LiveRun), if `owner` may see it: what the status poll needs."""
    owner = _owner(owner)
    if not 0 < run_id <= MAX_RUN_ID:
        raise RunNotFound(run_id)
    with db.get_engine(settings.DATABASE_URL).connect() as conn:
        row = conn.execute(LIVE, {"run_id": run_id}).first()
    run = LiveRun(*row) if row is not None else None
    return _visible(run, run_id, owner)


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
    owner: int | None = CURRENT,
) -> tuple[list[Run], int | None]:
    """One page of runs, newest first, and the total count under the filters (heavy columns not loaded).
    Only `owner`'s runs (default: the signed-in user's scope; None: everyone's).

    `before` (keyset pagination: runs with a smaller id) replaces `page` for deep pages: an index seek
    instead of skipping every earlier run, so page 500 costs what page 1 does. A keyset page does not
    count (total None): a client walking the cursor has the total from its first page."""
    owner = _owner(owner)
    with db.session(settings.DATABASE_URL) as s:
        stmt = select(Run).options(*(defer(c) for c in HEAVY))
        count = select(func.count()).select_from(Run)
        if owner is not None:
            stmt, count = stmt.where(Run.owner_id == owner), count.where(Run.owner_id == owner)
        if status:
            stmt, count = stmt.where(Run.status == status), count.where(Run.status == status)
        if problem_type:
            stmt = stmt.where(Run.problem_type == problem_type)
            count = count.where(Run.problem_type == problem_type)
        total = s.exec(count).one() if before is None else None
        stmt = stmt.order_by(col(Run.id).desc()).limit(per_page)
        if before is not None:
            stmt = stmt.where(col(Run.id) < before)
        else:
            stmt = stmt.offset((page - 1) * per_page)
        return list(s.exec(stmt)), total


def any_active(settings: Settings, owner: int | None = CURRENT) -> bool:
    """Is some run (of `owner`'s, as in page()) queued or running? (An index seek, where counting
    would read every such run.)"""
    owner = _owner(owner)
    with db.session(settings.DATABASE_URL) as s:
        stmt = select(Run.id).where(col(Run.status).in_([st.value for st in ACTIVE]))
        if owner is not None:
            stmt = stmt.where(Run.owner_id == owner)
        return s.exec(stmt.limit(1)).first() is not None


def cancel(run_id: int, settings: Settings, owner: int | None = CURRENT) -> Run:
    """A queued run never starts; a running one is asked to stop and keeps its best solution.

    The run row records the cancel first (it is the truth, and the worker reads it from there too);
    telling Redis is only the fast path, so a Redis outage neither loses the cancel nor fails the request.
    """
    owner = _owner(owner)
    run = get(run_id, settings, owner)
    if run.is_terminal:
        raise RunFinished(run_id)
    with db.session(settings.DATABASE_URL) as s:
        if lifecycle.cancel_queued(s, run_id):
            _tell_redis(queueing.drop_queued_job, settings, run_id)
            metrics.RUNS_FINISHED.labels(run.problem_type, RunStatus.CANCELED.value).inc()
            logs.event(log, "cancel", run_id=run_id, problem_type=run.problem_type, status="canceled", was="queued")
            return get(run_id, settings, owner)
        # It started meanwhile (or was running): ask the worker to stop the search.
        lifecycle.transition(s, run_id, RunStatus.RUNNING, [RunStatus.RUNNING], cancel_requested_at=utcnow())
    _tell_redis(queueing.request_cancel, settings, run_id)
    logs.event(log, "cancel", run_id=run_id, problem_type=run.problem_type, status="running", was="running")
    run = get(run_id, settings, owner)
    if run.is_terminal and run.status != RunStatus.CANCELED.value:
        raise RunFinished(run_id)
    return run


def _tell_redis(action, settings: Settings, run_id: int) -> None:
    try:
        action(queueing.connect(settings.REDIS_URL), run_id)
    except RedisError:
        log.warning("Redis did not answer; the cancel of run %s is recorded in the database", run_id)


__all__ = [
    "CURRENT",
    "PRIORITIES",
    "Caps",
    "LiveRun",
    "QueueFull",
    "RunFinished",
    "RunNotFound",
    "Submission",
    "cancel",
    "get",
    "get_live",
    "get_summary",
    "page",
    "progress",
    "submit",
]
