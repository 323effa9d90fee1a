"""The run page and its status fragment: polling while active, the result once terminal, cancel,
solve again, downloads and the friendly 404."""

from __future__ import annotations

import json

from app import db
from app.models import Run, utcnow
from tests.web.factories import add_progress

HX = {"HX-Request": "true"}


def test_a_queued_run_shows_its_queue_position_a_cancel_button_and_polls(client, redis):
    client.post("/runs", data={"source": "demo", "demo": "knapsack/tiny"})
    client.post("/runs", data={"source": "demo", "demo": "knapsack/tiny"})
    html = client.get("/runs/2").get_data(as_text=True)
    assert "<html" in html and "Queued" in html
    assert "position 2</strong> in the queue" in html
    assert 'hx-get="/runs/2/status" hx-trigger="load delay:1s" hx-swap="outerHTML"' in html
    assert 'hx-confirm="Cancel run #2?' in html and 'action="/runs/2/cancel"' in html


def test_the_fragment_is_the_same_partial_without_the_page(client, make_run, database_url):
    run = make_run("running", num_solutions=3, solver_objective=40, best_bound=10, gap=0.75)
    add_progress(database_url, run.id, [(0.5, 90, 0), (1.5, 55, 5), (2.5, 40, 10)])
    page = client.get(f"/runs/{run.id}").get_data(as_text=True)
    fragment = client.get(f"/runs/{run.id}/status", headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="run-live"') and "<html" not in fragment
    assert '<section id="run-live"' in page
    for text in ("Running", "3 solutions found so far", ">40<", ">10<", "75.0 %", "of 10.0 s time limit",
                 'class="chart"', 'hx-trigger="load delay:1s"', "Cancel run"):
        assert text in fragment, text
    assert 'class="series objective"' in fragment and 'class="series bound"' in fragment
    assert "outcome" not in fragment  # nothing of the result while running


def test_a_terminal_run_stops_polling_and_loads_its_result_once(client, make_run, database_url):
    run = make_run("succeeded", solver_status="OPTIMAL", objective=5, best_bound=5, gap=0.0,
                   result={"solution": {"take": [0, 1]}, "checked": True, "summary": {},
                           "breakdown": [{"rule": "left_behind", "label": "Value left behind", "cost": 5,
                                          "count": 1, "items": [{"rule": "left_behind", "cost": 5, "who": None,
                                                                 "day": None, "shift": None, "detail": "item 2"}]}]})
    add_progress(database_url, run.id, [(0.1, 5, 5)])
    html = client.get(f"/runs/{run.id}/status", headers=HX).get_data(as_text=True)
    assert 'hx-trigger="load delay' not in html and f'hx-get="/runs/{run.id}/status"' not in html, "polling stops"
    assert "Proved optimal" in html and "Cancel run" not in html and "Solve again" in html
    assert f"/runs/{run.id}/download/result.json" in html
    # The poll never carries the result: it loads it once, by itself.
    assert "Why it costs" not in html and f'hx-get="/runs/{run.id}/result" hx-trigger="load"' in html
    result = client.get(f"/runs/{run.id}/result", headers=HX).get_data(as_text=True)
    assert "Why it costs 5" in result and "item 2" in result
    assert '"take"' in result  # the generic JSON view for a type without its own template
    assert "Why it costs 5" in client.get(f"/runs/{run.id}").get_data(as_text=True)  # the full page has it all


def test_outcomes_in_plain_words(client, make_run):
    cases = [
        (make_run("infeasible", error="no solution satisfies every hard rule"),
         "No solution satisfies every hard rule"),
        (make_run("failed", error="ValueError: boom"), "ValueError: boom"),
        (make_run("canceled", started_at=None, wall_time=None), "Canceled before it started"),
        (make_run("succeeded", objective=7, best_bound=5, gap=0.29, result={"solution": {}, "breakdown": []}),
         "Best found within the time limit"),
    ]
    for run, words in cases:
        assert words in client.get(f"/runs/{run.id}").get_data(as_text=True), words


def test_unknown_run_gets_a_friendly_404_and_the_api_keeps_json(client):
    resp = client.get("/runs/4242")
    assert resp.status_code == 404
    html = resp.get_data(as_text=True)
    assert "Run not found" in html and "There is no run 4242" in html and "Back to runs" in html
    assert client.get("/runs/4242/status").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    api = client.get("/api/v1/runs/4242")
    assert api.status_code == 404 and api.get_json()["error"] == "not_found"
    assert client.get("/api/v1/nothing").get_json()["error"] == "not_found"


def test_cancel_without_js_redirects_back(client, redis, database_url):
    client.post("/runs", data={"source": "demo", "demo": "knapsack/tiny"})
    resp = client.post("/runs/1/cancel")
    assert resp.status_code == 303 and resp.headers["Location"] == "/runs/1"
    with db.session(database_url) as s:
        assert s.get(Run, 1).status == "canceled"
    assert "Canceled before it started" in client.get("/runs/1").get_data(as_text=True)


def test_cancel_with_htmx_swaps_in_the_fragment(client, redis):
    client.post("/runs", data={"source": "demo", "demo": "knapsack/tiny"})
    html = client.post("/runs/1/cancel", headers=HX).get_data(as_text=True)
    assert html.lstrip().startswith('<section id="run-live"') and "Canceled" in html and "hx-trigger" not in html


def test_cancel_a_finished_run_says_so(client, make_run):
    run = make_run("succeeded", result={"solution": {}, "breakdown": []}, objective=1)
    resp = client.post(f"/runs/{run.id}/cancel", follow_redirects=True)
    assert "already finished" in resp.get_data(as_text=True)


def test_solve_again_submits_the_same_input_with_a_longer_time_limit(client, redis, make_run, database_url):
    run = make_run("succeeded", input={"capacity": 9, "items": [{"weight": 1, "value": 1}]}, time_limit=15,
                   result={"solution": {"take": [0]}, "breakdown": []}, objective=0, stats={"seed": 3})
    assert 'name="time_limit" min="1" step="any" inputmode="decimal"\n               value="30"' in \
        client.get(f"/runs/{run.id}").get_data(as_text=True)
    resp = client.post(f"/runs/{run.id}/again", data={"time_limit": "60"})
    assert resp.status_code == 303
    new_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    with db.session(database_url) as s:
        new = s.get(Run, new_id)
    assert (new.input["capacity"], new.time_limit, new.stats["seed"], new.name) == (9, 60, 3, "succeeded run (again)")
    bad = client.post(f"/runs/{run.id}/again", data={"time_limit": "1e9"}, follow_redirects=True)
    assert "Could not solve again" in bad.get_data(as_text=True)


def test_downloads(client, make_run):
    queued = make_run("queued", input={"capacity": 2, "items": []})
    resp = client.get(f"/runs/{queued.id}/download/input.json")
    assert resp.status_code == 200 and json.loads(resp.data) == {"capacity": 2, "items": []}
    assert resp.headers["Content-Disposition"] == f'attachment; filename="run-{queued.id}-input.json"'
    assert client.get(f"/runs/{queued.id}/download/result.json").status_code == 404  # not finished yet
    done = make_run("succeeded", result={"solution": {"take": []}, "breakdown": []}, objective=0)
    doc = client.get(f"/runs/{done.id}/download/result.json").get_json()
    assert doc["status"] == "succeeded" and doc["result"]["solution"] == {"take": []} and "input" not in doc
    assert client.get(f"/runs/{done.id}/download/roster.csv").status_code == 404  # knapsack has no roster


def test_a_run_asked_to_stop_says_so_and_offers_no_second_cancel(client, make_run):
    run = make_run("running", cancel_requested_at=utcnow())
    html = client.get(f"/runs/{run.id}/status", headers=HX).get_data(as_text=True)
    assert "Stopping — the best solution found so far will be kept" in html
    assert 'id="cancel-stopping" type="button" disabled' in html and "cancel-form" not in html
    assert 'hx-trigger="load delay:1s"' in html  # still polling until the worker has stopped


def test_pages_say_how_long_the_app_took(client, make_run):
    run = make_run("running")
    timing = client.get(f"/runs/{run.id}/status").headers["Server-Timing"]
    assert timing.startswith("app;dur=") and float(timing.split("=")[1]) > 0
