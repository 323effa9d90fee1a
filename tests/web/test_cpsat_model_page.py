"""The page of a finished `cpsat_model` run: the model's size, its values (paged, searched by name),
its downloads, and "solve again" starting from its solution."""

from __future__ import annotations

import base64
import csv
import io

import pytest
from google.protobuf import json_format
from ortools.sat.python import cp_model
from sqlmodel import func, select

from app import db
from app.models import Run
from app.problems import get
from app.problems.cpsat_model import demo
from app.problems.cpsat_model import proto as protos


@pytest.fixture
def cpsat_run(make_run):
    """A finished job-shop run (15 jobs x 10 machines: 301 variables), solved for a moment."""
    problem, inp = get("cpsat_model"), demo.job_shop(15, 10, seed=7)
    model, variables = problem.build(inp)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds, solver.parameters.num_workers = 0.5, 1
    solver.solve(model)
    solution = problem.extract(inp, variables, solver.value)
    checked = problem.check(inp, solution)
    result = {"solution": solution, "breakdown": problem.breakdown(checked), "checked": True, "summary": {}}
    return make_run(
        "succeeded",
        "cpsat_model",
        input=inp.model_dump(mode="json"),
        result=result,
        objective=checked.objective,
        best_bound=solver.best_objective_bound,
    )


def test_the_page_shows_the_model_and_a_page_of_values(client, cpsat_run):
    html = client.get(f"/runs/{cpsat_run.id}").get_data(as_text=True)
    assert "301 variables · 296 constraints · minimise the objective" in html
    assert '<code>no_overlap</code></td><td class="num">10</td>' in html
    assert html.count("<tr><td><code>start_") + html.count("<tr><td><code>end_") == 50  # one page of 301
    assert "Page 1 of 7 · 301 variables" in html


def test_values_are_searched_by_name_and_paged(client, cpsat_run):
    html = client.get(f"/runs/{cpsat_run.id}?q=makespan").get_data(as_text=True)
    makespan = cpsat_run.result["solution"]["values"]["makespan"]
    assert f'<tr><td><code>makespan</code></td><td class="num">{makespan}</td></tr>' in html
    assert "1 of 301 variable" in html and "Page " not in html
    html = client.get(f"/runs/{cpsat_run.id}?values_page=7").get_data(as_text=True)
    assert "Page 7 of 7" in html and "<code>makespan</code>" in html  # the last variable
    assert "No returned variable" in client.get(f"/runs/{cpsat_run.id}?q=zzz").get_data(as_text=True)


def test_downloads_give_the_model_and_the_solution(client, cpsat_run):
    html = client.get(f"/runs/{cpsat_run.id}").get_data(as_text=True)
    for name in ("model.pb", "model.json", "solution.json", "solution.csv"):
        assert f"/runs/{cpsat_run.id}/download/{name}" in html
    binary = client.get(f"/runs/{cpsat_run.id}/download/model.pb").data
    assert base64.b64decode(cpsat_run.input["model"]) == binary  # byte for byte what was sent
    rows = list(csv.reader(io.StringIO(client.get(f"/runs/{cpsat_run.id}/download/solution.csv").text)))
    assert rows[0] == ["variable", "value"] and len(rows) == 302
    values = client.get(f"/runs/{cpsat_run.id}/download/solution.json").get_json()["values"]
    assert values["makespan"] == cpsat_run.objective


def test_solve_again_starts_from_the_solution(client, cpsat_run, database_url):
    resp = client.post(f"/runs/{cpsat_run.id}/again", data={"time_limit": "5"})
    assert resp.status_code == 303
    new_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    with db.session(database_url) as s:
        again = s.get(Run, new_id)
    hinted = protos.decode(again.input["model"], again.input["model_format"]).solution_hint
    assert list(hinted.vars) == list(range(301))
    assert list(hinted.values) == cpsat_run.result["solution"]["assignment"]
    assert again.time_limit == 5 and again.name.endswith("(again)")


@pytest.mark.parametrize(
    ("filename", "render"),
    [
        ("model.json", lambda proto: json_format.MessageToJson(proto)),  # the model's JSON form itself
        ("model.pb.txt", str),  # protobuf text format, as model.export_to_file("model.pb.txt") writes it
    ],
)
def test_a_model_file_can_be_uploaded_from_the_home_page(client, redis, database_url, filename, render):
    body = render(demo.queens(8).proto).encode()
    resp = client.post(
        "/runs",
        data={"source": "file", "problem_type": "cpsat_model", "format": "auto", "file": (io.BytesIO(body), filename)},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303, resp.get_data(as_text=True)
    with db.session(database_url) as s:
        stored = s.get(Run, int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert len(protos.decode(stored.input["model"], stored.input["model_format"]).variables) == 8


def test_a_bad_model_file_shows_cp_sats_message_and_starts_nothing(client, redis, database_url):
    body = b"variables { domain: 5 domain: 0 }"
    resp = client.post(
        "/runs",
        data={
            "source": "file",
            "problem_type": "cpsat_model",
            "format": "auto",
            "file": (io.BytesIO(body), "model.pb.txt"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert "input.model: CP-SAT rejects the model" in resp.get_data(as_text=True)
    with db.session(database_url) as s:
        assert s.exec(select(func.count()).select_from(Run)).one() == 0


def test_a_maximising_model_says_higher_is_better(client, redis, database_url):
    model = cp_model.CpModel()
    x = model.new_int_var(0, 9, "x")
    model.maximize(x)
    proto = protos.encode(protos.from_cp_model(model), "base64")
    resp = client.post(
        "/api/v1/runs",
        json={"problem_type": "cpsat_model", "input": {"model": proto, "model_format": "base64"}, "time_limit": 5},
    )
    assert resp.status_code == 202, resp.get_json()
    html = client.get(f"/runs/{resp.get_json()['id']}").get_data(as_text=True)
    assert "Objective (higher is better)" in html
    small = {"problem_type": "cpsat_model", "demo": "job_shop_small", "time_limit": 5}
    minimising = client.post("/api/v1/runs", json=small)
    assert "Objective (lower is better)" in client.get(f"/runs/{minimising.get_json()['id']}").get_data(as_text=True)
