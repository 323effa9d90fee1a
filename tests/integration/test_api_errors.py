"""Bad input gets a clear 4xx saying what is wrong and where, and never leaves a run behind."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from app import db
from app.models import Run

pytestmark = pytest.mark.integration


def run_count(database_url) -> int:
    with db.session(database_url) as s:
        return s.exec(select(func.count()).select_from(Run)).one()


@pytest.fixture
def no_run_left(database_url, redis):
    yield
    assert run_count(database_url) == 0
    assert redis.keys("rq:queue:*") == []


def paths(resp) -> list[str]:
    return [e["path"] for e in resp.get_json()["errors"]]


def test_malformed_json_is_400_with_the_position(client, no_run_left):
    resp = client.post("/api/v1/runs", data='{"problem_type": "knapsack",', content_type="application/json")
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "malformed_json" and "line 1" in resp.get_json()["message"]


def test_body_too_large_is_413(client, no_run_left):
    resp = client.post("/api/v1/runs", data="[" + "1," * 200_000 + "1]", content_type="application/json")
    assert resp.status_code == 413 and resp.is_json


def test_wrong_content_type_is_415(client, no_run_left):
    resp = client.post("/api/v1/runs", data="problem_type=knapsack", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415 and resp.get_json()["error"] == "unsupported_media_type"


def test_json_that_is_not_an_object_is_422(client, no_run_left):
    resp = client.post("/api/v1/runs", json=[1, 2])
    assert resp.status_code == 422 and paths(resp) == ["(root)"]


def test_schema_violations_name_every_field(client, no_run_left):
    body = {
        "problem_type": "knapsack",
        "time_limit": -1,
        "priority": "urgent",
        "colour": "red",
        "input": {"capacity": -5, "items": [{"weight": 1, "value": "lots"}]},
    }
    resp = client.post("/api/v1/runs", json=body)
    assert resp.status_code == 422
    assert set(paths(resp)) == {"time_limit", "priority", "colour"}  # envelope first; input after


def test_input_errors_carry_paths_inside_the_input(client, no_run_left):
    body = {"problem_type": "knapsack", "input": {"capacity": -5, "items": [{"weight": 1, "value": "lots"}]}}
    resp = client.post("/api/v1/runs", json=body)
    assert resp.status_code == 422
    assert set(paths(resp)) == {"input.capacity", "input.items[0].value"}


def test_unknown_problem_type_demo_and_limits(client, settings, no_run_left):
    assert paths(client.post("/api/v1/runs", json={"problem_type": "tsp", "demo": "x"})) == ["problem_type"]
    assert paths(client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "huge"})) == ["demo"]
    assert paths(client.post("/api/v1/runs", json={"problem_type": "knapsack"})) == ["input"]
    too_long = settings.SOLVER_MAX_TIME_LIMIT + 1
    resp = client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny", "time_limit": too_long})
    assert resp.status_code == 422 and paths(resp) == ["time_limit"]


def test_unknown_format_and_text_for_json(client, no_run_left):
    resp = client.post("/api/v1/runs", json={"problem_type": "knapsack", "input": "x", "format": "xml"})
    assert resp.status_code == 422 and paths(resp) == ["input.format"]
    resp = client.post("/api/v1/runs", json={"problem_type": "knapsack", "input": "capacity 5"})
    assert resp.status_code == 422


def test_unknown_run_is_404_for_show_and_cancel(client, no_run_left):
    assert client.get("/api/v1/runs/999").status_code == 404
    assert client.post("/api/v1/runs/999/cancel").status_code == 404
    assert client.get("/api/v1/nothing-here").get_json()["error"] == "not_found"


def test_bad_query_parameters_are_422(client, no_run_left):
    assert client.get("/api/v1/runs?page=zero").status_code == 422
    assert client.get("/api/v1/runs?per_page=1000").status_code == 422
    assert client.get("/api/v1/runs?status=sleeping").status_code == 422


def test_wrong_method_is_405_json(client, no_run_left):
    resp = client.delete("/api/v1/runs")
    assert resp.status_code == 405 and resp.is_json


def test_openapi_lists_exactly_the_api_routes(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = rule.rule.replace("<int:run_id>", "{run_id}")
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    assert "knapsack.Input" in doc["components"]["schemas"]


def test_problem_types_publish_schema_and_demos(client):
    items = {p["name"]: p for p in client.get("/api/v1/problem-types").get_json()["items"]}
    assert items["knapsack"]["demos"] == ["tiny", "hard"]
    assert items["knapsack"]["schema"]["properties"]["capacity"]["type"] == "integer"
