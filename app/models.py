"""Tables: users and their API tokens; a run and its progress points. The run row is the truth about a
solve; Redis is transport."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    INFEASIBLE = "infeasible"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.INFEASIBLE, RunStatus.FAILED, RunStatus.CANCELED})
ACTIVE = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})
PRIORITIES = ("high", "default", "low")


class User(SQLModel, table=True):
    """Someone who signs in. Limits of None mean the server-wide maxima (SOLVER_MAX_*)."""

    __tablename__ = "user_account"  # "user" is a reserved word in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(default="", max_length=255)  # empty: cannot sign in with a password
    is_admin: bool = False
    active: bool = True
    max_time_limit: float | None = None
    max_threads: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A personal API token. Only its SHA-256 is stored; the token itself is shown once, at creation."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    name: str = Field(default="", max_length=100)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)  # the first characters, so people can tell their tokens apart
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class Run(SQLModel, table=True):
    # Lists filter by status or type and sort newest first: (filter, id) serves both without a sort.
    __table_args__ = (Index("ix_run_status_id", "status", "id"), Index("ix_run_problem_type_id", "problem_type", "id"))

    id: int | None = Field(default=None, primary_key=True)
    # Who submitted it: only they (and admins) see it. None: from before accounts existed (admins only).
    owner_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    problem_type: str = Field(index=True, max_length=64)
    name: str = Field(default="", max_length=200)
    # Plain strings, not native enums: portable between SQLite and Postgres, easy to migrate.
    status: str = Field(default=RunStatus.QUEUED.value, index=True, max_length=16)
    priority: str = Field(default="default", max_length=16)
    time_limit: float
    threads: int
    input: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    input_format: str = Field(default="json", max_length=32)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    solver_status: str | None = Field(default=None, max_length=32)
    objective: float | None = None  # recomputed by the problem's checker from the stored solution
    solver_objective: float | None = None  # what CP-SAT reported (may be overstated, see DESIGN)
    best_bound: float | None = None
    gap: float | None = None
    maximize: bool = False  # the objective is maximised: higher is better (set at submission)
    num_solutions: int = 0
    wall_time: float | None = None
    stats: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # The best solution so far, so a solve retried after a crash starts from it (as CP-SAT hints).
    checkpoint: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_requested_at: datetime | None = None
    error: str | None = None
    attempt: int = 0  # attempts started (progress points carry theirs)
    worker: str | None = Field(default=None, max_length=200)
    # The attempt solving the run holds a lease: its owner (the work horse, as in `worker`) and until
    # when. Another process may take the run only once the lease expired or was released (NULL owner).
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_expires_at: datetime | None = None
    # How often the process solving it died (a clean shutdown does not count), and how, last time.
    lost: int = 0
    lost_reason: str | None = Field(default=None, max_length=500)

    @property
    def job_id(self) -> str:
        return job_id_for(self.id)

    @property
    def is_terminal(self) -> bool:
        return RunStatus(self.status).terminal


class ProgressPoint(SQLModel, table=True):
    __tablename__ = "progress_point"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True, ondelete="CASCADE")
    elapsed: float  # seconds since the solve started
    objective: float | None = None
    bound: float | None = None
    attempt: int = 0


def job_id_for(run_id: int | None) -> str:
    """The RQ job id of a run: derived, so either side can find the other."""
    return f"run-{run_id}"


class IdempotencyKey(SQLModel, table=True):
    """A client's Idempotency-Key on POST /api/v1/runs: a retry with the same key and body gets the
    same run. The primary key is the arbiter between concurrent duplicates (not Redis)."""

    __tablename__ = "idempotency_key"

    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)  # sha256 of the canonical JSON body
    run_id: int = Field(foreign_key="run.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, index=True)


class SolverLogChunk(SQLModel, table=True):
    """A piece of CP-SAT's search log, appended at each progress write. `seq` counts a run's chunks;
    a gap in it means older chunks were dropped to keep the log under its bound (head and tail kept)."""

    __tablename__ = "solver_log_chunk"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True, ondelete="CASCADE")
    seq: int
    attempt: int = 0
    text: str
