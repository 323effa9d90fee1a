"""CSRF: a signed-in browser's cookie is not enough to change anything; the page's token must come too.
Token-authenticated API calls are exempt (another site cannot make a browser send that header)."""

from __future__ import annotations

from sqlmodel import func, select

from app import db
from app.models import Run
from tests.accounts import signed_in
from tests.web.factories import store_run

DEMO = {"source": "demo", "demo": "knapsack/tiny", "time_limit": "5"}


def runs_stored(database_url) -> int:
    with db.session(database_url) as s:
        return s.exec(select(func.count()).select_from(Run)).one()


def test_a_cross_origin_form_post_is_refused(app, user, database_url, redis):
    browser = signed_in(app, user, with_token=False, csrf=False)  # the cookie goes along; the token cannot
    resp = browser.post("/runs", data=DEMO, headers={"Origin": "https://evil.example"})
    assert resp.status_code == 400 and "came from another site" in resp.get_data(as_text=True)
    queued = store_run(database_url, "queued")
    assert browser.post(f"/runs/{queued.id}/cancel").status_code == 400
    assert browser.post(f"/runs/{queued.id}/again", data={"time_limit": "3600"}).status_code == 400
    assert browser.post("/account/tokens", data={"name": "stolen"}).status_code == 400
    assert browser.post("/logout").status_code == 400
    assert runs_stored(database_url) == 1


def test_an_htmx_post_without_the_token_is_refused(app, user, database_url, redis):
    browser = signed_in(app, user, with_token=False, csrf=False)
    queued = store_run(database_url, "queued")
    resp = browser.post(f"/runs/{queued.id}/cancel", headers={"HX-Request": "true"})
    assert resp.status_code == 400
    with db.session(database_url) as s:
        assert s.get(Run, queued.id).status == "queued"
    # With the token the page gives htmx (hx-headers on <body>), the same request goes through.
    page = browser.get(f"/runs/{queued.id}").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    ok = signed_in(app, user, with_token=False).post(f"/runs/{queued.id}/cancel", headers={"HX-Request": "true"})
    assert ok.status_code == 200 and "Canceled" in ok.get_data(as_text=True)


def test_cookie_sessions_on_the_api_need_the_token_too(app, user, database_url, redis):
    browser = signed_in(app, user, with_token=False, csrf=False)
    queued = store_run(database_url, "queued")
    resp = browser.post(f"/api/v1/runs/{queued.id}/cancel")  # the body-less cancel
    assert resp.status_code == 400 and resp.get_json()["error"] == "csrf_failed"
    assert browser.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny"}).status_code == 400
    assert browser.get("/api/v1/runs").status_code == 200  # reading needs no token
    assert runs_stored(database_url) == 1


def test_api_tokens_need_no_csrf_token(app, user, redis):
    script = signed_in(app, user, csrf=False)
    assert script.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny"}).status_code == 202


def test_the_sign_in_form_has_its_token_too(anon_client, user):
    resp = anon_client.post("/login", data={"username": "alice", "password": "correct horse battery staple"})
    assert resp.status_code == 400
