"""Configuration from environment variables (12-factor). Web and workers read the same settings."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT / "instance"


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def database_url(raw: str | None = None) -> str:
    """DATABASE_URL, defaulting to a SQLite file under instance/; Heroku's postgres:// is accepted."""
    url = raw or os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'solvequeue.sqlite3'}"
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@dataclass
class Settings:
    """Every knob, with its environment variable and default (see README)."""

    DATABASE_URL: str = field(default_factory=database_url)
    REDIS_URL: str = field(default_factory=lambda: os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    SECRET_KEY: str = field(default_factory=lambda: os.environ.get("SECRET_KEY", "dev-only-change-me"))
    # Admin credentials guard /rq (rq-dashboard); no password set means /rq is closed.
    ADMIN_USER: str = field(default_factory=lambda: os.environ.get("ADMIN_USER", "admin"))
    ADMIN_PASSWORD: str = field(default_factory=lambda: os.environ.get("ADMIN_PASSWORD", ""))
    # Solver defaults: time limits in seconds, CP-SAT search workers per solve.
    SOLVER_DEFAULT_TIME_LIMIT: float = field(default_factory=lambda: _float("SOLVER_DEFAULT_TIME_LIMIT", 30))
    SOLVER_MAX_TIME_LIMIT: float = field(default_factory=lambda: _float("SOLVER_MAX_TIME_LIMIT", 3600))
    # Default: one CP-SAT worker per core (at most 8); with several RQ workers a machine, cores ÷ workers.
    SOLVER_THREADS: int = field(default_factory=lambda: _int("SOLVER_THREADS", min(8, os.cpu_count() or 1)))
    SOLVER_MAX_THREADS: int = field(default_factory=lambda: _int("SOLVER_MAX_THREADS", 16))
    # Niceness added to a solving work horse, so web requests on the same machine win the CPU.
    SOLVER_NICE: int = field(default_factory=lambda: _int("SOLVER_NICE", 10))
    # Seconds RQ waits past the time limit before its hard kill (the cooperative stop comes first).
    JOB_TIMEOUT_GRACE: int = field(default_factory=lambda: _int("JOB_TIMEOUT_GRACE", 60))
    # How often the process solving a run may die (SIGKILL, OOM, lost host) before the run is failed.
    # A clean shutdown (SIGTERM: a deploy, a restart) hands the run over and does not count.
    MAX_ATTEMPTS: int = field(default_factory=lambda: _int("MAX_ATTEMPTS", 3))
    # An attempt holds a lease on its run, refreshed every LEASE_SECONDS / 3; only a run whose lease
    # expired (its solving process is gone) is handed to another worker.
    LEASE_SECONDS: float = field(default_factory=lambda: _float("LEASE_SECONDS", 10))
    # Seconds between full reconciliations of the DB with Redis (one worker at a time), and between the
    # cheap look for runs whose lease expired (every idle worker).
    RECONCILE_INTERVAL: int = field(default_factory=lambda: _int("RECONCILE_INTERVAL", 60))
    RECOVER_INTERVAL: float = field(default_factory=lambda: _float("RECOVER_INTERVAL", 3))
    # Memory a work horse may use (MB, 0 = no limit): a model too big for it fails the run with that reason.
    WORKER_MEMORY_LIMIT_MB: int = field(default_factory=lambda: _int("WORKER_MEMORY_LIMIT_MB", 4096))
    # The largest model a submission may ask for, by the problem type's own estimate (0 = no limit).
    MAX_MODEL_VARIABLES: int = field(default_factory=lambda: _int("MAX_MODEL_VARIABLES", 2_000_000))
    MAX_MODEL_CONSTRAINTS: int = field(default_factory=lambda: _int("MAX_MODEL_CONSTRAINTS", 2_000_000))
    MAX_MODEL_TERMS: int = field(default_factory=lambda: _int("MAX_MODEL_TERMS", 10_000_000))
    MAX_CONTENT_LENGTH: int = field(default_factory=lambda: _int("MAX_CONTENT_LENGTH", 5 * 1024 * 1024))
    # Seconds between progress writes to the DB while solving (the final state is always written).
    PROGRESS_INTERVAL: float = field(default_factory=lambda: _float("PROGRESS_INTERVAL", 0.5))
    # Days a finished run is kept before maintenance purges it (0 keeps runs forever).
    RETENTION_DAYS: int = field(default_factory=lambda: _int("RETENTION_DAYS", 0))

    def as_flask(self) -> dict:
        return asdict(self)


def load(overrides: dict | None = None) -> Settings:
    """Settings from the environment, with `overrides` (tests) on top."""
    settings = Settings()
    for key, value in (overrides or {}).items():
        setattr(settings, key, database_url(value) if key == "DATABASE_URL" else value)
    return settings
