"""Your own CP-SAT model as a run: what is accepted and refused before anything is stored, and solving
it on a real worker (values that satisfy the model, cancel keeping the incumbent, crash and resume)."""

from __future__ import annotations

import base64
import os
import signal

import pytest
from google.protobuf import json_format
from ortools.sat.python import cp_model
from sqlmodel import func, select

from app import db
from app.models import ProgressPoint, Run
from app.problems.cpsat_model import demo
from app.problems.cpsat_model import proto as protos
from tests.support import wait_for

pytestmark = pytest.mark.integration


def weights_model() -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """Pick amounts of five goods within a weight budget, maximising their value (one unnamed)."""
    model = cp_model.CpModel()
    xs = [model.new_int_var(0, 4, f"x{i}" if i != 2 else "") for i in range(5)]
    model.add(sum((i + 2) * x for i, x in enumerate(xs)) <= 17)
    model.add(xs[0] != xs[1])
    model.maximize(sum((3 * i + 1) * x for i, x in enumerate(xs)))
    return model, xs


def b64(model: cp_model.CpModel) -> str:
    return protos.encode(protos.from_cp_model(model), "base64")


def as_json(model: cp_model.CpModel) -> dict:
    return json_format.MessageToDict(protos.from_cp_model(model))


def submit(client, inp: dict, **body):
    return client.post("/api/v1/runs", json={"problem_type": "cpsat_model", "input": inp, "time_limit": 20, **body})


def stored_runs(database_url) -> int:
    with db.session(database_url) as s:
        return s.exec(select(func.count()).select_from(Run)).one()


def run_row(database_url, run_id) -> Run:
    with db.session(database_url) as s:
        return s.get(Run, run_id)


def finished(client, run_id):
    doc = client.get(f"/api/v1/runs/{run_id}").get_json()
    return doc if doc["terminal"] else None


@pytest.mark.parametrize("encode", [b64, as_json], ids=["base64", "json"])
def test_a_valid_model_is_accepted_in_either_form(client, redis, database_url, encode):
    model, _ = weights_model()
    resp = submit(client, {"model": encode(model), "parameters": {"linearization_level": 2}})
    assert resp.status_code == 202, resp.get_json()
    stored = run_row(database_url, resp.get_json()["id"])
    assert stored.input["model_format"] == ("base64" if encode is b64 else "json")


def _bad_reference() -> dict:
    model, _ = weights_model()
    doc = as_json(model)
    doc["constraints"][0]["linear"]["vars"][0] = 99
    return {"model": doc}


INVALID = {
    "not base64": ({"model": "not base64 at all!"}, "input.model", "base64"),
    "not a proto": ({"model": base64.b64encode(b"\xff\xff\xff\xff").decode()}, "input.model", "CpModelProto"),
    "unknown json field": ({"model": {"variabls": []}}, "input.model", "variabls"),
    "invalid reference": (_bad_reference(), "input.model", "CP-SAT rejects the model"),
    "empty domain": ({"model": {"variables": [{"domain": ["5", "0"]}]}}, "input.model", "CP-SAT rejects"),
    "server's parameter": ({"parameters": {"num_workers": 64}}, "input.parameters.num_workers", "threads"),
    "not allowed parameter": (
        {"parameters": {"log_search_progress": True}},
        "input.parameters.log_search_progress",
        "not allowed",
    ),
    "unknown parameter": ({"parameters": {"go_faster": True}}, "input.parameters.go_faster", "not a CP-SAT"),
    "bad parameter value": (
        {"parameters": {"search_branching": "SIDEWAYS"}},
        "input.parameters.search_branching",
        "SIDEWAYS",
    ),
    "unknown variable": ({"variables": ["x0", "nope"]}, "input.variables[1]", "nope"),
    "wrong format": ({"model_format": "json"}, "input.model", "JSON object"),
}


@pytest.mark.parametrize("name", INVALID)
def test_an_invalid_model_is_a_422_naming_the_field_and_stores_nothing(client, redis, database_url, name):
    extra, path, words = INVALID[name]
    model, _ = weights_model()
    resp = submit(client, {"model": b64(model), **extra})
    assert resp.status_code == 422, resp.get_json()
    errors = resp.get_json()["errors"]
    assert [e["path"] for e in errors] == [path], errors
    assert words in errors[0]["message"]
    assert stored_runs(database_url) == 0
    assert redis.keys("rq:queue:*") == []


@pytest.mark.parametrize("encode", [b64, as_json], ids=["base64", "json"])
@pytest.mark.parametrize(
    ("limit", "value", "words"),
    [
        ("CPSAT_MAX_VARIABLES", 4, "5 variables; at most 4"),
        ("CPSAT_MAX_CONSTRAINTS", 1, "2 constraints; at most 1"),
        ("CPSAT_MAX_MODEL_BYTES", 40, "bytes; at most 40"),
    ],
)
def test_a_model_over_the_size_limits_is_a_422(client, settings, database_url, limit, value, words, encode):
    setattr(settings, limit, value)
    model, _ = weights_model()
    resp = submit(client, {"model": encode(model)})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["path"] == "input.model"
    assert words in resp.get_json()["errors"][0]["message"]
    assert stored_runs(database_url) == 0


