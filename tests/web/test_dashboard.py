"""rq-dashboard at /rq: admin credentials from configuration, 401 otherwise (no password = closed)."""

from __future__ import annotations

import base64

import pytest


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_rq_needs_credentials(admin_app, redis):
    client = admin_app.test_client()
    resp = client.get("/rq/")
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Basic")
    assert client.get("/rq").status_code == 401
    assert client.get("/rq/", headers=basic("boss", "wrong")).status_code == 401
    ok = client.get("/rq/", headers=basic("boss", "s3cret"))
    assert ok.status_code == 200 and b"RQ" in ok.data
    assert client.get("/rq/0/data/queues.json", headers=basic("boss", "s3cret")).status_code == 200


@pytest.mark.parametrize("method,path", [("GET", "/rq/requeue/default"), ("POST", "/rq/requeue/default"),
                                         ("POST", "/rq/job/run-1/delete"), ("POST", "/rq/queue/default/queued/empty"),
                                         ("GET", "/rq/0/data/workers.json"), ("GET", "/rq/static/css/main.css")])
def test_no_dashboard_route_is_reachable_without_credentials(admin_app, redis, method, path):
    with admin_app.test_client().open(path, method=method) as resp:
        assert resp.status_code == 401


def test_without_a_configured_password_rq_is_always_closed(client, redis):
    assert client.get("/rq/", headers=basic("admin", "")).status_code == 401
    assert "/rq/" not in client.get("/").get_data(as_text=True)  # no header link either


def test_the_header_links_to_rq_for_admins(admin_app, redis):
    assert 'href="/rq/"' in admin_app.test_client().get("/").get_data(as_text=True)


def test_changes_must_come_from_the_dashboard_itself(admin_app, redis):
    client, creds = admin_app.test_client(), basic("boss", "s3cret")
    assert client.get("/rq/requeue/default", headers=creds).status_code == 405  # its UI POSTs
    evil = {**creds, "Sec-Fetch-Site": "cross-site"}
    assert client.post("/rq/requeue/default", headers=evil).status_code == 403
    assert client.post("/rq/job/run-1/delete", headers={**creds, "Origin": "https://evil.example"}).status_code == 403
    ok = client.post("/rq/requeue/default", headers={**creds, "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200
