"""The run page's solver log panel: the stored log, following a running solve, the download."""

from __future__ import annotations

from app import db, solver_logs


def write_log(database_url: str, run_id: int, *texts: str, attempt: int = 1) -> None:
    writer = solver_logs.Writer(database_url, run_id, attempt, limit=10**6)  # one writer per attempt
    with db.write(database_url) as conn:
        for text in texts:
            writer.append(conn, text)


def test_a_running_solve_s_panel_follows_the_log(client, make_run, database_url):
    run = make_run("running")
    write_log(database_url, run.id, "Starting CP-SAT solver v9.15\n", "#1 0.01s best:12 <next>\n")
    page = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert '<details class="card log-card" id="solver-log">' in page
    assert "#1 0.01s best:12 &lt;next&gt;" in page  # escaped
    assert f'hx-get="/runs/{run.id}/log?after=1"' in page
    write_log(database_url, run.id, "#2 0.50s best:10\n", attempt=2)
    more = client.get(f"/runs/{run.id}/log?after=1").get_data(as_text=True)
    assert more.startswith("#2 0.50s best:10\n") and f"/runs/{run.id}/log?after=2" in more


def test_a_finished_run_s_log_stops_following_and_downloads(client, make_run, database_url):
    run = make_run("succeeded")
    write_log(database_url, run.id, "Starting CP-SAT solver\n", "CpSolverResponse summary:\nstatus: OPTIMAL\n")
    fragment = client.get(f"/runs/{run.id}/log?after=0").get_data(as_text=True)
    assert fragment == "CpSolverResponse summary:\nstatus: OPTIMAL\n"  # no poller: the panel stops
    download = client.get(f"/runs/{run.id}/solver.log")
    assert download.headers["Content-Disposition"] == f'attachment; filename="run-{run.id}-solver.log"'
    assert download.get_data(as_text=True) == "Starting CP-SAT solver\nCpSolverResponse summary:\nstatus: OPTIMAL\n"
    assert client.get(f"/api/v1/runs/{run.id}/log").get_data(as_text=True) == download.get_data(as_text=True)


def test_no_log_and_unknown_runs(client, make_run):
    run = make_run("canceled")
    assert "No log was recorded for this run." in client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert client.get("/runs/999/log").status_code == 404
    assert client.get("/runs/999/solver.log").status_code == 404
    assert client.get("/api/v1/runs/999/log").status_code == 404
    assert client.get(f"/runs/{run.id}/log?after=99999999999999999999").status_code == 200
