"""The round-robin result page: the team x slot grid with breaks and charged games, and its downloads."""

from __future__ import annotations

from app import problems
from app.problems.round_robin.robinx import import_solution
from tests.unit.robin_timetable import ALL_SLOTS, GAMES, league
from tests.web.factories import store_run


def finished_league_run(database_url):
    problem = problems.get("round_robin")
    inp = league({"constraint": "BR1", "teams": [1], "slots": ALL_SLOTS, "intp": 1, "penalty": 3})
    check = problem.check(inp, {"games": GAMES})
    result = {"solution": {"games": GAMES}, "breakdown": problem.breakdown(check), "checked": True}
    return store_run(
        database_url, "succeeded", "round_robin", input=inp.model_dump(), result=result, objective=check.objective
    )


def test_the_grid_shows_opponents_venues_breaks_and_charged_games(client, database_url):
    run = finished_league_run(database_url)
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert 'id="timetable"' in html
    assert html.count('class="cell tt-') == 4 * 6
    assert "break (6)" in html  # teams 1 and 2 have three breaks each
    assert html.count("tt-charged") == 3 + 1  # team 1's breaks in slots 1, 3, 4 (and the legend)
    assert 'title="B, slot 3: home against A; break; #0 BR1 (soft)"' in html
    assert "slots 1, 3, 4" in html  # the breakdown says when


def test_downloads_are_robinx_xml_and_csv(client, database_url):
    run = finished_league_run(database_url)
    xml = client.get(f"/runs/{run.id}/download/solution.xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    solution, objective = import_solution(xml.get_data(as_text=True))
    assert sorted(solution["games"]) == sorted(GAMES) and objective == 6
    lines = client.get(f"/runs/{run.id}/download/schedule.csv").get_data(as_text=True).splitlines()
    assert lines[:2] == ["slot,home,away,home_index,away_index", "0,A,B,0,1"] and len(lines) == 13


def test_a_bad_robinx_file_over_the_api_is_a_422_naming_what_is_unsupported(client):
    text = '<Instance><Resources><Teams><team id="0"/><team id="1"/></Teams><Slots><slot id="0"/><slot id="1"/>'
    text += '</Slots></Resources><Constraints><X><CA9 type="HARD"/></X></Constraints></Instance>'
    body = {"problem_type": "round_robin", "format": "robinx_xml", "input": text}
    resp = client.post("/api/v1/runs", json=body)
    assert resp.status_code == 422
    [error] = resp.get_json()["errors"]
    assert error["path"].endswith("Constraints.X.CA9") and "CA9 is not supported" in error["message"]
    resp = client.post("/api/v1/runs", json={**body, "input": "<!DOCTYPE x [<!ENTITY a 'b'>]><Instance>&a;</Instance>"})
    assert resp.status_code == 422 and "unsafe XML" in resp.get_json()["errors"][0]["message"]
