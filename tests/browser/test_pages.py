"""The HTMX flow in a real headless Chromium: submit from the home page, watch the run live, see the
roster without a reload; cancel from the page; a bad upload shows its errors and starts nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import func, select

from app import db
from app.models import Run, utcnow
from tests.browser.conftest import screenshot, sign_in
from tests.web.factories import store_run, update_run

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


def mark_page(page: Page) -> None:
    """A flag that only survives as long as this document does: gone after any reload or navigation."""
    page.evaluate("window.__sameDocument = true")


def same_document(page: Page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def submit_demo(page: Page, demo: str, time_limit: str, name: str = "") -> int:
    page.goto("/")
    page.get_by_label("Demo instance", exact=True).select_option(demo)
    if name:
        page.get_by_label("Name").fill(name)
    page.get_by_label("Time limit").fill(time_limit)
    page.get_by_role("button", name="Start solving").click()
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def chart_path(page: Page) -> str:
    return page.locator("#run-live .chart path.objective").get_attribute("d") or ""


def test_submit_a_demo_and_watch_it_solve_live(page: Page, worker):
    run_id = submit_demo(page, "shift_scheduling/medium", "8", name="Medium roster")
    mark_page(page)
    expect(page.locator("#run-live .badge")).to_have_text(re.compile("Queued|Running"))
    # Running: the progress bar and the chart grow with each poll.
    expect(page.locator("#run-live .badge")).to_have_text("Running", timeout=30_000)
    expect(page.locator("#run-live .chart path.objective")).to_be_visible(timeout=15_000)
    first = chart_path(page)
    page.wait_for_function("d => { const p = document.querySelector('#run-live .chart path.objective');"
                           " return p && p.getAttribute('d') !== d }", arg=first, timeout=10_000)
    assert page.locator("#objective").inner_text() != "—"
    screenshot(page, "run-running")
    # Finished: the fragment swaps in the outcome and the roster, polling stops, no reload happened.
    expect(page.locator("#run-live")).to_have_attribute("data-status", "succeeded", timeout=40_000)
    expect(page.locator("#roster")).to_be_visible()
    expect(page.locator("#outcome")).to_contain_text(re.compile("Optimal|Best found within the time limit"))
    expect(page.locator("#breakdown-title")).to_contain_text("Why it costs")
    assert page.locator("#run-live").get_attribute("hx-trigger") is None
    assert same_document(page), "the page reloaded"
    assert page.locator("#roster tbody tr").count() > 0
    screenshot(page, "run-finished")
    page.goto("/")
    expect(page.locator(f'#runs a[href="/runs/{run_id}"]')).to_have_text("Medium roster")


def test_cancel_a_running_solve_from_the_page(page: Page, worker, database_url):
    run_id = submit_demo(page, "knapsack/hard", "120")
    mark_page(page)
    expect(page.locator("#run-live .badge")).to_have_text("Running", timeout=30_000)
    expect(page.locator("#run-live .chart")).to_be_visible(timeout=15_000)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel run").click()
    expect(page.locator("#run-live")).to_have_attribute("data-status", "canceled", timeout=30_000)
    expect(page.locator("#outcome")).to_contain_text("best solution found so far")
    assert same_document(page)
    with db.session(database_url) as s:
        run = s.get(Run, run_id)
    assert run.status == "canceled" and run.result is not None


def test_keyboard_focus_survives_polling_and_dismissing_keeps_the_run(page: Page, database_url):
    run_id = submit_demo(page, "knapsack/tiny", "5")  # no worker: it stays queued and the page keeps polling
    button = page.get_by_role("button", name="Cancel run")
    button.focus()
    with page.expect_response(re.compile(r"/status$")):  # a poll swaps the whole status card...
        pass
    with page.expect_response(re.compile(r"/status$")):
        pass
    assert page.evaluate("document.activeElement.id") == "cancel-run"  # ...and focus stays on the button
    # Enter right after a poll's swap still asks first (the form is preserved, not re-created).
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.keyboard.press("Enter")
    with page.expect_response(re.compile(r"/status$")):
        pass
    assert dialogs and dialogs[0].startswith(f"Cancel run #{run_id}?")
    with db.session(database_url) as s:
        assert s.get(Run, run_id).status == "queued"


def test_submit_and_cancel_work_without_javascript(chromium, live_server, database_url):
    context = chromium.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page)
        run_id = submit_demo(page, "knapsack/tiny", "5")
        expect(page.locator("#run-live .badge")).to_have_text("Queued")
        page.get_by_role("button", name="Cancel run").click()  # a plain POST, then a redirect back
        page.wait_for_url(f"**/runs/{run_id}")
        expect(page.locator("#run-live .badge")).to_have_text("Canceled")
        expect(page.locator("#outcome")).to_contain_text("Canceled before it started")
    finally:
        context.close()


def test_a_bad_upload_shows_errors_and_creates_no_run(page: Page, database_url, tmp_path):
    bad = tmp_path / "roster.json"
    bad.write_text('{"horizon_days": 0, "shifts": [], "staff": [{"id": "A"}]}')
    page.goto("/")
    page.get_by_text("Your file").click()
    page.get_by_label("Problem type").select_option("shift_scheduling")
    page.get_by_label("Name").fill("Broken file")
    page.locator("#file").set_input_files(str(bad))
    page.get_by_role("button", name="Start solving").click()
    errors = page.locator("#input-errors")
    expect(errors).to_contain_text("input.horizon_days")
    expect(errors).to_contain_text("input.shifts")
    expect(page.get_by_role("alert")).to_contain_text("nothing was started")
    expect(page.get_by_label("Name")).to_have_value("Broken file")
    expect(page.locator("#input_text")).to_have_value(re.compile('"horizon_days": 0'))
    expect(page.locator("#file")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "home-upload-errors")
    with db.session(database_url) as s:
        assert s.exec(select(func.count()).select_from(Run)).one() == 0


def test_the_runs_list_updates_in_place_while_a_run_is_active(page: Page, database_url):
    store_run(database_url, "succeeded", "shift_scheduling", name="Ward 3, March", objective=1038, wall_time=30)
    store_run(database_url, "failed", "shift_scheduling", name="Old import", error="boom", wall_time=0.4)
    store_run(database_url, "canceled", "shift_scheduling", name="Trial, long limit", objective=2315, wall_time=12)
    store_run(database_url, "infeasible", "shift_scheduling", name="Too few nurses", wall_time=1.2)
    queued = store_run(database_url, "queued", "shift_scheduling", name="Ward 5, April")
    running = store_run(database_url, "running", "shift_scheduling", name="Ward 4, April", solver_objective=1480)
    page.goto("/")
    mark_page(page)
    rows = page.locator("#runs tbody tr")
    expect(rows).to_have_count(6)
    expect(rows.nth(0)).to_contain_text("Running")
    screenshot(page, "home")
    update_run(database_url, running.id, status="succeeded", objective=1212, wall_time=30.0, finished_at=utcnow())
    update_run(database_url, queued.id, status="canceled", finished_at=utcnow())
    expect(rows.nth(0)).to_contain_text("Succeeded", timeout=10_000)
    expect(rows.nth(0)).to_contain_text("1,212")
    # Nothing active any more: the list stops polling itself.
    expect(page.locator("#runs")).not_to_have_attribute("hx-trigger", re.compile("."), timeout=10_000)
    page.get_by_label("Show").select_option("failed")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Old import")
    assert same_document(page) and page.url.endswith("/?status=failed")
