"""Your own CP-SAT model in the browser: a demo model solved live, then its values searched in place."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_pages import mark_page, same_document, submit_demo

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


def test_a_model_run_shows_its_size_and_searchable_values(page: Page, worker):
    submit_demo(page, "cpsat_model/job_shop_hard", "4", name="Job-shop 15x10")
    expect(page.locator("#run-live")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect(page.locator("#model-size")).to_contain_text("301 variables · 296 constraints · minimise the objective")
    expect(page.locator("#values tbody tr")).to_have_count(50)
    screenshot(page, "cpsat-model-run")

    mark_page(page)
    page.get_by_label("Variable name contains").fill("end_3_")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#values tbody tr")).to_have_count(10)
    expect(page).to_have_url(re.compile(r"\?q=end_3_$"))
    assert same_document(page), "the search swaps the values in place"
    page.get_by_role("link", name="Solution (CSV)").is_visible()
    screenshot(page, "cpsat-model-search")
