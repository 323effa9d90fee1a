"""The RQ job: solve_run(run_id). It loads the run, solves it and stores an explained result.

Jobs fail loudly: any error is written to the run row, then re-raised so RQ and rq-dashboard see it.
An attempt holds a lease on its run (workers/lease.py), so at most one process solves a run at a time.
A work horse killed mid-solve is retried by RQ at the front of its queue (its worker records the loss);
one stopped by SIGTERM saves its checkpoint and hands the run over, which costs no attempt. The retry
resumes from the run's checkpoint, the best solution found so far: it is the retry's first incumbent
and its hint, so the stored result is the best of all attempts.

solve_runs(run_ids) solves a chunk of a batch's small runs one after another (app/queueing.py), each
exactly as solve_run would. A run that fails is failed on its own row and the chunk goes on.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from typing import Any

import ortools
from redis.exceptions import RedisError
from rq import get_current_job
from rq.job import Job
from sqlmodel import col, select

from app import config, db, lifecycle, problems, queueing, solver_logs
from app.models import Run, RunStatus
from workers import events, maintenance, runner
from workers.lease import Lease

log = logging.getLogger(__name__)


# Set by SIGTERM in this work horse (see SolveWorker.setup_work_horse_signals), also before the watcher runs.
SHUTDOWN = threading.Event()


class SolveFailed(RuntimeError):
    """A solve failed; the message deliberately carries no user text (see solve_run)."""


class WorkerShutdown(RuntimeError):
    """The worker was told to stop mid-solve; the run is handed over and RQ retries it elsewhere."""


def solve_run(run_id: int) -> str:
    settings = config.load()
    owner = _worker_name()
    with db.session(settings.DATABASE_URL) as s:
        run = lifecycle.start(s, run_id, worker=owner, lease_seconds=settings.LEASE_SECONDS)
        if run is None:
            run = s.get(Run, run_id)
            held = " (another attempt holds it)" if run and run.status == RunStatus.RUNNING.value else ""
            return f"skipped: run {run_id} is {run.status if run else 'missing'}{held}"
    if run.lost >= settings.MAX_ATTEMPTS:
        return _give_up(settings, run, owner)
    lease = Lease(settings, run, owner, queueing.connect(settings.REDIS_URL))
    events.start(run)
    started = time.monotonic()
    try:
        return _solve(settings, run, lease)
    except WorkerShutdown:
        lease.release()
        _keep_retry()  # a hand-over is not a failure: it must not use up RQ's retries either
        raise  # RQ's retry resumes the run from the checkpoint
    except MemoryError:
        pass  # handled below: leaving this block frees the model its traceback holds
    except Exception as exc:
        _fail(settings, run, owner, f"{type(exc).__name__}: {exc}", time.monotonic() - started)
        # RQ and rq-dashboard see the failure, but not the message: it may quote the user's input, and
        # rq-dashboard shows exc_info unescaped. The run row (escaped on its page) and this log have it.
        log.exception("run %s failed", run_id)
        raise SolveFailed(f"run {run_id} failed ({type(exc).__name__}); its page and the worker log say why") from None
    limit = settings.WORKER_MEMORY_LIMIT_MB
    error = (
        f"the model needs more memory than a work horse may use ({limit:,} MB, WORKER_MEMORY_LIMIT_MB); "
        "a smaller input, or a larger limit, is needed"
    )
    _fail(settings, run, owner, error, time.monotonic() - started)  # not retried: it would only run out again
    raise MemoryError(error)


# A chunk's runs wait for each other: once the chunk has run this long, the runs it has not started are
# handed on to jobs of their own at the front of the queue, so idle workers share them (a chunk exists to
# save a few milliseconds a run, never to keep a run waiting behind a slow one).
CHUNK_SECONDS = 0.25


def solve_runs(run_ids: list[int]) -> str:
    """A chunk: solve_run for each run in turn, handing the rest on after CHUNK_SECONDS (even while a
    run is being solved: a timer does it)."""
    settings = config.load()
    waiting, lock = list(run_ids), threading.Lock()
    said: list[str] = []

    def hand_on() -> None:
        with lock:
            rest = waiting[:]
            waiting.clear()
        if not rest:
            return
        try:
            said.append(_hand_on(settings, rest))
        except Exception:  # the database or Redis did not answer: the reconciler enqueues them
            log.exception("runs %s not handed on; the reconciler will enqueue them", rest)

    timer = threading.Timer(CHUNK_SECONDS, hand_on)
    timer.daemon = True
    timer.start()
    try:
        while True:
            with lock:
                if not waiting:
                    break
                run_id = waiting.pop(0)
            try:
                said.append(solve_run(run_id))
            except (SolveFailed, MemoryError) as exc:  # on the run's row already; the others go on
                said.append(str(exc))
    finally:  # (a shutdown raises: RQ retries the chunk, and skips the runs it has solved)
        timer.cancel()
        timer.join()  # a hand-on under way ends first
    return "; ".join(said)


def _hand_on(settings: config.Settings, run_ids: list[int]) -> str:
    """Enqueue the still-queued runs among `run_ids` as jobs of their own, at the front, in order (not
    those that have one already: a retried chunk)."""
    with db.session(settings.DATABASE_URL) as s:
        rows = s.exec(
            select(Run.id, Run.priority, Run.time_limit).where(
                col(Run.id).in_(run_ids), Run.status == RunStatus.QUEUED.value
            )
        ).all()
    redis = queueing.connect(settings.REDIS_URL)
    with redis.pipeline(transaction=False) as pipe:
        for run_id, *_ in rows:
            pipe.exists(Job.key_for(queueing.job_id_for(run_id)))
        have = pipe.execute()
    rows = [row for row, has in zip(rows, have, strict=True) if not has]
    solves = [queueing.Solve(i, p, t, inline=True) for i, p, t in sorted(rows, reverse=True)]  # LPUSH: last first
    queueing.enqueue_solves(redis, solves, settings.JOB_TIMEOUT_GRACE, at_front=True)
    return f"runs {sorted(r[0] for r in rows)} handed on"


def _fail(settings: config.Settings, run: Run, owner: str, error: str, duration: float) -> None:
    with db.session(settings.DATABASE_URL) as s:
        lifecycle.fail(s, run.id, error, owner=owner)
    events.failure(run, error, duration)
    _no_retry()


def _solve(settings: config.Settings, run: Run, lease: Lease) -> str:
    problem = problems.get(run.problem_type)
    inp = problem.validate(run.input)
    checkpoint = run.checkpoint or {}
    used = float(checkpoint.get("elapsed", 0.0))
    writer = solver_logs.Writer(settings.DATABASE_URL, run.id, run.attempt, settings.SOLVER_LOG_MAX_BYTES)
    outcome = runner.run(
        problem,
        inp,
        time_limit=max(1.0, run.time_limit - used),
        threads=run.threads,
        seed=int((run.stats or {}).get("seed", 0)),
        cancel_requested=lease.cancel_requested,
        flush=lambda live: _flush(settings, run, live, lease, writer=writer),
        interval=settings.PROGRESS_INTERVAL,
        offset=used,
        checkpoint=checkpoint.get("solution"),
        on_start=_on_sigterm_stop,
        taken_over=lambda: lease.lost,
    )
    if outcome.stop_reason == "taken over":
        return f"run {run.id}: stopped, another attempt holds it now"
    if outcome.stop_reason == "shutdown":
        _flush(settings, run, outcome.live, lease, writer=writer)  # what came since the watcher's last flush
        _flush(settings, run, None, lease, final=outcome)  # the checkpoint the next attempt resumes from
        raise WorkerShutdown(f"run {run.id} interrupted by worker shutdown; it will resume")
    return _store(settings, run, problem, inp, outcome, lease, writer)


def _on_sigterm_stop(watcher: runner.Watcher) -> None:
    # RQ's work horse runs in its own process group; a platform restart signals every process, so stop
    # the search cleanly and let the retry resume elsewhere (also if SIGTERM came before this point).
    def stop(*_: Any) -> None:
        SHUTDOWN.set()
        watcher.shutdown.set()

    signal.signal(signal.SIGTERM, stop)
    if SHUTDOWN.is_set():
        watcher.shutdown.set()


def _flush(
    settings: config.Settings,
    run: Run,
    live: runner.Live | None,
    lease: Lease,
    final: runner.Outcome | None = None,
    writer: solver_logs.Writer | None = None,
) -> None:
    """Refresh the lease when due; write buffered progress points, live figures and the checkpoint
    (one transaction, only while this attempt holds the lease), and the new part of CP-SAT's log."""
    lease.refresh()
    fields: dict[str, Any] = {}
    points: list[dict] = []
    text = ""
    if live is not None:
        with live.lock:
            points, live.points = live.points, []
            text, live.log = "".join(live.log), []
            fields = {
                "num_solutions": live.num_solutions,
                "objective": live.objective,
                "solver_objective": live.solver_objective,
                "best_bound": live.bound,
            }
            if not live.incumbent_saved:
                elapsed = points[-1]["elapsed"] if points else 0.0
                fields["checkpoint"] = {"solution": live.incumbent, "elapsed": elapsed, "objective": live.objective}
                live.incumbent_saved = True
        if writer is not None and text:
            with db.write(settings.DATABASE_URL) as conn:
                writer.append(conn, text)
        if not points and "checkpoint" not in fields:
            return
    if final is not None:
        wall = _wall(run, final)
        points.append({"elapsed": wall, "objective": final.objective, "bound": final.best_bound})
        fields = {"wall_time": wall, "best_bound": final.best_bound, "solver_objective": final.solver_objective}
        if final.solution is not None:
            fields["checkpoint"] = {"solution": final.solution, "elapsed": wall, "objective": final.objective}
    for p in points:
        p["attempt"] = run.attempt
    if points:
        fields["gap"] = _gap(points[-1]["objective"], points[-1]["bound"])
    with db.session(settings.DATABASE_URL) as s:
        lifecycle.record_progress(s, run.id, points, owner=lease.owner, **fields)
    if live is not None and points:
        events.progress(run, points[-1], fields)


