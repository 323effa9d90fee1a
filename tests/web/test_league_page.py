"""The league's run page: a 200-team season renders fast and bounded, one slice at a time; bad query
arguments fall back to the first division/date/team; unplaced games are listed with their reason."""

from __future__ import annotations

import time

import pytest

from app.problems.league_scheduling import PROBLEM, construct, games, slots
from app.problems.league_scheduling.season import Calendar
from tests.web.factories import store_run


@pytest.fixture(scope="module")
def season_200():
    """The 200-team demo's greedy season (complete and valid) as a stored run's result."""
    inp = PROBLEM.demos["200_teams"]()
    cal = Calendar(inp)
    season = games.choose(inp, cal)
    plan = construct.greedy_plan(cal, season)
    solution = slots.schedule(cal, season, plan, slots.greedy(cal, season, plan))
    check = PROBLEM.check(inp, solution)
    assert check.ok, check.violations[:3]
    result = {"solution": solution, "breakdown": PROBLEM.breakdown(check), "checked": True}
    return inp.model_dump(mode="json"), result, check.objective


def stored(database_url, season):
    inp, result, objective = season
    return store_run(
        database_url,
        "succeeded",
        problem_type="league_scheduling",
        input=inp,
        result=result,
        objective=objective,
        name="200 teams",
    )


def test_a_200_team_season_page_is_bounded_and_fast(client, database_url, season_200):
    run = stored(database_url, season_200)
    client.get(f"/runs/{run.id}")  # warm the template cache
    t0 = time.perf_counter()
    resp = client.get(f"/runs/{run.id}?division=D07&team=D07T3&date=2027-03-13")
    took = time.perf_counter() - t0
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Division D07: teams × dates" in html and "Fixtures of D07T3" in html and "Venues on 2027-03-13" in html
    assert len(html) < 400_000, len(html)
    assert took < 2.0, f"{took:.2f} s"  # generous: the machine is shared


def test_bad_query_arguments_fall_back_and_downloads_are_served(client, database_url, season_200):
    run = stored(database_url, season_200)
    html = client.get(f"/runs/{run.id}?division=<x>&team=nobody&date=1999-01-01").get_data(as_text=True)
    assert "Division D01: teams × dates" in html and "Fixtures of D01T1" in html and "<x>" not in html
    for name, kind in [
        ("games.csv", "text/csv"),
        ("league.ics", "text/calendar"),
        ("teams-ics.zip", "application/zip"),
    ]:
        resp = client.get(f"/runs/{run.id}/download/{name}")
        assert resp.status_code == 200 and resp.mimetype == kind


def test_unplaced_games_are_highlighted_with_their_reason(client, database_url, season_200):
    inp, result, _ = season_200
    result = {**result, "solution": {"games": [dict(g) for g in result["solution"]["games"]]}}
    game = result["solution"]["games"][0]
    game.update(date=None, kickoff=None, venue=None, field=None)
    check = PROBLEM.check(PROBLEM.validate(inp), result["solution"])
    result["breakdown"] = PROBLEM.breakdown(check)
    run = stored(database_url, (inp, result, check.objective))
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert "1 unplaced" in html and "Unplaced games (1)" in html and "no date works" in html
