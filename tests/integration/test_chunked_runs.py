"""Small runs of one batch share RQ jobs: each whole aligned block of CHUNK_RUNS ids is one job
(app/queueing.py, workers.jobs.solve_runs), and nothing about a run is given up for it: each is stored,
checked, with progress points, cancellable, findable in its queue, and handed on to a job of its own
when it would wait behind a slow run.

Real Redis, real `rq worker` processes."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from rq.job import Job
from sqlmodel import select

from app import cluster, config, db, queueing
from app.models import ProgressPoint, Run
from app.queueing import CHUNK_RUNS, Solve, chunk_job_id, chunks
from tests.support import finished, horse_pid, run_row, solving, start_worker, stop_process, wait_for
from workers import maintenance

pytestmark = pytest.mark.integration
TINY = {"problem_type": "knapsack", "demo": "tiny", "time_limit": 5}


def test_only_whole_aligned_blocks_of_small_runs_of_one_priority_share_a_job():
    small = [Solve(i, "default", 5, inline=True) for i in range(6, 30)]  # blocks 8-15 and 16-23 whole
    big = Solve(30, "default", 5)
    high = [Solve(i, "high", 5, inline=True) for i in range(32, 39)] + [Solve(39, "default", 5, inline=True)]
    groups = chunks(small + [big] + high)
    ids = [[s.run_id for s in g] for g in groups]
    assert ids == [[6], [7], list(range(8, 16)), list(range(16, 24)), *[[i] for i in range(24, 40) if i != 31]]
    # In the order of each group's first run, whatever order the block's runs came in.
    shuffled = chunks(small[::-1])
    assert [g[0].run_id for g in shuffled][:8] == list(range(29, 23, -1)) + [16, 8]
    assert [s.run_id for s in shuffled[6]] == list(range(16, 24))
    assert chunk_job_id(8) == chunk_job_id(15) == "runs-8-15" and chunk_job_id(16) == "runs-16-23"


def post_batch(client, n: int, **item) -> list[int]:
    resp = client.post("/api/v1/runs/batch", json={"runs": [{**TINY, **item, "seed": i} for i in range(n)]})
    assert resp.status_code == 202, resp.get_json()
    return [d["id"] for d in resp.get_json()["items"]]


def align(client) -> None:
    """Submit tiny runs until the next run id starts a block."""
    last = post_batch(client, 1)[0]
    if pad := (-(last + 1)) % CHUNK_RUNS:
        post_batch(client, pad)


def whole_blocks(ids: list[int]) -> list[list[int]]:
    blocks: dict[int, list[int]] = {}
    for i in ids:
        blocks.setdefault(i // CHUNK_RUNS, []).append(i)
    return [sorted(b) for b in blocks.values() if len(b) == CHUNK_RUNS]


def test_a_batch_of_small_runs_is_queued_in_chunks_each_run_findable(client, redis, database_url):
    ids = post_batch(client, 2 * CHUNK_RUNS - 1)  # at least one whole block, whatever the first id
    blocks = whole_blocks(ids)
    assert blocks
    chunked = {i for b in blocks for i in b}
    queued = [j.decode() for j in redis.lrange("rq:queue:default", 0, -1)]
    assert len(queued) == len(ids) - len(chunked) + len(blocks)
    assert [chunk_job_id(b[0]) for b in blocks] == [j for j in queued if j.startswith("runs-")]
    member = blocks[0][3]
    job = queueing.fetch_job(redis, member)
    assert job.id == chunk_job_id(member) and job.args == (blocks[0],) and job.meta == {"inline": True}
    # Its place in the queue is its chunk's.
    assert queueing.queue_position(redis, member, "default") == queued.index(job.id) + 1
    page = client.get(f"/api/v1/runs/{member}").get_json()
    assert page["status"] == "queued"
    # Canceling one run of a chunk leaves the job for the others.
    assert client.post(f"/api/v1/runs/{member}/cancel").status_code == 200
    assert Job.fetch(job.id, connection=redis).get_status() == "queued"


def points_of(database_url, run_id) -> list[ProgressPoint]:
    with db.session(database_url) as s:
        return list(s.exec(select(ProgressPoint).where(ProgressPoint.run_id == run_id)))


def test_a_chunk_solves_each_of_its_runs_in_full_and_skips_a_canceled_one(
    client, redis, redis_url, database_url, tmp_path
):
    ids = post_batch(client, 2 * CHUNK_RUNS - 1)
    block = whole_blocks(ids)[0]
    canceled = block[2]
    assert client.post(f"/api/v1/runs/{canceled}/cancel").status_code == 200
    proc = start_worker(database_url, redis_url, tmp_path / "worker.log", PROGRESS_INTERVAL="0.25")
    try:
        done = {i: finished(database_url, i, 60) for i in ids}
    finally:
        stop_process(proc)
    assert done[canceled].status == "canceled" and done[canceled].started_at is None
    for i in set(ids) - {canceled}:
        run = done[i]
        assert (run.status, run.solver_status, run.objective) == ("succeeded", "OPTIMAL", 5), i
        assert run.result["checked"] and points_of(database_url, i)
        assert horse_pid(run) == proc.pid  # small: solved in the worker process
    chunk = Job.fetch(chunk_job_id(block[0]), connection=redis)
    assert chunk.get_status() == "finished"
    assert not redis.exists(Job.key_for(queueing.job_id_for(block[1])))  # no job of its own was needed


@pytest.mark.slow
def test_runs_waiting_behind_a_slow_one_are_handed_on_and_idle_workers_share_them(
    inline_client, redis, redis_url, database_url, tmp_path
):
    align(inline_client)
    slow = {**TINY, "demo": "hard", "time_limit": 30}
    items = [slow] + [{**slow, "time_limit": 1.5, "seed": i} for i in range(1, CHUNK_RUNS)]
    resp = inline_client.post("/api/v1/runs/batch", json={"runs": items})
    block = [d["id"] for d in resp.get_json()["items"]]
    assert whole_blocks(block) == [block]
    workers = [
        start_worker(database_url, redis_url, tmp_path / f"w{n}.log", f"w{n}", PROGRESS_INTERVAL="0.25")
        for n in range(2)
    ]
    try:
        first = solving(database_url, block[0], 30)
        # Within CHUNK_SECONDS of its start, the chunk's other runs have jobs of their own, in order.
        wait_for(lambda: all(redis.exists(Job.key_for(queueing.job_id_for(i))) for i in block[1:]), 5, what="hand-on")
        assert queueing.fetch_job(redis, block[1]).id == queueing.job_id_for(block[1])
        # The workers view names the run the chunk's worker is solving.
        settings = config.load({"DATABASE_URL": database_url, "REDIS_URL": redis_url})
        shown = {w.run.id for w in cluster.workers(settings) if w.run is not None}
        assert first.id in shown
        # A run of a chunk is cancelled as any other: it stops at once and keeps its best solution.
        assert inline_client.post(f"/api/v1/runs/{first.id}/cancel").status_code == 202
        done = [finished(database_url, i, 60) for i in block]
    finally:
        for proc in workers:
            stop_process(proc)
    assert done[0].status == "canceled" and done[0].result["checked"]
    assert all(r.status == "succeeded" and r.result["checked"] for r in done[1:])
    assert all(r.wall_time < 1.5 + 1.0 for r in done[1:])  # each stopped at its own deadline
    assert len({r.worker.split(" pid ")[0] for r in done}) == 2  # both workers took some
    assert all(r.attempt == 1 for r in done)  # each solved once


@pytest.mark.slow
def test_a_forked_chunk_whose_work_horse_dies_has_that_run_resumed(
    inline_client, redis, redis_url, database_url, tmp_path
):
    align(inline_client)
    block = post_batch(inline_client, CHUNK_RUNS, demo="hard", time_limit=4)
    assert whole_blocks(block) == [block]
    proc = start_worker(
        database_url, redis_url, tmp_path / "w.log", "forking", PROGRESS_INTERVAL="0.25", INLINE_RUNS="0"
    )
    try:
        running = solving(database_url, block[0], 30)
        assert horse_pid(running) != proc.pid
        os.kill(horse_pid(running), signal.SIGKILL)
        resumed = solving(database_url, block[0], 30, attempt=2, checkpoint=False)
        assert resumed.lost == 1 and "SIGKILL" in resumed.lost_reason  # the worker recorded it at once
        done = finished(database_url, block[0], 60)
    finally:
        stop_process(proc)
    assert done.status == "succeeded" and done.result["checked"]
    # The others were handed on once, by the first attempt (the retried chunk found their jobs).
    with db.session(database_url) as s:
        waiting = [r.id for r in s.exec(select(Run).where(Run.id.in_(block[1:]))) if r.status == "queued"]
    queued = [j.decode() for j in redis.lrange("rq:queue:default", 0, -1)]
    assert waiting and len(queued) == len(set(queued))
    assert {queueing.job_id_for(i) for i in waiting} <= set(queued)


def test_the_reconciler_re_enqueues_the_runs_of_a_lost_chunk_and_leaves_a_waiting_one(
    client, redis, redis_url, database_url
):
    align(client)
    block = post_batch(client, CHUNK_RUNS)
    chunk = Job.fetch(chunk_job_id(block[0]), connection=redis)
    settings = config.load({"DATABASE_URL": database_url, "REDIS_URL": redis_url})
    with db.session(database_url) as s:  # old enough that the reconciler looks at them
        for run in s.exec(select(Run).where(Run.id.in_(block))):
            run.created_at = run.created_at - timedelta(minutes=5)
            s.add(run)
        s.commit()
    assert maintenance.reconcile(settings, redis)["requeued"] == 0  # the chunk waits in its queue: in hand
    # The chunk's worker died before it handed anything on; RQ failed the job (abandoned).
    redis.lrem("rq:queue:default", 0, chunk.id)
    chunk.set_status("failed")
    assert maintenance.reconcile(settings, redis)["requeued"] == CHUNK_RUNS
    queued = [j.decode() for j in redis.lrange("rq:queue:default", 0, -1)]
    assert {queueing.job_id_for(i) for i in block} <= set(queued) and len(queued) == len(set(queued))
    assert not Job.exists(chunk.id, connection=redis)


@pytest.mark.slow
def test_a_worker_that_dies_in_a_chunk_has_its_runs_solved_by_another(
    inline_client, redis_url, database_url, tmp_path
):
    align(inline_client)
    block = post_batch(inline_client, CHUNK_RUNS, demo="hard", time_limit=2)
    env = {"LEASE_SECONDS": "3", "PROGRESS_INTERVAL": "0.25"}
    doomed = start_worker(database_url, redis_url, tmp_path / "doomed.log", "doomed", **env)
    survivor = None
    try:
        running = solving(database_url, block[0], 30)
        assert horse_pid(running) == doomed.pid  # inline: the crash takes the worker with it
        assert run_row(database_url, block[1]).status == "queued"
        os.kill(doomed.pid, signal.SIGKILL)
        survivor = start_worker(
            database_url, redis_url, tmp_path / "survivor.log", "survivor", RECOVER_INTERVAL="1", **env
        )
        done = [finished(database_url, i, 90) for i in block]
    finally:
        stop_process(doomed)
        if survivor:
            stop_process(survivor)
    assert all(r.status == "succeeded" and r.result["checked"] for r in done)
    assert done[0].attempt == 2 and done[0].lost == 1 and done[0].worker.startswith("survivor")
    assert all(r.attempt == 1 and r.worker.startswith("survivor") for r in done[1:])
