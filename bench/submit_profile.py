"""Where does POST /api/v1/runs spend its time, next to the floor? The companion of submit_latency.py.

    .venv/bin/python bench/submit_profile.py              # part-by-part timings, ms per request
    .venv/bin/python bench/submit_profile.py --cprofile   # plus the top of a cProfile of our view

In one process and one thread (no HTTP server, no concurrency: this is the cost of the work itself), on a
private stack (bench/stack.py: own redis-server, temp SQLite file), it times the whole request through
Flask's test client for ours and for the floor (bench/floor_app.py), then the parts of ours by calling
the same service functions the view calls. Each figure is the mean over --n calls after a warm-up.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import floor_app  # noqa: E402
from bench.stack import Stack  # noqa: E402
from bench.submit_latency import DEFAULT_BODY  # noqa: E402


def mean_ms(fn, n: int) -> float:
    for _ in range(min(50, n)):
        fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="calls per figure (default 500)")
    parser.add_argument("--body", default=json.dumps(DEFAULT_BODY), help=f"JSON body (default {DEFAULT_BODY})")
    parser.add_argument("--cprofile", action="store_true", help="also print the top of a cProfile of our view")
    args = parser.parse_args()
    body = json.loads(args.body)

    with Stack() as stack:
        os.environ.update(DATABASE_URL=stack.database_url, REDIS_URL=stack.redis_url)  # read by floor_app
        from sqlalchemy import insert

        from app import create_app, db, queueing, runs
        from app.api import serialize
        from app.models import Run

        app = create_app({"DATABASE_URL": stack.database_url, "REDIS_URL": stack.redis_url,
                          "SOLVEQUEUE_ENV": "development", "RATE_LIMIT_SUBMIT": "1000000 per minute",
                          "MAX_QUEUED_PER_USER": 10**9, "MAX_QUEUED_TOTAL": 10**9})
        settings = app.extensions["settings"]
        ours = app.test_client()
        ours.environ_base["HTTP_AUTHORIZATION"] = stack.auth["Authorization"]
        floor_app.create_tables(stack.database_url)
        floor = floor_app.create_app().test_client()
        redis = queueing.connect(stack.redis_url)
        run = runs.submit(body, settings)  # a stored run, for the parts below
        row = {c.name: getattr(run, c.name) for c in Run.__table__.columns if c.name != "id"}
        ids = iter(range(10**6, 10**9))

        def submit_without_enqueue():
            real, queueing.enqueue_solve = queueing.enqueue_solve, lambda *a, **k: None
            try:
                runs.submit(body, settings)
            finally:
                queueing.enqueue_solve = real

        def core_insert(table, values):
            with db.get_engine(stack.database_url).begin() as conn:
                conn.execute(insert(table).values(**values))

        def serialize_response():
            with app.test_request_context():
                json.dumps(serialize.run(run))

        n = args.n
        figures = [
            ("floor: whole request (test client)", mean_ms(lambda: floor.post("/floor", json=body), n)),
            ("  floor: Core INSERT of its tiny row + COMMIT",
             mean_ms(lambda: core_insert(floor_app.floor_row, {"name": "x"}), n)),
            ("ours: whole request (test client)", mean_ms(lambda: ours.post("/api/v1/runs", json=body), n)),
            ("  runs.parse_submission (validate; build the input)",
             mean_ms(lambda: runs.parse_submission(body, settings), n)),
            ("  runs.submit without the enqueue (parse + Run + ORM)", mean_ms(submit_without_enqueue, n)),
            ("    for comparison: Core INSERT of the same run row",
             mean_ms(lambda: core_insert(Run.__table__, row), n)),
            ("  queueing.enqueue_solve (same RQ call as the floor's)",
             mean_ms(lambda: queueing.enqueue_solve(redis, next(ids), "default", 30, 60), n)),
            ("  serialize.run + url_for + json.dumps (the response)", mean_ms(serialize_response, n)),
        ]
        print(f"one thread, in-process, mean of {n} calls; body {json.dumps(body)}; row input "
              f"{len(json.dumps(run.input))} bytes of JSON\n")
        for label, ms in figures:
            print(f"{label:<58} {ms:7.3f} ms")

        if args.cprofile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(n):
                ours.post("/api/v1/runs", json=body)
            profile.disable()
            print(f"\ncProfile of {n} POST /api/v1/runs (cumulative; the profiler inflates Python-heavy parts):")
            pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
