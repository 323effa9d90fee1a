"""Where does a status poll (GET /runs/<id>/status) spend its time? The companion of poll_latency.py.

    .venv/bin/python bench/poll_profile.py            # about 15 s: whole polls, then part by part
    .venv/bin/python bench/poll_profile.py --n 5000

In one process and one thread (no HTTP server, no concurrency: the cost of the work itself), on a
private stack (bench/stack.py: own redis-server, temp SQLite file). A signed-in ordinary user polls, as
htmx does (`HX-Request: true`), a running run with 120 progress points and a queued run behind two
others; next to them a static file through the same app, and the poll as an API script sends it
(the stack admin's API token, no cookies; poll_latency.py's browsers sign in and send their cookie).
Each figure is the median of 7 batches after a warm-up.
The parts are timed by wrapping the functions the request goes through; "other" is the rest of the
app's own time (Flask's dispatch, request context, hooks, headers).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import Stack  # noqa: E402

HX = {"HX-Request": "true"}


def median_ms(fn, n: int, batches: int = 7) -> float:
    for _ in range(min(200, n)):
        fn()
    per_batch = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(n // batches):
            fn()
        per_batch.append((time.perf_counter() - t0) / (n // batches) * 1000)
    return statistics.median(per_batch)


class Parts:
    """Accumulated time in wrapped functions (a wrapper costs well under a microsecond)."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - t0

        setattr(owner, name, timed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="polls per figure (default 3000)")
    args = parser.parse_args()

    with Stack() as stack:
        import flask
        import flask.sessions
        import flask_login.login_manager

        from app import create_app, runs
        from app.web import charts, present, views
        from tests.accounts import add_user, signed_in
        from tests.web.factories import add_progress, store_run

        url = stack.database_url
        parts = Parts()
        sessions = flask.sessions.SecureCookieSessionInterface
        parts.wrap(sessions, "open_session", "session cookie decode")
        parts.wrap(sessions, "save_session", "session save")
        parts.wrap(flask_login.login_manager.LoginManager, "_load_user", "Flask-Login user load (DB)")
        parts.wrap(runs, "get_live", "run query + ownership")
        parts.wrap(present, "progress_chart", "progress points query (cached chart)")
        parts.wrap(charts.ProgressChart, "svg", "chart SVG (time axis; y axis when points arrive)")
        parts.wrap(present, "_queue_position", "queue position (Redis)")
        parts.wrap(views, "render_template", "template render (chart excluded, CSRF token included)")

        app = create_app({"DATABASE_URL": url, "REDIS_URL": stack.redis_url, "SOLVEQUEUE_ENV": "development"})
        parts.wrap(app, "wsgi_app", "app total")
        alice = add_user(url, "alice")
        running = store_run(url, "running", "shift_scheduling", owner_id=alice.id, time_limit=60, num_solutions=60,
                            objective=643, best_bound=319, gap=0.5)
        add_progress(url, running.id, [(0.5 * i, 1000 - 3 * i if i % 2 else None, 200 + i) for i in range(120)])
        queued = store_run(url, "queued", "shift_scheduling", owner_id=alice.id)
        for n in (901, 902, queued.id):
            stack.redis.rpush("rq:queue:default", f"run-{n}")
        browser = signed_in(app, alice, with_token=False)
        script = app.test_client(use_cookies=False)  # a script: an API token, no cookies
        token = {**HX, "Authorization": stack.auth["Authorization"]}

        polls = {
            "status poll, running run (120 points)": lambda: browser.get(f"/runs/{running.id}/status", headers=HX),
            "status poll, queued run (3rd in queue)": lambda: browser.get(f"/runs/{queued.id}/status", headers=HX),
        }
        print(f"ms per request, median of 7 batches of {args.n // 7} (Flask test client, one thread):")
        for label, fn in {
            "static file (/static/favicon.svg)": lambda: script.get("/static/favicon.svg"),
            **polls,
            "status poll, running run, as a script (API token)": lambda: script.get(
                f"/runs/{running.id}/status", headers=token),
        }.items():
            assert fn().status_code == 200, label
            print(f"  {label:58s} {median_ms(fn, args.n):6.3f}")

        for label, fn in polls.items():
            median_ms(fn, 200, 1)
            parts.seconds.clear()
            for _ in range(args.n):
                fn()
            per = {k: v / args.n * 1000 for k, v in parts.seconds.items()}
            total = per.pop("app total")
            per["other: dispatch, context, hooks, headers"] = total - sum(per.values())
            print(f"\n{label}: the app's own time {total:.3f} ms")
            for part, ms in sorted(per.items(), key=lambda kv: -kv[1]):
                print(f"  {part:58s} {ms:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
