"""The shift-scheduling result: roster grid with missed requests and cover marked, CSV download."""

from __future__ import annotations

import re

from app.problems.shift_scheduling import rosters
from tests.web.conftest import SHIFT_BREAKDOWN, SHIFT_INPUT, SHIFT_SOLUTION


def cell(html: str, staff: str, day: int) -> str:
    row = re.search(rf'<th scope="row" class="sticky">{staff}</th>(.*?)</tr>', html, re.S).group(1)
    return re.findall(r"<td class=\"cell[^>]*>.*?</td>", row, re.S)[day]


def test_the_grid_marks_what_was_asked_for_and_not_given():
    grid = rosters.build(SHIFT_INPUT, SHIFT_SOLUTION, SHIFT_BREAKDOWN)
    ann, bob = grid.rows
    assert [c.code for c in ann.cells] == ["D", None, "D", "D", None, "D", None]
    assert "missed-on" not in ann.cells[0].classes  # Ann got her Monday D
    assert "missed-on" in bob.cells[1].classes and bob.cells[1].cost == 2
    assert "missed-off" in bob.cells[2].classes and bob.cells[2].cost == 4
    assert "day-off" in ann.cells[6].classes
    assert (ann.shifts, ann.minutes, bob.cost) == (4, 4 * 480, 6)
    cover = dict(grid.cover)
    assert [c.state for c in cover["D"]] == ["ok", "ok", "over", "over", "ok", "ok", "under"]
    assert (cover["N"][3].state, cover["N"][3].count, cover["N"][0].state) == ("under", 0, "none")
    assert grid.counts == {"missed-on": 1, "missed-off": 1, "cover-over": 2, "cover-under": 2}


def test_the_run_page_shows_the_roster_breakdown_and_csv(client, shift_run):
    run = shift_run()
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert 'id="roster"' in html
    assert "missed-on" in cell(html, "Bob", 1) and "asked to work N" in cell(html, "Bob", 1)
    assert "missed-off" in cell(html, "Bob", 2)
    assert '<td class="cover cover-under" title="0 on shift N, 1 needed">0<span class="req">/1</span></td>' in html
    assert "Why it costs 207" in html and "day 3 (Thu), shift N" in html and "0 on N, 1 needed" in html
    assert f"/runs/{run.id}/download/roster.csv" in html
    csv = client.get(f"/runs/{run.id}/download/roster.csv")
    assert csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).splitlines() == [
        "staff,0 Mon,1 Tue,2 Wed,3 Thu,4 Fri,5 Sat,6 Sun", "Ann,D,,D,D,,D,", "Bob,,D,D,D,D,,"]


def test_a_canceled_run_with_a_solution_still_shows_its_roster(client, shift_run):
    run = shift_run("canceled")
    status = client.get(f"/runs/{run.id}/status").get_data(as_text=True)
    assert "best solution found so far" in status and 'id="roster"' not in status  # the poll stays small
    assert f'hx-get="/runs/{run.id}/result"' in status  # ...and loads the result once, separately
    html = client.get(f"/runs/{run.id}/result").get_data(as_text=True)
    assert 'id="roster"' in html and 'id="run-result"' in html
