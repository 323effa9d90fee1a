"""Every run ends in exactly one terminal status; late or duplicate writes never move it backwards."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import select

from app import db, lifecycle
from app.models import ProgressPoint, Run, RunStatus, utcnow


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
        assert lifecycle.record_loss(s, run_id, "w1", "work horse killed by SIGKILL")  # seen by its worker
        assert lifecycle.start(s, run_id, "w2")  # RQ retried the job
        run = s.get(Run, run_id, populate_existing=True)
    assert (run.attempt, run.worker, run.started_at, run.lost) == (2, "w2", first_start, 1)


def test_a_run_is_solved_by_one_lease_holder_at_a_time(database_url, run_id):
    with db.session(database_url) as s:
        assert lifecycle.start(s, run_id, "w1", lease_seconds=60)
        assert not lifecycle.start(s, run_id, "w2")  # w1 is alive: a duplicate delivery is refused
        assert lifecycle.refresh_lease(s, run_id, "w1") is None  # still ours, no cancel
        assert lifecycle.refresh_lease(s, run_id, "w2") is False
        assert not lifecycle.record_progress(s, run_id, [], owner="w2", gap=0.5)
        assert not lifecycle.finish(s, run_id, RunStatus.SUCCEEDED, owner="w2")


def test_an_expired_lease_is_taken_over_and_counts_as_a_loss(database_url, run_id):
    with db.session(database_url) as s:
        assert lifecycle.start(s, run_id, "w1", lease_seconds=-1)  # as if w1 stopped refreshing it
        assert lifecycle.start(s, run_id, "w2")
        run = s.get(Run, run_id, populate_existing=True)
        assert (run.lease_owner, run.lost, run.lost_reason) == ("w2", 1, lifecycle.EXPIRED)
        assert lifecycle.refresh_lease(s, run_id, "w1") is False  # the old attempt learns it lost the run


def test_a_released_lease_is_a_clean_hand_over(database_url, run_id):
    with db.session(database_url) as s:
        lifecycle.start(s, run_id, "w1", lease_seconds=60)
        assert lifecycle.release_lease(s, run_id, "w1")  # SIGTERM: checkpoint saved, run handed over
        assert lifecycle.start(s, run_id, "w2")
        run = s.get(Run, run_id, populate_existing=True)
    assert (run.attempt, run.lost, run.lease_owner) == (2, 0, "w2")


def test_a_cancel_reaches_the_lease_holder_through_the_row(database_url, run_id):
    with db.session(database_url) as s:
        lifecycle.start(s, run_id, "w1")
        lifecycle.transition(s, run_id, RunStatus.RUNNING, [RunStatus.RUNNING], cancel_requested_at=utcnow())
        assert isinstance(lifecycle.refresh_lease(s, run_id, "w1"), datetime)
