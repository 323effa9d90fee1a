"""The 1 s status poll (GET /runs/<id>/status) takes shortcuts to stay cheap: a plain-value read of the
run's live figures, the account read on a plain connection, a per-process chart of the points read so
far, one Redis round trip for the queue position. These tests pin what it must still guarantee."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import timedelta

import pytest

from app import db, queueing, runs
from app.auth import accounts
from app.models import Run, utcnow
from app.web import charts, present
from tests.web.factories import add_progress, update_run

HX = {"HX-Request": "true"}


def poll(client, run_id: int):
    return client.get(f"/runs/{run_id}/status", headers=HX)


@pytest.mark.parametrize("status", ["queued", "running", "succeeded", "canceled"])
def test_only_the_owner_and_admins_see_a_runs_status(client, other_client, admin_client, make_run, status):
    run = make_run(status, result={"solution": {}, "breakdown": []} if status == "succeeded" else None)
    add_progress(client.application.extensions["settings"].DATABASE_URL, run.id, [(0.5, 9, 1)])
    assert poll(client, run.id).status_code == 200
    assert poll(admin_client, run.id).status_code == 200
    theirs, missing = poll(other_client, run.id), poll(other_client, 99999)
    assert theirs.status_code == missing.status_code == 404  # exactly like a run that does not exist
    assert 'id="run-live"' not in theirs.get_data(as_text=True) and "chart" not in theirs.get_data(as_text=True)
    assert poll(client, 2**31).status_code == 404  # past PostgreSQL's integer: refused before the query


def test_a_poll_needs_an_active_account(client, make_run, database_url):
    run = make_run("running")
    assert poll(client, run.id).status_code == 200
    accounts.update(database_url, "alice", active=False)
    refused = poll(client, run.id)  # the same session cookie, the account now disabled
    assert refused.status_code == 401 and refused.headers["HX-Redirect"].startswith("/login")
    assert accounts.load(database_url, 1) is None and accounts.load(database_url, 4242) is None


def test_the_live_figures_are_the_runs_own(settings, make_run, database_url):
    run = make_run("running", num_solutions=7, objective=12.5, solver_objective=13, best_bound=10, gap=0.2,
                   maximize=True, cancel_requested_at=utcnow(), priority="high")
    live = runs.get_live(run.id, settings, owner=None)
    with db.session(database_url) as s:
        row = s.get(Run, run.id)
    assert {f.name: getattr(live, f.name) for f in fields(live)} == {f.name: getattr(row, f.name) for f in fields(live)}
    assert not live.is_terminal and runs.get_live(make_run("failed").id, settings, owner=None).is_terminal
    assert runs.get_live(run.id, settings, owner=run.owner_id).id == run.id
    for owner, run_id in ((run.owner_id + 1, run.id), (None, 4242), (None, 0), (None, 2**31)):
        with pytest.raises(runs.RunNotFound):
            runs.get_live(run_id, settings, owner=owner)


def test_the_fragment_follows_the_run_as_it_changes(client, make_run, database_url):
    run = make_run("running", num_solutions=1, objective=90, best_bound=0, gap=1.0)
    add_progress(database_url, run.id, [(0.5, 90, 0)])
    first = poll(client, run.id).get_data(as_text=True)
    assert "1 solution found so far" in first and 'id="objective">90<' in first
    # The worker writes a better solution and bound: the next poll shows both, in the figures and the chart.
    add_progress(database_url, run.id, [(1.5, 55, 5), (2.5, 40, 10)])
    update_run(database_url, run.id, num_solutions=3, objective=40, best_bound=10, gap=0.75)
    second = poll(client, run.id).get_data(as_text=True)
    assert "3 solutions found so far" in second and 'id="objective">40<' in second and 'id="gap">75.0 %<' in second
    assert "objective from 90 to 40, best bound from 0 to 10" in second
    assert _path(second, "objective").count("H") == 3 > _path(first, "objective").count("H")
    # Then it finishes: polling stops and the outcome comes with the last fragment.
    update_run(database_url, run.id, status="succeeded", finished_at=utcnow(), wall_time=3.0, solver_status="OPTIMAL",
               result={"solution": {}, "breakdown": []})
    last = poll(client, run.id).get_data(as_text=True)
    assert 'hx-trigger="load delay' not in last and "Proved optimal" in last and "Cancel run" not in last


def test_a_running_chart_stretches_to_now_on_every_poll(client, make_run, database_url):
    run = make_run("running", started_at=utcnow() - timedelta(seconds=10))
    add_progress(database_url, run.id, [(0.2, 9, 1), (0.4, 5, 2)])
    early = _path(poll(client, run.id).get_data(as_text=True), "objective")
    update_run(database_url, run.id, started_at=utcnow() - timedelta(seconds=40))
    later = _path(poll(client, run.id).get_data(as_text=True), "objective")
    assert early != later  # the same points, drawn against a longer time axis: the cache keeps no stale x


def test_the_per_process_chart_matches_one_drawn_from_scratch(app, make_run, database_url):
    settings = app.extensions["settings"]
    run = make_run("running")
    points = [(0.5 * i, 1000 - 3 * i if i % 2 else None, 200 + i) for i in range(120)]
    add_progress(database_url, run.id, points[:50])
    assert len(present.progress_chart(run.id, settings).points) == 50
    add_progress(database_url, run.id, points[50:])
    cached = present.progress_chart(run.id, settings)
    assert cached is present.progress_chart(run.id, settings)  # no new points: the same chart, no redraw
    fresh = charts.ProgressChart([charts.Point(*p) for p in points])
    for now in (59.5, 61.25, 3600.0):
        assert cached.svg(now, "chart-1") == fresh.svg(now, "chart-1")


def test_queue_position_counts_every_job_a_worker_takes_first(redis):
    for priority, ids in (("high", [1, 2]), ("default", [3, 4, 5]), ("low", [6])):
        for run_id in ids:
            redis.rpush(f"rq:queue:{priority}", f"run-{run_id}")
    assert queueing.queue(redis, "default").get_job_ids() == ["run-3", "run-4", "run-5"]  # RQ's own list
    positions = {run_id: queueing.queue_position(redis, run_id, p)
                 for p, ids in (("high", [1, 2]), ("default", [3, 4, 5]), ("low", [6])) for run_id in ids}
    assert positions == {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6}
    assert queueing.queue_position(redis, 7, "default") is None  # not (or no longer) on its queue
    assert queueing.queue_position(redis, 1, "urgent") is None


def _path(html: str, series: str) -> str:
    found = re.search(rf'<path class="series {series}" d="([^"]+)"', html)
    return found.group(1) if found else ""

