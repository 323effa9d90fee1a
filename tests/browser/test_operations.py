"""The operators' views in a real Chromium: the workers page while a solve runs (it follows the
worker from busy to idle without a reload), and the run page's solver log following a live solve."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.accounts import admin_headers
from tests.browser.conftest import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]
HARD = {"problem_type": "knapsack", "demo": "hard", "time_limit": 40, "threads": 1, "name": "Hard knapsack"}


@pytest.fixture
def admin_page(anon_page, database_url):
    """Signed in through the form as the admin root; `page.token` sends API calls with root's token."""
    anon_page.auth = admin_headers(database_url)  # makes root, an admin, and a token of theirs
    sign_in(anon_page, "root")
    return anon_page


def submit(page, **changes) -> int:
    resp = page.request.post("/api/v1/runs", data={**HARD, **changes}, headers=page.auth)
    assert resp.status == 202, resp.text()
    return resp.json()["id"]


def test_the_workers_page_shows_the_run_being_solved(admin_page, worker):
    page = admin_page
    run_id = submit(page)
    queued_id = submit(page, name="Waiting knapsack")
    page.goto("/")
    page.get_by_role("link", name="Workers").click()
    expect(page.get_by_role("heading", name="Workers and queues")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    row = page.locator("#workers-table tbody tr")
    expect(row).to_have_count(1)
    expect(row.get_by_role("link", name=re.compile(f"#{run_id} Hard knapsack"))).to_be_visible(timeout=30_000)
    expect(row.locator(".state")).to_have_text("busy")
    expect(row).to_contain_text("work horse pid")
    expect(page.locator("#queue-default .queue-depth")).to_have_text("1")
    expect(page.locator("#queue-default")).to_contain_text(f"#{queued_id} Waiting knapsack")
    screenshot(page, "workers-busy")
    # Cancel both; the page follows (htmx polling) to an idle worker and empty queues.
    page.request.post(f"/api/v1/runs/{queued_id}/cancel", headers=page.auth)
    page.request.post(f"/api/v1/runs/{run_id}/cancel", headers=page.auth)
    expect(row.locator(".state")).to_have_text("idle", timeout=20_000)
    expect(page.locator("#queue-default")).to_contain_text("Nothing running.")
    expect(row.locator("td").nth(6)).to_have_text("1")  # jobs done
    assert page.evaluate("window.__sameDocument === true")
    screenshot(page, "workers-idle")


def test_the_workers_page_is_for_admins(page, live_server):
    assert page.request.get("/workers").status == 403  # alice is signed in, but no admin
    assert page.request.get("/api/v1/workers").status == 403
    page.goto("/")
    expect(page.get_by_role("link", name="Workers")).to_have_count(0)  # the link is for admins only


def test_the_solver_log_follows_the_live_solve(admin_page, worker):
    page = admin_page
    run_id = submit(page, time_limit=6)
    page.goto(f"/runs/{run_id}")
    log = page.locator("#solver-log-text")
    page.locator("#solver-log summary").click()
    expect(log).to_contain_text("Starting CP-SAT solver", timeout=30_000)
    expect(page.locator("#run-live")).to_have_attribute("data-status", "running")
    before = len(log.inner_text())
    page.wait_for_function(
        "n => document.querySelector('#solver-log-text').innerText.length > n", arg=before, timeout=15_000
    )
    screenshot(page, "solver-log-live")
    expect(page.locator("#run-live")).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(log).to_contain_text("CpSolverResponse summary", timeout=10_000)
    expect(page.locator("#solver-log-text .log-poller")).to_have_count(0)  # polling stopped
    downloaded = page.request.get(page.locator("#download-log").get_attribute("href"))
    assert downloaded.text() == log.inner_text()
