"""The round-robin timetable in a real headless Chromium (screenshot in test-artifacts/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.web.test_round_robin_page import finished_league_run

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


def test_the_timetable_grid_renders(page: Page, database_url):
    run = finished_league_run(database_url)
    page.goto(f"/runs/{run.id}")
    expect(page.locator("#timetable tbody tr")).to_have_count(4)
    expect(page.locator("#timetable td.tt-charged")).to_have_count(3)
    screenshot(page, "round-robin-result")
