"""The Python client end to end: a real gunicorn, a real worker, and the example a user would run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import solvequeue
from ortools.sat.python import cp_model

from app.problems import get
from app.problems.cpsat_model import demo, proto
from tests.client.conftest import CLIENT
from tests.support import ROOT, wait_for

pytestmark = pytest.mark.integration


def weights_model():
    model = cp_model.CpModel()
    xs = [model.new_int_var(0, 4, f"x{i}" if i != 2 else "") for i in range(5)]
    model.add(sum((i + 2) * x for i, x in enumerate(xs)) <= 17)
    model.add(xs[0] != xs[1])
    model.maximize(sum((3 * i + 1) * x for i, x in enumerate(xs)))
    return model, xs


def test_submit_wait_and_read_values(live_server, token, worker):
    model, xs = weights_model()
    run = solvequeue.Client(live_server, token=token).submit(model, time_limit=20, name="weights")
    assert run.status == "queued" and run.id
    seen = []
    run.wait(timeout=60, on_progress=seen.append)
    assert run.status == "succeeded" and run.solver_status == "OPTIMAL", run.doc
    assert seen and seen[-1].objective == run.objective == run.bound and "objective" in str(seen[-1])
    values = [run.value(x) for x in xs]
    assert sum((i + 2) * v for i, v in enumerate(values)) <= 17 and values[0] != values[1]
    assert run.objective == run.value(sum((3 * i + 1) * x for i, x in enumerate(xs)))
    assert run.value("x0") == run.values["x0"] == values[0]
    assert run.value("_v2") == values[2]  # unnamed: not returned, found through the submitted model
    assert run.stats["wall_time"] >= 0 and run.gap == 0


def test_cancel_keeps_the_best_solution(live_server, token, worker):
    model = proto.to_cp_model(demo.job_shop(15, 10, seed=7).proto)
    run = solvequeue.Client(live_server, token).submit(model, time_limit=60, parameters={"linearization_level": 2})
    wait_for(lambda: run.refresh().progress, 60, what="a first solution")
    run.cancel()
    run.wait(timeout=30)
    assert run.status == "canceled" and run.objective == run.values["makespan"], run.doc


def test_server_errors_are_exceptions_with_field_paths(live_server, token):
    model, _ = weights_model()
    with pytest.raises(solvequeue.SolveQueueError) as caught:
        solvequeue.Client(live_server).submit(model)  # no token
    assert caught.value.status == 401
    client = solvequeue.Client(live_server, token=token)
    with pytest.raises(solvequeue.InvalidInput) as caught:
        client.submit(model, parameters={"num_workers": 32, "relative_gap_limit": "small"})
    assert caught.value.status == 422
    assert caught.value.paths == ["input.parameters.num_workers", "input.parameters.relative_gap_limit"]
    assert "input.parameters.num_workers" in str(caught.value)
    with pytest.raises(solvequeue.NotFound):
        client.run(10**6)


def test_a_sweep_of_models_goes_in_one_request_and_each_run_keeps_its_model(live_server, token, worker):
    sweep = []
    for cap in (5, 11, 17):
        model, xs = weights_model()
        model.add(sum(xs) <= cap)
        sweep.append((model, xs))
    client = solvequeue.Client(live_server, token=token)
    runs = client.submit_many([m for m, _ in sweep], time_limit=20, name="weights sweep")
    assert [r.status for r in runs] == ["queued"] * 3 and len({r.id for r in runs}) == 3
    for run, (_, xs) in zip(runs, sweep, strict=True):
        run.wait(timeout=60)
        assert run.status == "succeeded" and run.solver_status == "OPTIMAL", run.doc
        assert run.objective == run.value(sum((3 * i + 1) * x for i, x in enumerate(xs)))
    assert runs[0].objective <= runs[1].objective <= runs[2].objective
    with pytest.raises(solvequeue.InvalidInput) as caught:
        client.submit_batch([{"problem_type": "knapsack", "demo": "tiny"}, {"problem_type": "knapsack"}])
    assert caught.value.paths == ["runs[1].input"]


def test_built_in_problem_types(live_server, token, worker):
    data = get("shift_scheduling").demos["small"]().model_dump(mode="json")
    run = solvequeue.Client(live_server, token=token).submit_problem("shift_scheduling", data, time_limit=5)
    run.wait(timeout=60)
    assert run.status == "succeeded" and run.result["checked"], run.doc


def test_the_token_is_sent_as_a_bearer_header():
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen["authorization"] = self.headers.get("Authorization")
            body = json.dumps({"error": "unauthorized", "message": "bad token"}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = solvequeue.Client(f"http://127.0.0.1:{server.server_port}", token="s3cret")
        with pytest.raises(solvequeue.SolveQueueError) as caught:
            client.run(1)
    finally:
        server.shutdown()
        server.server_close()
    assert seen["authorization"] == "Bearer s3cret"
    assert caught.value.status == 401 and caught.value.code == "unauthorized"


def test_the_job_shop_example_against_a_real_server(live_server, token, worker):
    env = {**os.environ, "SOLVEQUEUE_URL": live_server, "SOLVEQUEUE_TOKEN": token, "PYTHONPATH": str(CLIENT)}
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "job_shop.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "Optimal schedule length: 11" in out.stdout, out.stdout
    assert out.stdout.count("Machine ") == 3
