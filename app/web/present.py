"""What the run pages show, computed from a run row: live figures, the chart, the outcome in words.

Kept out of the templates so they stay declarative, and out of the views so those stay thin.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup
from redis.exceptions import RedisError
from sqlalchemy import bindparam, select

from app import db, queueing, runs
from app.config import Settings
from app.models import ProgressPoint, Run, RunStatus
from app.web import charts, downloads, results
from app.web.formatting import aware, duration, num, pct

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Live:
    """The status card of a run: everything the 1 s poll re-renders, and nothing more."""

    run: Run | runs.LiveRun
    elapsed: float | None  # seconds solving so far (or in total, once finished)
    fraction: float  # elapsed / time limit, 0..1, for the progress bar
    queue_position: int | None
    chart: Markup
    stopping: bool  # cancel requested, solver not stopped yet

    @property
    def terminal(self) -> bool:
        return self.run.is_terminal


@dataclass(frozen=True)
class Outcome:
    tone: str  # good | warn | bad | muted: the colour of the outcome panel
    title: str
    text: str


def elapsed(run: Run | runs.LiveRun, now: datetime | None = None) -> float | None:
    if run.wall_time is not None and run.is_terminal:
        return run.wall_time
    started = aware(run.started_at)
    if started is None:
        return None
    end = aware(run.finished_at) if run.is_terminal else None
    return ((end or now or datetime.now(UTC)) - started).total_seconds()


def live(run: Run | runs.LiveRun, settings: Settings) -> Live:
    spent = elapsed(run)
    x_end = spent if spent is not None else 0.0
    return Live(
        run=run,
        elapsed=spent,
        fraction=min(1.0, (spent or 0.0) / run.time_limit) if run.time_limit else 0.0,
        queue_position=_queue_position(run, settings) if run.status == RunStatus.QUEUED.value else None,
        chart=progress_chart(run.id, settings).svg(x_end, chart_id=f"chart-{run.id}"),
        stopping=run.cancel_requested_at is not None and not run.is_terminal,
    )


SERIES = (select(ProgressPoint.id, ProgressPoint.elapsed, ProgressPoint.objective, ProgressPoint.bound)
          .where(ProgressPoint.run_id == bindparam("run_id"), ProgressPoint.id > bindparam("after"))
          .order_by(ProgressPoint.id))
_charts: OrderedDict[tuple[str, int], tuple[int, charts.ProgressChart]] = OrderedDict()
_charts_lock = threading.Lock()
CHARTS_CACHED_RUNS = 256
NO_POINTS = charts.ProgressChart([])


def progress_chart(run_id: int, settings: Settings) -> charts.ProgressChart:
    """The run's chart, from all its progress points, for the status card redrawn on every 1 s poll.

    Points are only ever appended, so each process keeps the chart of the points it has read and asks
    the database only for points newer than those: a poll reads a handful of rows, not the whole
    history, and redraws the chart's y axis and heights only when a point arrived (see ProgressChart).
    """
    key = (settings.DATABASE_URL, run_id)
    with _charts_lock:
        after, chart = _charts.get(key, (0, NO_POINTS))
    with db.get_engine(settings.DATABASE_URL).connect() as conn:
        rows = conn.execute(SERIES, {"run_id": run_id, "after": after}).all()
    if rows:
        chart = charts.ProgressChart(
            chart.points + [charts.Point(elapsed, objective, bound) for _, elapsed, objective, bound in rows]
        )
        with _charts_lock:
            _charts[key] = (rows[-1][0], chart)
            _charts.move_to_end(key)
            while len(_charts) > CHARTS_CACHED_RUNS:
                _charts.popitem(last=False)
    return chart


def _queue_position(run: Run | runs.LiveRun, settings: Settings) -> int | None:
    try:
        return queueing.queue_position(queueing.connect(settings.REDIS_URL), run.id, run.priority)
    except RedisError:
        log.warning("queue position of run %s unavailable: Redis did not answer", run.id)
        return None


def outcome(run: Run) -> Outcome:
    """The result in plain words: optimal, best found within the limit, infeasible, failed, canceled."""
    status = RunStatus(run.status)
    took = duration(run.wall_time)
    if status is RunStatus.SUCCEEDED and run.solver_status == "OPTIMAL":
        return Outcome("good", "Optimal", f"Proved optimal in {took}: no solution costs less than "
                                          f"{num(run.objective)}.")
    if status is RunStatus.SUCCEEDED:
        gap = f" No solution can cost less than {num(run.best_bound)} (gap {pct(run.gap)})." \
            if run.best_bound is not None and run.gap is not None else ""
        return Outcome("good", "Best found within the time limit",
                       f"The best solution found in {took} costs {num(run.objective)}; the solver had no time "
                       f"left to prove it optimal.{gap}")
    if status is RunStatus.INFEASIBLE:
        return Outcome("bad", "Infeasible", "No solution satisfies every hard rule. Relax a limit (for example "
                                            "more staff, fewer days off or a lower minimum) and solve again.")
    if status is RunStatus.FAILED:
        return Outcome("bad", "Failed", run.error or "The solve failed without a message.")
    if status is RunStatus.CANCELED:
        if run.result:
            return Outcome("warn", "Canceled", f"Stopped on request after {took}; the best solution found so far "
                                               f"(cost {num(run.objective)}) is shown below.")
        if run.started_at is None:
            return Outcome("muted", "Canceled", "Canceled before it started.")
        return Outcome("muted", "Canceled", f"Stopped on request after {took}, before any solution was found.")
    return Outcome("muted", status.value.capitalize(), "")


def status_context(
    run: Run | runs.LiveRun, settings: Settings, query: Mapping[str, str] | None = None, with_result: bool = True
) -> dict:
    """What runs/_live.html needs; the result only once the run is terminal (polls stay cheap).
    `query` (the request's args) lets a problem's result view page or filter (e.g. a chosen date).
    `with_result=False`: the status fragment, which never carries the result (it loads it separately)."""
    ctx: dict = {"run": run, "live": live(run, settings), "result_deferred": not with_result}
    if run.is_terminal:
        ctx.update(outcome=outcome(run), downloads=downloads.available(run))
        if with_result:
            ctx.update(results.context(run, query))
    return ctx


@dataclass(frozen=True)
class Listing:
    """One page of the runs list, under a status filter."""

    runs: list[Run]
    page: int
    pages: int
    total: int
    status: str  # "" for all
    active: bool  # some run is queued or running: the list keeps refreshing itself

    def query(self, **changes: object) -> dict:
        args = {"page": self.page, "status": self.status, **changes}
        return {k: v for k, v in args.items() if v and not (k == "page" and v == 1)}


STATUSES = tuple(s.value for s in RunStatus)
PER_PAGE = 12


def listing(settings: Settings, page: str, status: str) -> Listing:
    status = status if status in STATUSES else ""
    number = int(page) if page.isdigit() and 0 < int(page) < 10**6 else 1
    items, total = runs.page(settings, number, PER_PAGE, status or None)
    active = any(not r.is_terminal for r in items) or runs.any_active(settings)
    return Listing(items, number, max(1, math.ceil(total / PER_PAGE)), total, status, active)
