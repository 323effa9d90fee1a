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


def _env_name() -> str:
    """SOLVEQUEUE_ENV: "production" unless said otherwise — an app that is not told it runs on a developer's
    machine behaves as if it faced a network (refuses the default secret, no local sign-in)."""
    return os.environ.get("SOLVEQUEUE_ENV", "production").strip().lower() or "production"


def _flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in ("1", "true", "yes", "on")


DEFAULT_SECRET = "dev-only-change-me"


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
    SECRET_KEY: str = field(default_factory=lambda: os.environ.get("SECRET_KEY", DEFAULT_SECRET))
    # "production" (the default) or "development"; production refuses the default SECRET_KEY and LOCAL_MODE.
    SOLVEQUEUE_ENV: str = field(default_factory=_env_name)
    # `make run` only: every visitor is signed in as the local admin, without a password.
    LOCAL_MODE: bool = field(default_factory=lambda: _flag("LOCAL_MODE"))
    # Proxies in front of the app whose X-Forwarded-For/-Proto are trusted (Heroku's router: 1).
    TRUSTED_PROXIES: int = field(
        default_factory=lambda: _int("TRUSTED_PROXIES", 1 if _env_name() == "production" else 0)
    )
    # Per-user submissions (POST /runs, /api/v1/runs, "solve again"), in Flask-Limiter's notation.
    RATE_LIMIT_SUBMIT: str = field(
        default_factory=lambda: os.environ.get("RATE_LIMIT_SUBMIT", "30 per minute; 300 per hour")
    )
    # Sign-in attempts per client address.
    RATE_LIMIT_LOGIN: str = field(default_factory=lambda: os.environ.get("RATE_LIMIT_LOGIN", "10 per minute"))
    # Queued runs: at most this many per user, and in total; past either, submissions get a 503.
    MAX_QUEUED_PER_USER: int = field(default_factory=lambda: _int("MAX_QUEUED_PER_USER", 20))
    MAX_QUEUED_TOTAL: int = field(default_factory=lambda: _int("MAX_QUEUED_TOTAL", 500))
    # Runs one batch submission (POST /api/v1/runs/batch) may carry; each counts against the limits above.
    MAX_BATCH_RUNS: int = field(default_factory=lambda: _int("MAX_BATCH_RUNS", 100))
    # Seconds a client is told to wait (Retry-After) when the queue is full.
    QUEUE_FULL_RETRY_AFTER: int = field(default_factory=lambda: _int("QUEUE_FULL_RETRY_AFTER", 60))
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
    # Runs whose model is estimated at most this many variables are solved in the worker process itself
    # (no fork: ~10x the throughput of tiny runs); 0, or INLINE_RUNS=0, forks a work horse for every run.
    INLINE_MAX_VARIABLES: int = field(default_factory=lambda: _int("INLINE_MAX_VARIABLES", 1000))
    INLINE_RUNS: bool = field(default_factory=lambda: os.environ.get("INLINE_RUNS", "1") not in ("0", "false", ""))
    MAX_MODEL_VARIABLES: int = field(default_factory=lambda: _int("MAX_MODEL_VARIABLES", 2_000_000))
    MAX_MODEL_CONSTRAINTS: int = field(default_factory=lambda: _int("MAX_MODEL_CONSTRAINTS", 2_000_000))
    MAX_MODEL_TERMS: int = field(default_factory=lambda: _int("MAX_MODEL_TERMS", 10_000_000))
    MAX_CONTENT_LENGTH: int = field(default_factory=lambda: _int("MAX_CONTENT_LENGTH", 5 * 1024 * 1024))
    # Seconds between progress writes to the DB while solving (the final state is always written).
    PROGRESS_INTERVAL: float = field(default_factory=lambda: _float("PROGRESS_INTERVAL", 0.5))
    # Bytes of CP-SAT's search log kept per run (its start and its newest output; the middle is dropped).
    SOLVER_LOG_MAX_BYTES: int = field(default_factory=lambda: _int("SOLVER_LOG_MAX_BYTES", 512 * 1024))
    # Days a finished run is kept before maintenance purges it (0 keeps runs forever).
    RETENTION_DAYS: int = field(default_factory=lambda: _int("RETENTION_DAYS", 0))
    # Largest CP-SAT model a `cpsat_model` submission may carry (checked before anything is stored).
    CPSAT_MAX_VARIABLES: int = field(default_factory=lambda: _int("CPSAT_MAX_VARIABLES", 100_000))
    CPSAT_MAX_CONSTRAINTS: int = field(default_factory=lambda: _int("CPSAT_MAX_CONSTRAINTS", 200_000))
    CPSAT_MAX_MODEL_BYTES: int = field(default_factory=lambda: _int("CPSAT_MAX_MODEL_BYTES", 3_000_000))

    @property
    def production(self) -> bool:
        return self.SOLVEQUEUE_ENV != "development"

    def as_flask(self) -> dict:
        return asdict(self)


def current() -> Settings:
    """The running app's settings inside a request (tests override them there), else the environment's."""
    from flask import current_app, has_app_context

    if has_app_context() and "settings" in current_app.extensions:
        return current_app.extensions["settings"]
    return load()


class UnsafeConfiguration(RuntimeError):
    """The settings would expose the app on a network: it refuses to start."""


def check(settings: Settings) -> None:
    """Refuse to start in production with the default or no SECRET_KEY, or with LOCAL_MODE on."""
    if not settings.production:
        return
    if not settings.SECRET_KEY or settings.SECRET_KEY == DEFAULT_SECRET or len(settings.SECRET_KEY) < 16:
        raise UnsafeConfiguration(
            "SECRET_KEY is unset, the default, or shorter than 16 characters: set a long random one "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))'), or SOLVEQUEUE_ENV=development "
            "on a developer's machine"
        )
    if settings.LOCAL_MODE:
        raise UnsafeConfiguration("LOCAL_MODE signs everyone in as an admin: never in production")


def load(overrides: dict | None = None) -> Settings:
    """Settings from the environment, with `overrides` (tests) on top."""
    settings = Settings()
    for key, value in (overrides or {}).items():
        setattr(settings, key, database_url(value) if key == "DATABASE_URL" else value)
    return settings