def _wall(run: Run, outcome: runner.Outcome) -> float:
    """Solving time over all attempts: this one's and what the checkpoint says the earlier ones used."""
    return outcome.stats["wall_time"] + float((run.checkpoint or {}).get("elapsed", 0.0))


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(1.0, abs(objective))


def _store(
    settings: config.Settings,
    run: Run,
    problem: problems.ProblemType,
    inp: Any,
    outcome: runner.Outcome,
    lease: Lease,
    writer: solver_logs.Writer,
) -> str:
    """Check the solution independently, then store the result with its terminal status, the last
    progress points, the rest of the solver log and the final figures: one transaction (a small run
    writes nothing else after its start)."""
    live = outcome.live
    with live.lock:  # what came after the watcher's last flush
        points, live.points = live.points, []
        text, live.log = "".join(live.log), []
    wall = _wall(run, outcome)
    points.append({"elapsed": wall, "objective": outcome.objective, "bound": outcome.best_bound})
    for p in points:
        p["attempt"] = run.attempt
    stats = {
        **(run.stats or {}),
        **outcome.stats,
        "ortools_version": ortools.__version__,
        "stop_reason": outcome.stop_reason,
        "attempt": run.attempt,
    }
    fields: dict[str, Any] = {
        "solver_status": outcome.status,
        "stats": stats,
        "num_solutions": outcome.num_solutions,
        "wall_time": wall,
        "best_bound": outcome.best_bound,
        "solver_objective": outcome.solver_objective,
        "checkpoint": None,  # the result holds the best solution now
    }
    canceled = outcome.stop_reason == "canceled"
    if outcome.solution is not None:
        check = outcome.check or problem.check(inp, outcome.solution)  # the runner's, as a rule
        if not check.ok:
            raise RuntimeError("the checker rejected the solver's solution: " + "; ".join(check.violations[:5]))
        fields.update(
            objective=check.objective,
            solver_objective=outcome.solver_objective,
            best_bound=outcome.best_bound,
            gap=_gap(check.objective, outcome.best_bound),
            result={
                "solution": outcome.solution,
                "breakdown": problem.breakdown(check),
                "checked": True,
                "summary": problem.summary(inp),
            },
        )
        to = RunStatus.CANCELED if canceled else RunStatus.SUCCEEDED
    elif outcome.status == "INFEASIBLE":
        to = RunStatus.INFEASIBLE
        fields["error"] = "no solution satisfies every hard rule (proved infeasible)"
    elif canceled:
        to = RunStatus.CANCELED
    elif outcome.status == "MODEL_INVALID":
        to, fields["error"] = RunStatus.FAILED, "the solver rejected the model as invalid"
    else:
        to, fields["error"] = RunStatus.FAILED, "no solution within the time limit"
    with db.session(settings.DATABASE_URL) as s:
        if not lifecycle.finish(s, run.id, to, owner=lease.owner, points=points, commit=False, **fields):
            return f"run {run.id}: not stored, another attempt holds it now"
        if text:
            writer.append(s.connection(), text)
        s.commit()
    events.finish(run, to.value, outcome, fields)
    if lease.canceled:
        try:
            queueing.connect(settings.REDIS_URL).delete(queueing.cancel_key(run.id))
        except RedisError:  # the key expires by itself
            pass
    return f"run {run.id}: {to.value} ({outcome.status})"


def _give_up(settings: config.Settings, run: Run, owner: str) -> str:
    error = maintenance.give_up_message(run.lost, run.lost_reason)
    with db.session(settings.DATABASE_URL) as s:
        lifecycle.fail(s, run.id, error, owner=owner)
    events.failure(run, error)
    return error


def _no_retry() -> None:
    # RQ retries are for lost work horses; an error in the solve itself would only repeat. (A chunk's
    # other runs still need the retry, should the rest of the chunk be lost.)
    job = get_current_job()
    if job is not None and job.func_name == queueing.SOLVE_JOB:
        job.retries_left = 0


def _keep_retry() -> None:
    job = get_current_job()
    if job is None:
        return
    if job.retries_left is not None:
        job.retries_left += 1
    if job.meta.pop("inline", None):  # a resumed attempt is forked into a work horse of its own
        job.save_meta()


def _worker_name() -> str:
    # The work horse's pid, so an operator (or a fault-injection test) can find the process.
    return f"{os.environ.get('RQ_WORKER_ID') or socket.gethostname()} pid {os.getpid()}"
