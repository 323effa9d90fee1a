"""How long does POST /api/v1/runs take, compared with the least such an endpoint can cost?

    .venv/bin/python bench/submit_latency.py                  # about a minute
    .venv/bin/python bench/submit_latency.py --requests 2000 --levels 1,16,64

It starts a private stack (bench/stack.py: own redis-server, temp SQLite file, no worker: jobs just
queue) and two gunicorn servers with the Procfile's web settings:
  - ours:  the real app, POST /api/v1/runs with a small shift-scheduling demo;
  - floor: bench/floor_app.py, POST /floor doing only one DB insert + commit and one RQ enqueue.
For each level of concurrent clients (keep-alive http.client connections, one per thread) it sends a
fixed number of requests to each server in alternating rounds (Redis flushed before each), and prints
p50/p99 latency for ours and the floor and their ratios. Target at 16 clients: p50 <= 1.5x and p99 <= 2x the floor.
The client runs on the same machine (2 cores here), so absolute figures include its own cost and any
other load on the machine (the load average is printed); the ratios compare like with like.
Where the time goes: bench/submit_profile.py.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import floor_app  # noqa: E402
from bench.stack import Stack  # noqa: E402

DEFAULT_BODY = {"problem_type": "shift_scheduling", "demo": "small"}
TARGET_CLIENTS, TARGET_P50, TARGET_P99 = 16, 1.5, 2.0
WARMUP_REQUESTS = 200


HEADERS: dict[str, str] = {}  # the stack admin's API token (the floor ignores it), set in main()


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def load(url: str, path: str, body: bytes, clients: int, requests: int) -> dict:
    """`requests` POSTs spread over `clients` threads, each on its own keep-alive connection.
    Returns the latencies (seconds), the wall time, and any non-202 answers."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    per_client = -(-requests // clients)  # ceil
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.connect()  # the TCP handshake is not part of any sample
        mine, bad = [], []
        start.wait()
        for _ in range(per_client):
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body, {"Content-Type": "application/json", **HEADERS})
                resp = conn.getresponse()
                data = resp.read()
            except (ConnectionError, http.client.HTTPException) as exc:  # server dropped the connection
                bad.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                continue  # http.client reconnects on the next request
            mine.append(time.perf_counter() - t0)
            if resp.status != 202:
                bad.append(f"HTTP {resp.status}: {data[:200]!r}")
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]  # daemon: Ctrl-C exits
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return {"latencies": latencies, "wall": time.perf_counter() - t0, "errors": errors}


def measure(servers: dict[str, tuple[str, str]], body: bytes, clients: int, requests: int, rounds: int,
            stack: Stack) -> dict[str, dict]:
    """One level: `requests` per server, pooled over `rounds` rounds that alternate which server goes first.

    Each round opens new connections (gunicorn gives each keep-alive connection to one of its workers, so
    the split between workers varies), so that split and the machine's other load hit both servers alike.
    """
    pooled = {name: {"latencies": [], "wall": 0.0, "errors": []} for name in servers}
    for round_no in range(rounds):
        for name in list(servers)[:: 1 if round_no % 2 == 0 else -1]:
            stack.flush_redis()  # every round starts with empty queues,
            stack.drop_queued_runs()  # in the database too (as a server never holds more than its caps)
            part = load(*servers[name], body, clients, requests // rounds)
            for key in pooled[name]:
                pooled[name][key] += part[key]
    return pooled


def report(results: dict[int, dict[str, dict]]) -> bool:
    """Print the table; True if the targets at TARGET_CLIENTS are met."""
    print(f"{'clients':>7} | {'ours p50':>8} {'ours p99':>8} {'req/s':>6} | {'floor p50':>9} {'floor p99':>9} "
          f"{'req/s':>6} | {'p50 ratio':>9} {'p99 ratio':>9} | errors")
    ok = TARGET_CLIENTS in results
    for clients, level in results.items():
        ours, floor = level["ours"], level["floor"]
        o50, o99 = (percentile(ours["latencies"], p) * 1000 for p in (50, 99))
        f50, f99 = (percentile(floor["latencies"], p) * 1000 for p in (50, 99))
        rate = {name: len(r["latencies"]) / r["wall"] for name, r in level.items()}
        errors = ours["errors"] + floor["errors"]
        print(f"{clients:>7} | {o50:6.1f}ms {o99:6.1f}ms {rate['ours']:6.0f} | {f50:7.1f}ms {f99:7.1f}ms "
              f"{rate['floor']:6.0f} | {o50 / f50:8.2f}x {o99 / f99:8.2f}x | {len(errors)}")
        for err in errors[:3]:
            print(f"        error: {err}")
        if clients == TARGET_CLIENTS:
            for label, ratio, target in (("p50", o50 / f50, TARGET_P50), ("p99", o99 / f99, TARGET_P99)):
                verdict = "PASS" if ratio <= target and not errors else "MISS"
                ok &= verdict == "PASS"
                print(f"        target {label} <= {target}x floor at {clients} clients: {ratio:.2f}x {verdict}")
    if TARGET_CLIENTS not in results:
        print(f"(no {TARGET_CLIENTS}-client level: targets not checked)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,16,64", help="concurrent clients per level (default 1,16,64)")
    parser.add_argument("--requests", type=int, default=2048, help="requests per level and server (default 2048)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per level (default 4)")
    parser.add_argument("--body", default=json.dumps(DEFAULT_BODY), help=f"JSON body for ours (default {DEFAULT_BODY})")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    body = args.body.encode()

    with Stack() as stack:
        HEADERS.update(stack.auth)
        floor_app.create_tables(stack.database_url)
        servers = {"ours": (stack.start_web("app:create_app()", "web-ours"), "/api/v1/runs"),
                   "floor": (stack.start_web("bench.floor_app:create_app()", "web-floor"), "/floor")}
        web = stack.web_command("<app>", "<port>")
        print(f"server: {' '.join([Path(web[0]).name, *web[1:]])}   (both servers)")
        print(f"ours:  POST /api/v1/runs {body.decode()}\nfloor: POST /floor (1 insert + 1 enqueue)")
        print(f"{args.requests} requests per level and server in {args.rounds} alternating rounds, after "
              f"{WARMUP_REQUESTS} warm-up requests; no worker; {os.cpu_count()} CPUs, load average before: "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
        for name, (url, path) in servers.items():  # first requests import code and open pools: not measured
            warm = load(url, path, body, 8, WARMUP_REQUESTS)
            if warm["errors"]:
                print(f"{name} fails: {warm['errors'][0]}", file=sys.stderr)
                return 2
        results = {clients: measure(servers, body, clients, args.requests, args.rounds, stack) for clients in levels}
    return 0 if report(results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; every process the bench started is stopped")
