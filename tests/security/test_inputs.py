"""Every input that used to cause a 5xx is now a clear 4xx, and stores nothing."""

from __future__ import annotations

import io

import pytest
from sqlmodel import func, select

from app import db
from app.models import Run
from app.problems.shift_scheduling import rosters
from tests.web.factories import store_run

HUGE_IDS = [2**31, 2**63, 2**64 + 5, 10**30]
DEEP = "[" * 100_000 + "]" * 100_000


def runs_stored(database_url) -> int:
    with db.session(database_url) as s:
        return s.exec(select(func.count()).select_from(Run)).one()


@pytest.mark.parametrize("run_id", HUGE_IDS)
def test_run_ids_past_the_database_integer_are_not_found(client, run_id, redis):
    for path in (
        f"/api/v1/runs/{run_id}",
        f"/runs/{run_id}",
        f"/runs/{run_id}/status",
        f"/runs/{run_id}/result",
        f"/runs/{run_id}/download/input.json",
    ):
        assert client.get(path).status_code == 404, path
    for path in (f"/api/v1/runs/{run_id}/cancel", f"/runs/{run_id}/cancel", f"/runs/{run_id}/again"):
        assert client.post(path).status_code == 404, path


def test_nul_characters_are_refused_with_their_path(client, database_url, redis):
    resp = client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny", "name": "a\x00b"})
    assert resp.status_code == 422 and [e["path"] for e in resp.get_json()["errors"]] == ["name"]
    resp = client.post("/api/v1/runs", json={"problem_type": "knap\x00sack", "demo": "tiny"})
    assert resp.status_code == 422
    assert client.get("/api/v1/runs?problem_type=knap%00sack").status_code == 422
    assert client.get("/api/v1/runs?problem_type=tsp").status_code == 422
    form = client.post("/runs", data={"source": "demo", "demo": "knapsack/tiny", "name": "x\x00y"})
    assert form.status_code == 422 and "NUL" in form.get_data(as_text=True)
    assert runs_stored(database_url) == 0


def test_json_nested_100000_deep_is_a_4xx_everywhere(client, database_url, redis):
    resp = client.post("/api/v1/runs", data=DEEP, content_type="application/json")
    assert resp.status_code == 400 and "nested" in resp.get_json()["message"]
    deep_input = '{"problem_type": "knapsack", "input": ' + "[" * 200 + "]" * 200 + "}"
    resp = client.post("/api/v1/runs", data=deep_input, content_type="application/json")
    assert resp.status_code == 422 and "nested" in resp.get_data(as_text=True)
    text = client.post(
        "/runs",
        data={"source": "file", "problem_type": "knapsack", "format": "json", "input_text": DEEP},
        content_type="multipart/form-data",
    )  # as browsers do
    assert text.status_code == 422 and "nested" in text.get_data(as_text=True)
    upload = client.post(
        "/runs",
        data={"source": "file", "problem_type": "knapsack", "file": (io.BytesIO(DEEP.encode()), "deep.json")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 422 and "nested" in upload.get_data(as_text=True)
    assert runs_stored(database_url) == 0


@pytest.mark.parametrize(
    "field,value",
    [
        ("time_limit", "30"),
        ("time_limit", True),
        ("time_limit", 5e-324),
        ("time_limit", 0.5),
        ("threads", 2.0),
        ("threads", True),
        ("threads", "2"),
        ("seed", 1.0),
        ("name", 5),
        ("priority", 1),
    ],
)
def test_the_request_model_does_not_coerce(client, database_url, field, value, redis):
    resp = client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny", field: value})
    assert resp.status_code == 422 and [e["path"] for e in resp.get_json()["errors"]] == [field]
    assert runs_stored(database_url) == 0


def test_wrong_methods_say_which_are_allowed(client):
    api = client.delete("/api/v1/runs")
    assert api.status_code == 405 and set(api.headers["Allow"].split(", ")) >= {"GET", "POST"} and api.is_json
    page = client.put("/runs/1/cancel")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]
    assert client.get("/runs/1/cancel").headers["Allow"].count("POST") == 1


def test_roster_csv_cells_cannot_be_formulas():
    inp = {
        "horizon_days": 2,
        "shifts": [{"id": "D", "length_minutes": 480}],
        "staff": [
            {"id": '=HYPERLINK("https://evil.example","x")'},
            {"id": "+1"},
            {"id": "@SUM(A1)"},
            {"id": "-2"},
            {"id": "Ann"},
        ],
    }
    solution = {"roster": {'=HYPERLINK("https://evil.example","x")': ["D", None]}}
    lines = rosters.to_csv(inp, solution).splitlines()
    assert lines[1].startswith("\"'=HYPERLINK(") and lines[2].startswith("'+1") and lines[3].startswith("'@SUM")
    assert lines[4].startswith("'-2") and lines[5].startswith("Ann,")


def test_a_huge_page_number_is_not_an_error(client, database_url):
    store_run(database_url, "queued")
    assert client.get("/?page=99999999999999999999999").status_code == 200
    assert client.get("/api/v1/runs?page=99999999999999999999999").status_code == 422


@pytest.mark.integration
def test_rq_never_sees_the_failure_message(client, worker, redis):
    """rq-dashboard renders exc_info unescaped: the message (which may quote the input) stays in the run."""
    from rq.job import Job

    from tests.support import wait_for

    body = {"problem_type": "knapsack", "input": {"capacity": 1, "items": [], "explode": True}}
    run_id = client.post("/api/v1/runs", json=body).get_json()["id"]
    doc = wait_for(lambda: (d := client.get(f"/api/v1/runs/{run_id}").get_json())["terminal"] and d, 30)
    assert doc["status"] == "failed" and "exploded on purpose" in doc["error"]
    wait_for(lambda: redis.zscore("rq:failed:default", f"run-{run_id}") is not None, 10, what="RQ failed registry")
    exc_info = Job.fetch(f"run-{run_id}", connection=redis).latest_result().exc_string
    assert "SolveFailed" in exc_info and "exploded on purpose" not in exc_info
