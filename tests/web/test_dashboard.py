"""rq-dashboard at /rq: admins reach it with their own account; others get 403, visitors sign in first."""

from __future__ import annotations

import pytest


def test_admins_reach_rq_with_their_account(admin_client, redis):
    ok = admin_client.get("/rq/")
    assert ok.status_code == 200 and b"RQ" in ok.data
    assert admin_client.get("/rq/0/data/queues.json").status_code == 200


def test_visitors_are_sent_to_sign_in_and_users_are_refused(anon_client, client, redis):
    resp = anon_client.get("/rq/")
    assert resp.status_code == 302 and "/login?next=" in resp.headers["Location"]
    assert anon_client.get("/rq").status_code == 302
    assert client.get("/rq/").status_code == 403
    assert "/rq/" not in client.get("/").get_data(as_text=True)  # no header link for them either


@pytest.mark.parametrize("method,path", [("GET", "/rq/requeue/default"), ("HEAD", "/rq/requeue/default"),
                                         ("POST", "/rq/requeue/default"), ("POST", "/rq/job/run-1/delete"),
                                         ("POST", "/rq/queue/default/queued/empty"),
                                         ("GET", "/rq/0/data/workers.json"), ("GET", "/rq/static/css/main.css")])
def test_no_dashboard_route_is_reachable_without_an_admin(anon_client, client, redis, method, path):
    with anon_client.open(path, method=method) as resp:
        assert resp.status_code == 302
    with client.open(path, method=method) as resp:
        assert resp.status_code == 403


def test_the_header_links_to_rq_for_admins(admin_client, redis):
    assert 'href="/rq/"' in admin_client.get("/").get_data(as_text=True)


def test_changes_must_come_from_the_dashboard_itself(admin_client, redis):
    assert admin_client.get("/rq/requeue/default").status_code == 405  # its UI POSTs
    assert admin_client.head("/rq/requeue/default").status_code == 405  # HEAD runs the GET view otherwise
    assert admin_client.post("/rq/requeue/default", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert admin_client.post("/rq/job/run-1/delete", headers={"Origin": "https://evil.example"}).status_code == 403
    ok = admin_client.post("/rq/requeue/default", headers={"Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200
