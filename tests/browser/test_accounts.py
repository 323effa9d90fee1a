"""Accounts in a real browser: sign in, submit, see only your own runs, sign out; CSP holds (no
violation reported by the page) while htmx posts with the CSRF token."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.accounts import add_user
from tests.browser.conftest import screenshot, sign_in
from tests.web.factories import store_run

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


def test_sign_in_submit_see_only_your_runs_and_sign_out(anon_page: Page, database_url):
    bob = add_user(database_url, "bob")
    store_run(
        database_url,
        "succeeded",
        "knapsack",
        name="Bob's secret plan",
        owner_id=bob.id,
        result={"solution": {}, "breakdown": []},
        objective=3,
    )
    violations: list[str] = []
    anon_page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    anon_page.goto("/")
    expect(anon_page).to_have_url(re.compile(r"/login\?next="))
    anon_page.get_by_label("Username").fill("alice")
    anon_page.get_by_label("Password").fill("not her password")
    anon_page.get_by_role("button", name="Sign in").click()
    expect(anon_page.get_by_role("status")).to_contain_text("Wrong username or password")
    screenshot(anon_page, "sign-in-refused")
    sign_in(anon_page)
    expect(anon_page.locator(".topnav")).to_contain_text("alice")
    anon_page.get_by_label("Demo instance", exact=True).select_option("knapsack/tiny")
    anon_page.get_by_label("Name").fill("Alice's plan")
    anon_page.get_by_role("button", name="Start solving").click()
    anon_page.wait_for_url(re.compile(r"/runs/\d+$"))
    run_id = int(anon_page.url.rsplit("/", 1)[1])
    anon_page.once("dialog", lambda dialog: dialog.accept())
    anon_page.get_by_role("button", name="Cancel run").click()  # an htmx POST: needs the CSRF header
    expect(anon_page.locator("#run-live")).to_have_attribute("data-status", "canceled")
    anon_page.goto("/")
    rows = anon_page.locator("#runs tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Alice's plan")
    expect(anon_page.locator("#runs")).not_to_contain_text("Bob's secret plan")
    screenshot(anon_page, "signed-in-home")
    assert anon_page.goto("/runs/1").status == 404  # bob's run
    anon_page.get_by_role("button", name="Sign out").click()
    expect(anon_page).to_have_url(re.compile(r"/login$"))
    assert anon_page.goto(f"/runs/{run_id}").url.endswith(f"/login?next=/runs/{run_id}")
    assert violations == []


def test_tokens_from_the_account_page(page: Page):
    page.goto("/account")
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token-value").inner_text()
    assert token.startswith("sq_")
    api = page.request.get("/api/v1/runs", headers={"Authorization": f"Bearer {token}"})
    assert api.status == 200
    screenshot(page, "account-token")
    page.goto("/account")
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("Token revoked")
    assert page.request.get("/api/v1/runs", headers={"Authorization": f"Bearer {token}"}).status == 401


def test_an_admin_opens_rq_with_their_account(anon_page: Page, database_url):
    add_user(database_url, "root", is_admin=True)
    violations: list[str] = []
    anon_page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    sign_in(anon_page, "root")
    anon_page.get_by_role("link", name="Queues").click()
    expect(anon_page).to_have_url(re.compile(r"/rq/"))
    # Its own scripts (inline, and underscore templates: eval) filled the table from queues.json.
    expect(anon_page.locator("body")).to_contain_text("No queues.", timeout=15_000)
    screenshot(anon_page, "rq-dashboard")
    assert violations == []
