"""Against the live app (gunicorn, as deployed): schemathesis fuzzes the API from its OpenAPI document
— every check, conformance included, zero failures allowed — and a chunked body over the size limit is
refused with 413 instead of being cut short and stored."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.auth import tokens
from tests.browser.conftest import ARTIFACTS, serve
from tests.support import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONFIG = ROOT / "tests" / "security" / "schemathesis.toml"
# Bounded and reproducible: SCHEMATHESIS_EXAMPLES raises the bound for a longer hunt.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "40"))
SEED = 20261201
BODY_LIMIT = 64 * 1024


@pytest.fixture
def fuzz_server(database_url, redis, redis_url, tmp_path):
    # Limits high enough that the fuzzer reaches validation (the limits have their own tests).
    with serve(
        database_url,
        redis_url,
        tmp_path,
        RATE_LIMIT_SUBMIT="100000 per minute",
        MAX_QUEUED_PER_USER="100000",
        MAX_QUEUED_TOTAL="100000",
        MAX_CONTENT_LENGTH=str(BODY_LIMIT),
    ) as url:
        yield url


def interactions(report_dir: Path) -> int:
    """Requests the run made, from its NDJSON event stream."""
    count = 0
    for path in report_dir.glob("*.ndjson"):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if "ScenarioFinished" in event:
                count += len(event["ScenarioFinished"]["recorder"].get("interactions", {}))
    return count


def test_schemathesis_finds_nothing(fuzz_server, database_url, user, tmp_path):
    token = tokens.create(database_url, user.id, "schemathesis")[1]
    report_dir = tmp_path / "schemathesis"
    cmd = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{fuzz_server}/api/v1/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "ndjson",
        "--report-dir",
        str(report_dir),
        "--output-truncate",
        "true",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "NO_COLOR": "1"})
    requests = interactions(report_dir)
    summary = f"schemathesis: {requests} requests, {EXAMPLES} examples per operation, seed {SEED}\n"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "schemathesis.txt").write_text(summary + done.stdout)
    print(summary)
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
    assert requests > 100


def test_a_chunked_body_over_the_limit_is_413(fuzz_server, database_url, user):
    token = tokens.create(database_url, user.id, "chunked")[1]
    parts = urlsplit(fuzz_server)

    def post_chunked(body: bytes) -> tuple[int, dict]:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.putrequest("POST", "/api/v1/runs")
            for name, value in (
                ("Content-Type", "application/json"),
                ("Transfer-Encoding", "chunked"),
                ("Authorization", f"Bearer {token}"),
            ):
                conn.putheader(name, value)
            conn.endheaders()
            for i in range(0, len(body), 8192):
                chunk = body[i : i + 8192]
                conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            conn.send(b"0\r\n\r\n")
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read() or b"{}")
        finally:
            conn.close()

    demo = {"problem_type": "knapsack", "demo": "tiny", "name": "x" * 100}
    status, doc = post_chunked(json.dumps(demo).encode())
    assert status == 202, doc  # a chunked body within the limit is read whole
    big = {**demo, "input": None, "padding": "y" * (BODY_LIMIT + 10)}
    status, doc = post_chunked(json.dumps(big).encode())
    assert status == 413 and doc["error"] == "request_entity_too_large"
