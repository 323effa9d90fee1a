"""CP-SAT's search log kept with the run: what CP-SAT printed, bounded, start and end kept."""

from __future__ import annotations

import dataclasses
import time

from app import db, solver_logs
from tests import problems as knapsack
from tests.web.factories import store_run
from workers import runner


def test_the_stored_log_is_exactly_what_cp_sat_printed(database_url, capfd):
    run = store_run(database_url, "running")
    writer = solver_logs.Writer(database_url, run.id, 1, limit=10**7)
    # The same solve also prints its log to stdout (fd 1, from C++), to compare with.
    problem = dataclasses.replace(knapsack.PROBLEM, solver_params={"log_to_stdout": True})

    def flush(live: runner.Live) -> None:
        with live.lock:
            text, live.log = "".join(live.log), []
        with db.write(database_url) as conn:
            writer.append(conn, text)

    capfd.readouterr()
    outcome = runner.run(
        problem,
        knapsack.demo_hard(),
        time_limit=2.0,
        threads=2,
        seed=0,
        cancel_requested=lambda: False,
        flush=flush,
        interval=0.2,
    )
    flush(outcome.live)  # what came after the watcher's last flush is the caller's to store
    printed = capfd.readouterr().out
    stored = solver_logs.read(database_url, run.id)
    assert outcome.solution is not None and len(writer.chunks) > 2  # written in several flushes
    assert stored.text == printed and not stored.dropped
    assert "Starting CP-SAT solver" in stored.text and "CpSolverResponse summary:" in stored.text


def line(i: int) -> str:
    return f"#{i:<8} {i * 0.05:8.2f}s best:{100000 - i} next:[{90000 + i},{100000 - i}] graph_var_lns (d=0.5 s=42)\n"


def test_a_30_minute_solve_log_stays_under_the_bound_keeping_start_and_end(database_url):
    """30 minutes of log output at 20 lines/s (36 000 lines, 3.7 MB), written every 0.5 s."""
    run = store_run(database_url, "running")
    limit = 64 * 1024
    writer = solver_logs.Writer(database_url, run.id, 1, limit)
    header = "Starting CP-SAT solver v9.15.6755\nParameters: log_search_progress: true\n"
    t0 = time.monotonic()
    with db.write(database_url) as conn:
        writer.append(conn, header)
    for flush in range(3600):
        with db.write(database_url) as conn:
            writer.append(conn, "".join(line(flush * 10 + k) for k in range(10)))
        assert writer.stored <= limit
    took = time.monotonic() - t0
    log = solver_logs.read(database_url, run.id, limit=limit)
    assert log.text.startswith(header) and log.text.endswith(line(35999))
    assert log.dropped and "dropped to keep it under 64 KB" in log.text
    assert len(log.text.encode()) <= limit + 200  # + the marker
    assert took < 60, f"3600 flushes took {took:.1f} s"


def test_a_reader_following_the_log_gets_each_chunk_once_and_a_marker_for_a_gap(database_url):
    run = store_run(database_url, "running")
    writer = solver_logs.Writer(database_url, run.id, 1, limit=2048)
    with db.write(database_url) as conn:
        writer.append(conn, "start\n")
        writer.append(conn, "a" * 500 + "\n")
    first = solver_logs.read(database_url, run.id)
    assert first.text == "start\n" + "a" * 500 + "\n" and first.last_seq == 1
    with db.write(database_url) as conn:
        for ch in "bcdef":
            writer.append(conn, ch * 500 + "\n")
    later = solver_logs.read(database_url, run.id, after=first.last_seq, limit=2048)
    assert later.dropped and later.text.endswith("f" * 500 + "\n") and "a" * 500 not in later.text
    assert solver_logs.read(database_url, run.id, after=later.last_seq).text == ""


def test_a_retried_attempt_continues_the_log(database_url):
    run = store_run(database_url, "running")
    with db.write(database_url) as conn:
        solver_logs.Writer(database_url, run.id, 1, limit=4096).append(conn, "attempt 1\n")
    with db.write(database_url) as conn:
        solver_logs.Writer(database_url, run.id, 2, limit=4096).append(conn, "attempt 2\n")
    assert solver_logs.read(database_url, run.id).text == "attempt 1\nattempt 2\n"
