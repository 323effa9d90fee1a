"""League scheduling end to end: the 200-team demo over the API with a real worker, a checked schedule,
its pages and downloads; a cancel mid-solve keeps the best complete schedule."""

from __future__ import annotations

import icalendar
import pytest

from app import problems
from tests.support import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def run_json(client, run_id):
    return client.get(f"/api/v1/runs/{run_id}").get_json()


def finished(client, run_id):
    doc = run_json(client, run_id)
    return doc if doc["terminal"] else None


def assert_checked(doc):
    """Re-run the independent checker on what the API returned: every game of the season, valid."""
    problem = problems.get("league_scheduling")
    check = problem.check(problem.validate(doc["input"]), doc["result"]["solution"])
    assert check.ok, check.violations[:5]
    assert check.objective == doc["objective"]
    assert sum(rule["cost"] for rule in doc["result"]["breakdown"]) == doc["objective"]


def test_the_200_team_demo_ends_succeeded_with_a_checked_schedule(client, worker):
    resp = client.post(
        "/api/v1/runs", json={"problem_type": "league_scheduling", "demo": "200_teams", "time_limit": 25, "threads": 2}
    )
    assert resp.status_code == 202, resp.get_json()
    run_id = resp.get_json()["id"]
    doc = wait_for(lambda: finished(client, run_id), 90, interval=0.25, what="the 200-team league to finish")
    assert doc["status"] == "succeeded", doc.get("error")
    assert_checked(doc)
    games = doc["result"]["solution"]["games"]
    assert len(games) == 628 and all(g["date"] for g in games)
    # The run page shows one slice of the season at a time, and the downloads are there.
    page = client.get(f"/runs/{run_id}?division=D03&team=D03T2")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Calendar of rounds" in html and "Fixtures of D03T2" in html
    assert len(html) < 600_000
    csv = client.get(f"/runs/{run_id}/download/games.csv")
    assert csv.status_code == 200 and len(csv.get_data(as_text=True).splitlines()) == 629
    ics = icalendar.Calendar.from_ical(client.get(f"/runs/{run_id}/download/league.ics").get_data())
    assert len(ics.walk("VEVENT")) == 628


def test_cancel_mid_solve_keeps_the_best_complete_schedule(client, worker):
    run_id = client.post(
        "/api/v1/runs", json={"problem_type": "league_scheduling", "demo": "200_teams", "time_limit": 120}
    ).get_json()["id"]
    wait_for(lambda: run_json(client, run_id)["num_solutions"] > 0, 60, interval=0.2, what="a first schedule")
    assert client.post(f"/api/v1/runs/{run_id}/cancel").status_code == 202
    doc = wait_for(lambda: finished(client, run_id), 20, interval=0.1, what="the cancel")
    assert doc["status"] == "canceled"
    assert doc["result"]["checked"]
    assert_checked(doc)
