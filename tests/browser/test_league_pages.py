"""The league in a real headless Chromium: submit the medium demo from the home page, watch it improve,
read the calendar, pick a date and a team, and download the .ics and the CSV."""

from __future__ import annotations

import re

import icalendar
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_pages import chart_path, mark_page, same_document, submit_demo

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


def test_submit_the_medium_league_watch_it_improve_and_read_the_calendar(page: Page, worker, tmp_path):
    assert page.goto("/").ok
    assert page.locator('#demo option[value="league_scheduling/200_teams"]').count() == 1
    run_id = submit_demo(page, "league_scheduling/medium", "30", name="Club league")
    mark_page(page)
    expect(page.locator("#run-live .badge")).to_have_text("Running", timeout=30_000)
    expect(page.locator("#run-live .chart path.objective")).to_be_visible(timeout=20_000)
    first = chart_path(page)
    page.wait_for_function("d => { const p = document.querySelector('#run-live .chart path.objective');"
                           " return p && p.getAttribute('d') !== d }", arg=first, timeout=30_000)
    screenshot(page, "league-running")
    expect(page.locator("#run-live")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    assert same_document(page), "the page reloaded"
    expect(page.locator("#league-rounds")).to_be_visible()
    assert page.locator("#league-rounds tbody tr").count() > 10
    expect(page.locator(".league-grid tbody tr")).to_have_count(6)  # division A: six teams
    screenshot(page, "league-finished")

    # Another date and team: the venue day and the fixture list follow the query.
    page.locator(".league-pick select[name=team]").select_option("B3")
    date = page.locator(".league-pick select[name=date] option").nth(3).inner_text()
    page.locator(".league-pick select[name=date]").select_option(date)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(rf"/runs/{run_id}\?.*team=B3"))
    expect(page.locator("#league-fixtures")).to_have_text("Fixtures of B3")
    assert page.locator(".league-fixtures tbody tr").count() >= 10
    expect(page.locator("#league-venues")).to_contain_text(date)
    screenshot(page, "league-team-and-date")

    with page.expect_download() as ics:
        page.get_by_role("link", name="League calendar (.ics)").click()
    path = tmp_path / "league.ics"
    ics.value.save_as(path)
    events = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    with page.expect_download() as csv:
        page.get_by_role("link", name="Games (CSV)").click()
    rows = csv.value.path().read_text().splitlines()
    assert rows[0] == "id,division,date,kickoff,venue,field,home,away"
    assert len(events) == sum(1 for r in rows[1:] if r.split(",")[2])
