"""Every run ends in exactly one terminal status; late or duplicate writes never move it backwards."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app import db, lifecycle
from app.models import ProgressPoint, Run, RunStatus


@pytest.fixture
def run_id(database_url) -> int:
    with db.session(database_url) as s:
        run = Run(problem_type="knapsack", time_limit=10, threads=1, input={})
        s.add(run)
        s.commit()
        return run.id


def status(database_url, run_id) -> str:
    with db.session(database_url) as s:
        return s.get(Run, run_id).status


def test_happy_path_counts_the_attempt(database_url, run_id):
    with db.session(database_url) as s:
        assert lifecycle.start(s, run_id, "w1")
        assert lifecycle.finish(s, run_id, RunStatus.SUCCEEDED, objective=3)
        run = s.get(Run, run_id)
    assert (run.status, run.attempt, run.worker, run.objective) == ("succeeded", 1, "w1", 3)
    assert run.started_at and run.finished_at


def test_a_terminal_run_never_moves_again(database_url, run_id):
    with db.session(database_url) as s:
        lifecycle.start(s, run_id, "w1")
        assert lifecycle.finish(s, run_id, RunStatus.CANCELED)
        assert not lifecycle.finish(s, run_id, RunStatus.SUCCEEDED)  # a late finish
        assert not lifecycle.fail(s, run_id, "late failure")
        assert not lifecycle.start(s, run_id, "w2")  # a duplicate delivery of the job
        assert not lifecycle.cancel_queued(s, run_id)
        assert not lifecycle.record_progress(s, run_id, [{"elapsed": 1.0, "objective": 1}], gap=0.5)
        assert s.exec(select(ProgressPoint)).all() == []
    assert status(database_url, run_id) == "canceled"


def test_cancel_queued_only_while_queued(database_url, run_id):
    with db.session(database_url) as s:
        lifecycle.start(s, run_id, "w1")
        assert not lifecycle.cancel_queued(s, run_id)
    assert status(database_url, run_id) == "running"


def test_a_retried_attempt_restarts_a_running_run(database_url, run_id):
    with db.session(database_url) as s:
        lifecycle.start(s, run_id, "w1")
        first_start = s.get(Run, run_id).started_at
        assert lifecycle.start(s, run_id, "w2")  # the worker died; RQ retried the job
        run = s.get(Run, run_id)
    assert (run.attempt, run.worker, run.started_at) == (2, "w2", first_start)
