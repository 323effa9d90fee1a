"""The home page: the submit form (demo or file) with its errors, and the live runs list."""

from __future__ import annotations

import io
import re

from sqlmodel import select

from app import db
from app.models import Run

HX = {"HX-Request": "true"}


def stored_runs(database_url) -> list[Run]:
    with db.session(database_url) as s:
        return list(s.exec(select(Run)))


def field_errors(html: str, field: str) -> list[str]:
    block = re.search(rf'<ul class="field-errors" id="{field}-errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1), re.S) if block else []


def test_home_has_the_form_and_vendored_htmx(client):
    html = client.get("/").get_data(as_text=True)
    assert '<form class="submit-form" method="post" action="/runs" enctype="multipart/form-data">' in html
    assert 'value="knapsack/tiny"' in html  # demos by problem type
    assert "/static/vendor/htmx-2.0.11.min.js" in html
    assert not re.search(r'<script[^>]+src="(https?:)?//', html), "no CDN at run time"
    assert "No runs yet" in html
    with client.get("/static/vendor/htmx-2.0.11.min.js") as js:  # `with`: the file response is closed
        assert js.status_code == 200 and js.data.startswith(b"var htmx=")


def test_submitting_a_demo_redirects_to_the_run_page(client, redis, database_url):
    resp = client.post("/runs", data={"source": "demo", "demo": "knapsack/tiny", "name": "Try me",
                                      "time_limit": "12", "priority": "high"})
    assert resp.status_code == 303
    (run,) = stored_runs(database_url)
    assert resp.headers["Location"] == f"/runs/{run.id}"
    assert (run.name, run.time_limit, run.priority, run.status) == ("Try me", 12.0, "high", "queued")
    assert redis.lrange("rq:queue:high", 0, -1) == [f"run-{run.id}".encode()]


def test_uploading_a_json_file(client, redis, database_url):
    body = b'{"capacity": 4, "items": [{"weight": 3, "value": 4}]}'
    resp = client.post("/runs", data={"source": "file", "problem_type": "knapsack", "format": "auto",
                                      "file": (io.BytesIO(body), "mine.json")}, content_type="multipart/form-data")
    assert resp.status_code == 303
    (run,) = stored_runs(database_url)
    assert run.input["capacity"] == 4 and run.input_format == "json"


def test_pasted_text_works_like_a_file(client, redis, database_url):
    resp = client.post("/runs", data={"source": "file", "problem_type": "knapsack",
                                      "input_text": '{"capacity": 1, "items": []}'})
    assert resp.status_code == 303 and len(stored_runs(database_url)) == 1


def test_a_bad_upload_shows_errors_next_to_the_field_keeps_input_and_creates_no_run(client, redis, database_url):
    body = b'{"capacity": -1, "items": [{"weight": "heavy", "value": 1}]}'
    resp = client.post("/runs", data={"source": "file", "problem_type": "knapsack", "name": "My upload",
                                      "time_limit": "45", "priority": "low",
                                      "file": (io.BytesIO(body), "bad.json")}, content_type="multipart/form-data")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    errors = field_errors(html, "input")
    assert any(e.startswith("input.capacity:") for e in errors), errors
    assert any(e.startswith("input.items[0].weight:") for e in errors), errors
    assert 'id="file" name="file"' in html and 'aria-invalid="true"' in html
    assert 'value="My upload"' in html and 'value="45"' in html
    assert '<option value="low" selected>' in html
    assert 'id="source-file" value="file" checked' in html
    assert "&#34;heavy&#34;" in html or "&quot;heavy&quot;" in html  # the file's text, back for fixing
    assert stored_runs(database_url) == [] and redis.keys("rq:queue:*") == []


def test_malformed_json_is_reported_with_its_position(client, database_url):
    resp = client.post("/runs", data={"source": "file", "problem_type": "knapsack", "format": "json",
                                      "input_text": '{"capacity": 3,'})
    assert resp.status_code == 422
    (error,) = field_errors(resp.get_data(as_text=True), "input")
    assert error.startswith("not valid JSON:") and "line 1" in error
    assert stored_runs(database_url) == []


def test_no_file_at_all(client):
    resp = client.post("/runs", data={"source": "file", "problem_type": "knapsack"})
    assert field_errors(resp.get_data(as_text=True), "input") == ["choose a file (or paste its contents)"]


def test_unknown_demo_and_bad_time_limit_are_shown_on_their_fields(client, settings, database_url):
    resp = client.post("/runs", data={"source": "demo", "demo": "knapsack/huge", "time_limit": "99999"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert field_errors(html, "demo") == ["unknown demo; known: tiny, hard"]
    assert field_errors(html, "time_limit") == [f"at most {settings.SOLVER_MAX_TIME_LIMIT:g} seconds"]
    assert "2 problems" in html
    resp = client.post("/runs", data={"source": "demo", "demo": "knapsack/tiny", "time_limit": "soon"})
    assert field_errors(resp.get_data(as_text=True), "time_limit") == ["enter a number of seconds, e.g. 30"]
    assert stored_runs(database_url) == []


def test_the_runs_list_refreshes_itself_only_while_a_run_is_active(client, make_run):
    done = make_run("succeeded", objective=12)
    html = client.get("/", headers={**HX, "HX-Target": "runs"}).get_data(as_text=True)
    assert html.startswith('<div id="runs"') and "<html" not in html  # just the fragment
    assert f'href="/runs/{done.id}"' in html and "Succeeded" in html and ">12<" in html
    assert "hx-trigger" not in html
    make_run("running")
    html = client.get("/", headers={**HX, "HX-Target": "runs"}).get_data(as_text=True)
    assert 'hx-trigger="load delay:2s"' in html


def test_the_runs_list_filters_by_status_and_pages(client, make_run):
    for _ in range(13):
        make_run("failed")
    make_run("succeeded")
    html = client.get("/?status=failed").get_data(as_text=True)
    assert "Page 1 of 2" in html and "13 runs" in html and "Succeeded" not in html.split('id="runs"')[1]
    assert '<option value="failed" selected>' in html
    page2 = client.get("/?status=failed&page=2", headers={**HX, "HX-Target": "runs"}).get_data(as_text=True)
    assert page2.count('class="run-link"') == 1 and "Page 2 of 2" in page2
    assert client.get("/?status=bogus&page=x").status_code == 200  # bad filters fall back to defaults


def test_a_file_over_the_size_limit_is_reported_on_the_form(client, database_url):
    # 312 KB: over the tests' 256 KB limit, under the 500 KB past which the test client spools the
    # body to a temp file it never closes
    big = b'{"capacity": 1, "items": [' + b'{"weight": 1, "value": 1},' * 12000 + b"]}"
    resp = client.post("/runs", data={"source": "file", "problem_type": "knapsack",
                                      "file": (io.BytesIO(big), "big.json")}, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert field_errors(resp.get_data(as_text=True), "input") == [
        "the file is larger than 0.25 MB, the most this server accepts"]
    assert stored_runs(database_url) == []
