"""Round-robin timetabling end to end: RobinX files over the API and the page, solved by a real worker."""

from __future__ import annotations

import io
import time

import pytest

from app import problems
from app.problems.round_robin.robinx import import_solution
from tests.support import BENCHMARKS, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# The ITC2021 instance whose hard constraints this search satisfies fastest (seconds on a quiet machine).
ITC_FILE = BENCHMARKS / "sports_itc2021" / "instances" / "ITC2021_Early_09.xml"
NL4 = BENCHMARKS / "sports_league" / "nl4.xml"
needs_files = pytest.mark.skipif(not ITC_FILE.exists(), reason="needs ../shared/benchmarks")


def run_json(client, run_id):
    return client.get(f"/api/v1/runs/{run_id}").get_json()


def finished(client, run_id):
    doc = run_json(client, run_id)
    return doc if doc["terminal"] else None


def assert_checked(doc):
    """Re-run the independent checker on what the API returned."""
    problem = problems.get("round_robin")
    check = problem.check(problem.validate(doc["input"]), doc["result"]["solution"])
    assert check.ok, check.violations[:5]
    assert check.objective == doc["objective"]
    assert sum(rule["cost"] for rule in doc["result"]["breakdown"]) == doc["objective"]


def submit(client, path, time_limit, **extra):
    body = {"problem_type": "round_robin", "format": "robinx_xml", "input": path.read_text(encoding="utf-8")}
    resp = client.post("/api/v1/runs", json={**body, "time_limit": time_limit, "threads": 2, **extra})
    assert resp.status_code == 202, resp.get_json()
    return resp.get_json()["id"]


@needs_files
def test_an_itc2021_file_over_the_api_solves_to_a_checked_timetable_with_live_progress(client, worker):
    run_id = submit(client, ITC_FILE, 45, name="Early 9")

    def solution_seen(d):
        return d["status"] == "running" and any(p["objective"] is not None for p in d["progress"]) and d

    wait_for(
        lambda: solution_seen(run_json(client, run_id)), 45, interval=0.2, what="a feasible timetable while running"
    )
    doc = wait_for(lambda: finished(client, run_id), 60, interval=0.5, what="the run to finish")
    assert doc["status"] == "succeeded" and doc["solver_status"] == "FEASIBLE"
    assert doc["stats"]["strategy"] == "search"
    assert_checked(doc)
    xml = client.get(f"/runs/{run_id}/download/solution.xml")
    solution, objective = import_solution(xml.get_data(as_text=True))
    assert objective == doc["objective"] and sorted(solution["games"]) == sorted(doc["result"]["solution"]["games"])
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert 'id="timetable"' in page and "tt-break" in page and "Why it costs" in page


@needs_files
def test_cancel_keeps_the_best_timetable(client, worker):
    run_id = submit(client, ITC_FILE, 300)
    wait_for(lambda: run_json(client, run_id)["num_solutions"] > 0, 60, interval=0.2, what="a first timetable")
    asked = time.monotonic()
    assert client.post(f"/api/v1/runs/{run_id}/cancel").status_code == 202
    doc = wait_for(lambda: finished(client, run_id), 15, interval=0.05, what="the run to stop")
    assert time.monotonic() - asked < 10  # a sub-solve in flight is stopped, not waited for
    assert doc["status"] == "canceled" and doc["stats"]["stop_reason"] == "canceled"
    assert_checked(doc)


@needs_files
def test_the_page_upload_of_an_itc2021_file_solves(client, worker):
    data = {"source": "file", "problem_type": "round_robin", "format": "auto", "time_limit": "30"}
    data["file"] = (io.BytesIO(ITC_FILE.read_bytes()), "ITC2021_Early_09.xml")
    resp = client.post("/runs", data=data, content_type="multipart/form-data")
    assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:500]
    run_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    doc = wait_for(lambda: finished(client, run_id), 60, interval=0.5, what="the uploaded run to finish")
    assert doc["input_format"] == "robinx_xml" and doc["status"] == "succeeded"
    assert_checked(doc)


@needs_files
def test_a_small_traveling_tournament_reaches_its_best_known_travel(client, worker):
    run_id = submit(client, NL4, 60)
    doc = wait_for(lambda: finished(client, run_id), 75, interval=0.5, what="NL4 to finish")
    assert (doc["status"], doc["objective"]) == ("succeeded", 8276)  # best known = optimal
    assert_checked(doc)
    csv_text = client.get(f"/runs/{run_id}/download/schedule.csv").get_data(as_text=True)
    assert csv_text.splitlines()[0] == "slot,home,away,home_index,away_index" and len(csv_text.splitlines()) == 13
