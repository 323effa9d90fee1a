"""How fast is the run page's status poll (GET /runs/<id>/status) while solves are running?

    .venv/bin/python bench/poll_latency.py                    # two to three minutes, stops by itself
    .venv/bin/python bench/poll_latency.py --browsers 100 --duration 20 --max-browsers 1600

It starts a private stack (bench/stack.py: own redis-server, temp SQLite file, gunicorn with the
Procfile's web settings, one `rq worker`), adds an ordinary user (not an admin: the polls go through
the owner filter) who submits two solves through the API with their own API token (one runs, the
other waits in the queue behind it, so both fragment states are measured), then:
  1. steady: `--browsers` simulated browsers, each on its own keep-alive connection, poll the status
     fragment of one of the two runs once a second (as htmx does: `HX-Request: true`) for `--duration` s;
  2. ramp: doubles the number of browsers, `--step` seconds per level, until the server degrades (polls
     fail or fall behind, or p99 passes both the target and 3x the steady p99) or `--max-browsers`.
It prints p50/p99 latency and the achieved poll rate per level, the highest rate with p99 <= target
(default 10 ms), and the highest rate sustained before degrading. Every client talks to 127.0.0.1
only.

The browsers poll as browsers do: each signs in once as that user through the real sign-in page (GET
/login for the form's CSRF token and the session cookie, POST the form) and then sends its own session
cookie with every poll (no API token), keeping whatever cookie the server sets, as a cookie jar would.
Sign-ins happen before a level starts (a browser keeps its session for the rest of the bench, like an
open tab), never inside the measured polls; they cost the server a scrypt check each, so a ramp to
many browsers spends a while signing in. A poll answered with a Set-Cookie is counted (there should be
none: a signed-in session does not change between polls).

The clients are asyncio streams in this process; they share the machine with gunicorn and the solver
(--solver-threads, default 1), so the figures include that contention (the load average is printed).
For scale it also polls a static file through the same server under the same load (the same browsers,
cookies and all): the floor no view can beat.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import random
import re
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth import accounts, tokens  # noqa: E402
from bench.stack import Stack  # noqa: E402

TARGET_MS = 10.0
USERNAME, PASSWORD = "poller", "a bench password"  # the ordinary user who owns the runs and polls them
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Level:
    browsers: int
    seconds: float
    polls: int
    errors: int
    late: int  # polls that started more than half a period behind schedule: the client could not keep up
    rate: float  # completed polls per second
    p50_ms: float
    p99_ms: float
    max_ms: float
    app_p50_ms: float  # the app's own time (its Server-Timing header): no network, no gunicorn, no client
    app_p99_ms: float
    set_cookies: int = 0  # polls answered with a Set-Cookie (a signed-in browser's polls should get none)

    def keeps_up(self) -> bool:
        """Every poll answered, on schedule: the server sustains this rate."""
        return self.errors == 0 and self.late == 0 and self.rate >= 0.95 * self.browsers

    def ok(self, target_ms: float) -> bool:
        return self.keeps_up() and self.p99_ms <= target_ms

    def line(self) -> str:
        return (f"{self.browsers:>6} browsers  {self.rate:8.1f} polls/s  p50 {self.p50_ms:6.2f} ms  "
                f"p99 {self.p99_ms:6.2f} ms  max {self.max_ms:7.2f} ms  (app p50 {self.app_p50_ms:5.2f} "
                f"p99 {self.app_p99_ms:6.2f})  errors {self.errors}  late {self.late}"
                + (f"  set-cookie {self.set_cookies}" if self.set_cookies else ""))


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


AUTH: dict[str, str] = {}  # the user's API token header, for the API calls of main() (never the polls)
SESSIONS: list[str] = []  # browser i's cookie ("session=..."), signed in by sign_in_browsers()


def sign_in(host: str, port: int) -> str:
    """What a browser does: GET the sign-in page (session cookie + the form's CSRF token), POST the
    form; returns the signed-in session cookie ("session=...")."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("GET", "/login")
        resp = conn.getresponse()
        page = resp.read().decode()
        cookie = (resp.getheader("Set-Cookie") or "").split(";", 1)[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if resp.status != 200 or not cookie or token is None:
            raise RuntimeError(f"sign-in page: {resp.status}, cookie {bool(cookie)}, CSRF token {token is not None}")
        form = urlencode({"username": USERNAME, "password": PASSWORD, "csrf_token": token[1], "next": ""})
        conn.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        resp = conn.getresponse()
        resp.read()
        signed_in = (resp.getheader("Set-Cookie") or "").split(";", 1)[0]
        if resp.status != 303 or not signed_in:
            raise RuntimeError(f"sign-in refused: {resp.status}")
        return signed_in
    finally:
        conn.close()


def sign_in_browsers(url: str, n: int) -> None:
    """Sign browsers in until there are n sessions (outside any measured level)."""
    missing = n - len(SESSIONS)
    if missing <= 0:
        return
    host, port = urlsplit(url).hostname, urlsplit(url).port
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        SESSIONS.extend(pool.map(lambda _: sign_in(host, port), range(missing)))
    if missing > 10:
        print(f"  ({missing} more browsers signed in, {time.monotonic() - started:.1f} s)", flush=True)


async def browser(host: str, port: int, path: str, until: float, period: float, latencies: list[float],
                  app_ms: list[float], counters: dict[str, int], expect: bytes, index: int) -> None:
    """One open run page (browser `index`, with its session cookie): a keep-alive connection asking for
    the status fragment every `period` s."""
    def request() -> bytes:
        return (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nHX-Request: true\r\n"
                f"HX-Current-URL: http://{host}:{port}{path[:-7]}\r\nAccept: */*\r\n"
                f"Cookie: {SESSIONS[index]}\r\n\r\n").encode()

    await asyncio.sleep(random.uniform(0, period))  # browsers opened at random moments
    reader = writer = None
    next_at = time.monotonic()
    while next_at < until:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            data = request()
            t0 = time.perf_counter()
            writer.write(data)
            status, headers, body = await read_response(reader)
            latencies.append(time.perf_counter() - t0)
            if "set-cookie" in headers:  # a cookie jar keeps it: the next poll sends the new one
                counters["set_cookies"] += 1
                SESSIONS[index] = headers["set-cookie"].split(";", 1)[0]
            if "server-timing" in headers:
                app_ms.append(float(headers["server-timing"].partition("dur=")[2] or "nan"))
            if status != 200 or expect not in body:
                counters["errors"] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError):
            counters["errors"] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
        next_at += period
        delay = next_at - time.monotonic()
        if delay < -period / 2:
            counters["late"] += 1
            next_at = time.monotonic()
        await asyncio.sleep(max(0.0, delay))
    if writer is not None:
        writer.close()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        return status, headers, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
        return status, headers, body
    raise ValueError("response without a length")


def measure(url: str, paths: list[str], browsers: int, seconds: float, period: float = 1.0,
            expect: bytes = b'id="run-live"') -> Level:
    host, port = urlsplit(url).hostname, urlsplit(url).port
    latencies: list[float] = []
    app_ms: list[float] = []
    counters = {"errors": 0, "late": 0, "set_cookies": 0}
    sign_in_browsers(url, browsers)

    async def main() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(*(browser(host, port, paths[i % len(paths)], until, period, latencies, app_ms, counters,
                                       expect, i) for i in range(browsers)))

    started = time.monotonic()
    asyncio.run(main())
    wall = time.monotonic() - started
    ms = [x * 1000 for x in latencies]
    return Level(browsers, round(wall, 1), len(ms), counters["errors"], counters["late"],
                 round(len(ms) / max(seconds, 1e-9), 1), round(percentile(ms, 50), 2), round(percentile(ms, 99), 2),
                 round(max(ms, default=float("nan")), 2), round(percentile(app_ms, 50), 2),
                 round(percentile(app_ms, 99), 2), counters["set_cookies"])


def submit_two(url: str, time_limit: float) -> list[int]:
    """Two solves of the largest demo of the first problem type with demos (shift_scheduling)."""
    with urllib.request.urlopen(f"{url}/api/v1/problem-types", timeout=10) as resp:
        types = [t for t in json.load(resp)["items"] if t["demos"]]
    kind = next((t for t in types if t["name"] == "shift_scheduling"), types[0])
    ids = []
    for i in range(2):
        body = json.dumps({"problem_type": kind["name"], "demo": kind["demos"][-1], "time_limit": time_limit,
                           "name": f"poll bench {i + 1}"}).encode()
        req = urllib.request.Request(f"{url}/api/v1/runs", body, {"Content-Type": "application/json", **AUTH})
        with urllib.request.urlopen(req, timeout=10) as resp:
            ids.append(json.load(resp)["id"])
    print(f"submitted runs {ids}: {kind['name']} demo {kind['demos'][-1]!r}, {time_limit:g} s limit", flush=True)
    return ids


def run_status(url: str, run_id: int) -> str:
    request = urllib.request.Request(f"{url}/api/v1/runs/{run_id}", headers=AUTH)
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.load(resp)["status"]


def wait_running(url: str, run_id: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if run_status(url, run_id) == "running":
            return
        time.sleep(0.2)
    raise RuntimeError(f"run {run_id} did not start within {timeout:g} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--browsers", type=int, default=100, help="simulated browsers in the steady phase")
    ap.add_argument("--duration", type=float, default=20, help="seconds of the steady phase")
    ap.add_argument("--step", type=float, default=8, help="seconds per ramp level")
    ap.add_argument("--max-browsers", type=int, default=1600, help="ramp ceiling")
    ap.add_argument("--target-ms", type=float, default=TARGET_MS, help="p99 target")
    ap.add_argument("--solver-threads", default="1", help="CP-SAT workers per solve (SOLVER_THREADS)")
    ap.add_argument("--json", action="store_true", help=f"also write the figures to {RESULTS}/")
    args = ap.parse_args()

    # The solves must outlast the bench, sign-ins included (a scrypt check each on a server that is busy).
    budget = (args.duration + args.step * (math.log2(max(1, args.max_browsers / args.browsers)) + 1) + 60
              + 0.1 * args.max_browsers)
    env = {"SOLVER_THREADS": args.solver_threads, "PROGRESS_INTERVAL": "0.5"}
    with Stack(env=env) as stack:
        url = stack.start_web()
        # An ordinary user: submits the runs with their API token, signs in to watch them (sign_in_browsers).
        user = accounts.create(stack.database_url, USERNAME, PASSWORD)
        AUTH["Authorization"] = f"Bearer {tokens.create(stack.database_url, user.id, 'bench')[1]}"
        stack.start_workers(1)
        ids = submit_two(url, time_limit=budget + 60)
        wait_running(url, ids[0])
        paths = [f"/runs/{i}/status" for i in ids]
        measure(url, paths, 10, 2)  # warm-up: imports, templates, connection pools
        print(f"web: gunicorn with the Procfile's settings (WEB_CONCURRENCY={os.environ.get('WEB_CONCURRENCY', 2)},"
              f" WEB_THREADS={os.environ.get('WEB_THREADS', 8)}); 1 worker; SOLVER_THREADS={args.solver_threads};"
              f" {os.cpu_count()} CPUs", flush=True)

        steady = measure(url, paths, args.browsers, args.duration)
        print(f"\nsteady, {args.duration:g} s:\n{steady.line()}", flush=True)
        # The floor: a static file through the same server and clients, under the same load.
        floor = measure(url, ["/static/favicon.svg"], args.browsers, min(args.duration, 10), expect=b"<svg")
        print(f"floor (a static file, same server and load):\n{floor.line()}", flush=True)

        # Degraded: polls fail or fall behind, or p99 passes both the target and 3x the steady p99.
        limit_ms = max(args.target_ms, 3 * steady.p99_ms)
        print(f"\nramp ({args.step:g} s per level, until p99 > {limit_ms:.1f} ms or polls fall behind):", flush=True)
        print(steady.line() + "  (the steady phase)", flush=True)
        levels, n = [steady], args.browsers * 2
        while n <= args.max_browsers and steady.keeps_up():
            level = measure(url, paths, n, args.step)
            levels.append(level)
            print(level.line(), flush=True)
            if not level.keeps_up() or level.p99_ms > limit_ms:
                break
            n *= 2
        good = [lv for lv in levels if lv.ok(args.target_ms)]
        best = max(good, key=lambda lv: lv.rate) if good else None
        sustained = [lv for lv in levels if lv.keeps_up() and lv.p99_ms <= limit_ms]
        top = max(sustained, key=lambda lv: lv.rate) if sustained else None
        statuses = [run_status(url, i) for i in ids]
        load1 = os.getloadavg()[0]

    print(f"\nstatus poll, {args.browsers} browsers polling once a second: "
          f"p50 {steady.p50_ms:.2f} ms, p99 {steady.p99_ms:.2f} ms "
          f"({'meets' if steady.p99_ms <= args.target_ms else 'MISSES'} the p99 <= {args.target_ms:g} ms target); "
          f"a static file under the same load: p50 {floor.p50_ms:.2f} ms, p99 {floor.p99_ms:.2f} ms; "
          f"the app's own time per poll: p50 {steady.app_p50_ms:.2f} ms, p99 {steady.app_p99_ms:.2f} ms")
    last = levels[-1]
    if best:
        print(f"highest sustained poll rate with p99 <= {args.target_ms:g} ms: {best.rate:.0f} polls/s "
              f"({best.browsers} browsers)")
    else:
        print(f"no ramp level kept p99 <= {args.target_ms:g} ms")
    if top:
        ceiling = "" if top is last else f"; at {last.browsers} browsers: p99 {last.p99_ms:.2f} ms, " \
                                         f"{last.rate:.0f} polls/s, {last.errors} errors, {last.late} late"
        print(f"highest sustained poll rate before degrading: {top.rate:.0f} polls/s ({top.browsers} browsers, "
              f"p50 {top.p50_ms:.2f} ms, p99 {top.p99_ms:.2f} ms){ceiling}")
    else:
        print(f"the server did not keep up with {args.browsers} browsers")
    print(f"runs during the bench: {statuses}; load average (1 min) {load1:.2f}")
    if args.json:
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"poll_latency-{time.strftime('%Y%m%d-%H%M%S')}.json"
        figures = {"steady": asdict(steady), "floor": asdict(floor), "ramp": [asdict(lv) for lv in levels],
                   "best": asdict(best) if best else None, "sustained": asdict(top) if top else None,
                   "target_ms": args.target_ms}
        out.write_text(json.dumps(figures, indent=2))
        print(f"figures written to {out}")
    return 0 if steady.p99_ms <= args.target_ms else 1


if __name__ == "__main__":
    sys.exit(main())