def test_a_worker_solves_a_model_and_the_values_satisfy_it(client, worker):
    model, xs = weights_model()
    run_id = submit(client, {"model": b64(model)}).get_json()["id"]
    doc = wait_for(lambda: finished(client, run_id), 60, what="the run to finish")
    assert doc["status"] == "succeeded" and doc["solver_status"] == "OPTIMAL", doc
    values = doc["result"]["solution"]["values"]
    assert set(values) == {"x0", "x1", "x3", "x4"}  # every named variable; the unnamed one on request
    x = doc["result"]["solution"]["assignment"]
    assert x[:2] == [values["x0"], values["x1"]]
    # The model's own rules, checked here in plain Python.
    assert sum((i + 2) * v for i, v in enumerate(x)) <= 17 and x[0] != x[1] and all(0 <= v <= 4 for v in x)
    assert doc["objective"] == sum((3 * i + 1) * v for i, v in enumerate(x)) == doc["best_bound"]
    assert doc["result"]["checked"] is True
    assert doc["result"]["breakdown"][0]["cost"] == doc["objective"]
    assert doc["stats"]["conflicts"] >= 0 and "wall_time" in doc["stats"]


def test_chosen_variables_and_an_infeasible_model(client, worker):
    model, xs = weights_model()
    chosen = submit(client, {"model": b64(model), "variables": ["_v2", "x4"]}).get_json()["id"]
    model.add(xs[0] >= 5 - xs[1]).only_enforce_if([])  # with x0 != x1 and the budget: still feasible
    model.add(sum(xs) >= 19)
    infeasible = submit(client, {"model": b64(model)}).get_json()["id"]
    doc = wait_for(lambda: finished(client, chosen), 60, what="the first run")
    assert set(doc["result"]["solution"]["values"]) == {"_v2", "x4"}
    doc = wait_for(lambda: finished(client, infeasible), 60, what="the infeasible run")
    assert doc["status"] == "infeasible", doc


def _wait_for_checkpoint(database_url, run_id) -> Run:
    return wait_for(lambda: (r := run_row(database_url, run_id)).checkpoint and r, 60, what="a checkpoint")


@pytest.mark.slow
def test_cancel_keeps_the_incumbent(client, worker, database_url):
    run_id = client.post(
        "/api/v1/runs", json={"problem_type": "cpsat_model", "demo": "job_shop_hard", "time_limit": 60}
    ).get_json()["id"]
    _wait_for_checkpoint(database_url, run_id)
    assert client.post(f"/api/v1/runs/{run_id}/cancel").status_code in (200, 202)
    doc = wait_for(lambda: finished(client, run_id), 30, what="the canceled run")
    assert doc["status"] == "canceled", doc
    assert doc["result"]["checked"] is True and doc["result"]["solution"]["values"]["makespan"] == doc["objective"]


@pytest.mark.slow
def test_a_killed_work_horse_resumes_from_its_checkpoint(client, worker, database_url):
    # 1201 variables: above INLINE_MAX_VARIABLES, so it is solved in a forked work horse. 40 jobs on 15
    # machines stay open for the whole 10 s (60 x 10 was proved optimal in 0.3 s on a quiet machine,
    # before any checkpoint: then there was no work horse left to kill).
    model = protos.encode(demo.job_shop(40, 15, seed=3).proto, "base64")
    run_id = submit(client, {"model": model}, time_limit=10).get_json()["id"]
    first = _wait_for_checkpoint(database_url, run_id)
    horse = int(first.worker.rsplit(" pid ", 1)[1])
    assert horse != worker.pid
    os.kill(horse, signal.SIGKILL)  # as the OOM killer would

    done = wait_for(lambda: (r := run_row(database_url, run_id)).is_terminal and r, 90, what="the retried run")
    assert done.status == "succeeded" and done.attempt == 2, (done.status, done.error)
    assert done.objective <= first.checkpoint["objective"]
    with db.session(database_url) as s:
        points = s.exec(select(ProgressPoint).where(ProgressPoint.run_id == run_id, ProgressPoint.attempt == 2))
        second = [p.objective for p in points if p.objective is not None]
    # The retry starts from the checkpoint (CP-SAT gets it as a complete hint, which it adopts as its
    # first solution: tests/unit/test_cpsat_model.py), never from scratch.
    assert second and second[0] <= first.checkpoint["objective"]


def test_a_run_can_be_read_without_its_input(client, redis):
    model, _ = weights_model()
    run_id = submit(client, {"model": b64(model)}).get_json()["id"]
    assert "input" in client.get(f"/api/v1/runs/{run_id}").get_json()
    assert "input" not in client.get(f"/api/v1/runs/{run_id}?input=0").get_json()
    resp = client.get(f"/api/v1/runs/{run_id}?input=null")
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["path"] == "query.input"
