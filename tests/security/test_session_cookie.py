"""The session cookie belongs to browsers: a request with an API token (Authorization: Bearer) neither
creates nor changes one, even on a page that renders a CSRF token; a browser signs in through the
form, gets its cookie once, and its 1 s status polls leave it as it is."""

from __future__ import annotations

import pytest

from app.auth import tokens
from tests.security.test_accounts import form_token, sign_in
from tests.web.factories import store_run

HX = {"HX-Request": "true"}


@pytest.fixture
def bearer(database_url, user) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create(database_url, user.id, 'script')[1]}"}


def pages(run_id: int) -> list[tuple[str, dict[str, str]]]:
    # Each renders csrf_token(): the page (hx-headers, the submit form), the account page, a running
    # run's page and its status fragment (the cancel form).
    return [("/", {}), ("/account", {}), (f"/runs/{run_id}", {}), (f"/runs/{run_id}/status", HX)]


def test_token_requests_get_no_session_cookie(anon_client, bearer, database_url):
    run = store_run(database_url, "running")
    for path, headers in pages(run.id):
        resp = anon_client.get(path, headers={**bearer, **headers})
        assert resp.status_code == 200, path
        assert "Set-Cookie" not in resp.headers, path
    assert 'id="run-live"' in resp.get_data(as_text=True)  # the fragment itself, as the token's user
    assert anon_client.get_cookie("session") is None


def test_a_token_request_leaves_a_browsers_cookie_alone(anon_client, other_user, bearer, database_url):
    # bob's browser, and a request that brings alice's token as well: the token decides, the cookie stays.
    run = store_run(database_url, "running")  # alice's
    assert sign_in(anon_client, "bob").status_code == 303
    cookie = anon_client.get_cookie("session").value
    resp = anon_client.get(f"/runs/{run.id}/status", headers={**bearer, **HX})
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers
    assert anon_client.get_cookie("session").value == cookie
    assert anon_client.get(f"/runs/{run.id}/status", headers=HX).status_code == 404  # bob again: not his run


def test_a_browser_signs_in_once_and_polls_on_its_cookie(anon_client, user, database_url):
    run = store_run(database_url, "running")
    login = anon_client.get("/login")
    assert "Set-Cookie" in login.headers  # the form's CSRF token lives in the new session
    resp = anon_client.post("/login", data={"username": "alice", "password": "correct horse battery staple",
                                            "csrf_token": form_token(login.get_data(as_text=True))})
    assert resp.status_code == 303 and "Set-Cookie" in resp.headers  # now signed in
    page = anon_client.get(f"/runs/{run.id}")
    assert page.status_code == 200 and "alice" in page.get_data(as_text=True)
    for _ in range(3):
        poll = anon_client.get(f"/runs/{run.id}/status", headers=HX)
        assert poll.status_code == 200 and 'id="run-live"' in poll.get_data(as_text=True)
        assert "Set-Cookie" not in poll.headers  # nothing in the session changes between polls
