"""Accounts: signing in and out, runs that belong to their owner, API tokens made, used and revoked."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from app import db
from app.models import ApiToken
from tests.accounts import PASSWORD
from tests.web.factories import store_run


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username: str, password: str = PASSWORD, next_: str = ""):
    token = form_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": next_})


def test_visitors_are_sent_to_sign_in(anon_client):
    resp = anon_client.get("/runs/1")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=/runs/1")
    assert anon_client.get("/", headers={"HX-Request": "true"}).headers["HX-Redirect"].startswith("/login")
    assert anon_client.get("/healthz").status_code == 200  # health checks need no account


def test_the_api_wants_a_token(anon_client):
    resp = anon_client.get("/api/v1/runs")
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert resp.get_json()["error"] == "unauthorized"
    assert anon_client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny"}).status_code == 401
    bad = anon_client.get("/api/v1/runs", headers={"Authorization": "Bearer sq_not-a-token"})
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    assert anon_client.get("/api/v1/openapi.json").status_code == 200  # public: how to use the API
    assert anon_client.get("/api/v1/problem-types").status_code == 200


def test_sign_in_and_out(anon_client, user):
    assert sign_in(anon_client, "alice", "wrong password!").status_code == 401
    assert sign_in(anon_client, "nobody").status_code == 401
    resp = sign_in(anon_client, "alice", next_="/?status=failed")
    assert resp.status_code == 303 and resp.headers["Location"] == "/?status=failed"
    page = anon_client.get("/").get_data(as_text=True)
    assert "alice" in page and "Sign out" in page
    assert anon_client.post("/logout", data={"csrf_token": form_token(page)}).status_code == 303
    assert anon_client.get("/").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(anon_client, user, target):
    assert sign_in(anon_client, "alice", next_=target).headers["Location"] == "/"


def test_a_disabled_user_cannot_sign_in_or_use_tokens(app, client, database_url):
    from app.auth import accounts

    accounts.update(database_url, "alice", active=False)
    assert client.get("/api/v1/runs").status_code == 401
    assert client.get("/").status_code == 302
    assert sign_in(app.test_client(), "alice").status_code == 401


def test_another_users_run_is_not_found_from_api_and_pages(client, other_client, database_url):
    mine = store_run(
        database_url, "succeeded", name="Alice's roster", result={"solution": {}, "breakdown": []}, objective=1
    )
    queued = store_run(database_url, "queued", name="Alice's queued run")
    for path in (
        f"/api/v1/runs/{mine.id}",
        f"/runs/{mine.id}",
        f"/runs/{mine.id}/status",
        f"/runs/{mine.id}/result",
        f"/runs/{mine.id}/download/input.json",
    ):
        assert client.get(path).status_code == 200, path
        assert other_client.get(path).status_code == 404, path
    assert other_client.post(f"/api/v1/runs/{queued.id}/cancel").status_code == 404
    assert other_client.post(f"/runs/{queued.id}/cancel").status_code == 404
    assert other_client.post(f"/runs/{mine.id}/again").status_code == 404
    assert other_client.get("/api/v1/runs").get_json()["total"] == 0
    assert "Alice" not in other_client.get("/").get_data(as_text=True)
    assert client.get("/api/v1/runs").get_json()["total"] == 2


def test_admins_see_every_run(admin_client, database_url):
    store_run(database_url, "queued", name="Alice's queued run")
    assert admin_client.get("/api/v1/runs").get_json()["total"] == 1
    assert admin_client.get("/api/v1/runs/1").status_code == 200
    assert "Alice&#39;s queued run" in admin_client.get("/").get_data(as_text=True)


def test_a_submitted_run_belongs_to_its_submitter(client, other_client, redis):
    run_id = other_client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny"}).get_json()["id"]
    assert other_client.get(f"/api/v1/runs/{run_id}").status_code == 200
    assert client.get(f"/api/v1/runs/{run_id}").status_code == 404


def test_tokens_are_made_used_and_revoked_on_the_account_page(app, client, database_url, redis):
    page = client.post("/account/tokens", data={"name": "laptop"})
    assert page.status_code == 201
    token = re.search(r'id="new-token-value">([^<]+)<', page.get_data(as_text=True)).group(1)
    with db.session(database_url) as s:
        rows = s.exec(select(ApiToken).where(ApiToken.name == "laptop")).all()
    assert len(rows) == 1 and token not in rows[0].token_hash and rows[0].prefix == token[:10]  # only a hash
    assert token not in client.get("/account").get_data(as_text=True)  # shown once
    script = app.test_client()  # no cookie: only the token
    bearer = {"Authorization": f"Bearer {token}"}
    resp = script.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny"}, headers=bearer)
    assert resp.status_code == 202  # no CSRF token needed with an API token
    assert script.get("/api/v1/runs", headers=bearer).get_json()["total"] == 1
    assert client.post(f"/account/tokens/{rows[0].id}/revoke").status_code == 303
    assert script.get("/api/v1/runs", headers=bearer).status_code == 401


def test_someone_elses_token_cannot_be_revoked(client, other_client, other_user, database_url):
    from app.auth import tokens

    row, token = tokens.create(database_url, other_user.id, "bob's")
    client.post(f"/account/tokens/{row.id}/revoke")
    assert tokens.authenticate(database_url, token) is not None


def test_cli_creates_the_first_admin_and_tokens(app, database_url):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "boss", "--password", "a long password"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["users", "create", "boss", "--password", "a long password"]).exit_code != 0
    assert runner.invoke(args=["users", "create", "eve", "--password", "short"]).exit_code != 0
    made = runner.invoke(args=["tokens", "create", "boss", "ci"])
    token = made.stdout.strip().splitlines()[0]
    client = app.test_client()
    assert client.get("/api/v1/runs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    token_id = runner.invoke(args=["tokens", "list", "boss"]).output.split("\t")[0]
    assert runner.invoke(args=["tokens", "revoke", token_id]).exit_code == 0
    assert client.get("/api/v1/runs", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    limits = runner.invoke(args=["users", "limits", "alice", "--time-limit", "60", "--threads", "2"])
    assert limits.exit_code == 0 and "time limit ≤ 60" in limits.output


def test_admins_set_per_user_caps_on_the_users_page(admin_client, client, database_url, redis):
    assert client.get("/admin/users").status_code == 403
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "alice" in page and "root" in page
    resp = admin_client.post("/admin/users/alice/limits", data={"max_time_limit": "45", "max_threads": "1"})
    assert resp.status_code == 303
    over = client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny", "time_limit": 46})
    assert over.status_code == 422 and over.get_json()["errors"][0]["message"] == "at most 45 seconds"
    admin_client.post("/admin/users/alice/limits", data={"max_time_limit": "", "max_threads": ""})
    assert (
        client.post("/api/v1/runs", json={"problem_type": "knapsack", "demo": "tiny", "time_limit": 46}).status_code
        == 202
    )
    bad = admin_client.post("/admin/users/alice/limits", data={"max_time_limit": "-3"}, follow_redirects=True)
    assert "Not changed" in bad.get_data(as_text=True)
