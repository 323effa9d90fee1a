"""The FLOOR for bench/submit_latency.py: the least a "submit a run" endpoint can do.

One Flask endpoint, POST /floor, that parses the JSON body, INSERTs one tiny row and COMMITs (same
SQLite file kind, same engine and WAL / busy-timeout settings: `app.db.get_engine`), then enqueues one
RQ job by dotted name with a job id (same queue API as app/queueing.py), and answers 202. Served by
gunicorn with the same settings as the real app, it is what POST /api/v1/runs is compared against.

Run by the benchmark as `gunicorn ... "bench.floor_app:create_app()"`; reads DATABASE_URL and REDIS_URL.
Call `create_tables(url)` once before starting it.
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, request
from redis import Redis
from rq import Queue
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from app import db

metadata = MetaData()  # not SQLModel's: the floor table never mixes with the app's tables
floor_row = Table("floor_row", metadata, Column("id", Integer, primary_key=True), Column("name", String(200)))


def create_tables(url: str) -> None:
    metadata.create_all(db.get_engine(url))


def create_app() -> Flask:
    database_url = os.environ["DATABASE_URL"]
    queue = Queue("default", connection=Redis.from_url(os.environ["REDIS_URL"], health_check_interval=30))
    app = Flask(__name__)

    @app.post("/floor")
    def submit():
        name = str(request.get_json().get("problem_type", ""))
        with db.get_engine(database_url).begin() as conn:  # one INSERT, one COMMIT
            row_id = conn.execute(insert(floor_row).values(name=name)).inserted_primary_key[0]
        queue.enqueue("workers.jobs.solve_run", row_id, job_id=f"floor-{row_id}")
        return jsonify(id=row_id, status="queued"), 202

    return app
