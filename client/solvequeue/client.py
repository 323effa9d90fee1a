"""The HTTP side: submit runs, read them, cancel them (standard library only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from ortools.sat import cp_model_pb2
from ortools.sat.python import cp_model

from solvequeue import encoding
from solvequeue.errors import BY_STATUS, SolveQueueError
from solvequeue.run import Run


class Client:
    """A SolveQueue server at `url`, e.g. Client("http://127.0.0.1:5000").

    `token` is sent as `Authorization: Bearer <token>` (for servers that require API tokens).
    """

    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0):
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def submit(
        self,
        model: cp_model.CpModel | cp_model_pb2.CpModelProto,
        time_limit: float | None = 60,
        *,
        variables: list[str] | None = None,
        parameters: dict[str, Any] | None = None,
        model_format: str = "base64",
        **options: Any,
    ) -> Run:
        """Solve a CP-SAT model on the server; returns the queued Run at once.

        `variables`: names whose values the result returns (default: every named variable);
        `parameters`: CP-SAT parameters from the server's allow-list, e.g. {"relative_gap_limit": 0.01};
        `options`: name, priority ("high" | "default" | "low"), threads, seed.
        """
        body = _submission("cpsat_model", _model_input(model, variables, parameters, model_format), None,
                           time_limit, options)
        run = Run(self, self.request("POST", "/api/v1/runs", body))
        run.model = model
        return run

    def submit_many(
        self,
        models: list[cp_model.CpModel | cp_model_pb2.CpModelProto],
        time_limit: float | None = 60,
        *,
        variables: list[str] | None = None,
        parameters: dict[str, Any] | None = None,
        model_format: str = "base64",
        **options: Any,
    ) -> list[Run]:
        """Solve several CP-SAT models (a sweep, one model per scenario) with the same settings: one
        request (POST /api/v1/runs/batch, up to the server's MAX_BATCH_RUNS), all queued or none.
        Returns the queued Runs in the order given. Arguments as for `submit`."""
        bodies = [
            _submission("cpsat_model", _model_input(m, variables, parameters, model_format), None, time_limit, options)
            for m in models
        ]
        runs = self._post(bodies)
        for run, model in zip(runs, models, strict=True):
            run.model = model
        return runs

    def submit_problem(
        self,
        problem_type: str,
        data: Any = None,
        *,
        demo: str | None = None,
        time_limit: float | None = None,
        **options: Any,
    ) -> Run:
        """Submit one of the server's problem types: `data` is its input (a dict, or a file's text with
        format=...), or name a `demo`. Options: format, name, priority, threads, seed."""
        body = _submission(problem_type, data, demo, time_limit, options)
        return Run(self, self.request("POST", "/api/v1/runs", body))

    def submit_batch(self, submissions: list[dict[str, Any]]) -> list[Run]:
        """Several submissions as the API takes them ({"problem_type", "input" or "demo", ...}) in one
        request: all queued or none (InvalidInput names the bad ones as runs[i].field)."""
        return self._post(list(submissions))

    def _post(self, bodies: list[dict[str, Any]]) -> list[Run]:
        return [Run(self, doc) for doc in self.request("POST", "/api/v1/runs/batch", {"runs": bodies})["items"]]

    def run(self, run_id: int) -> Run:
        """A run already on the server, by id."""
        return Run(self, self.request("GET", f"/api/v1/runs/{int(run_id)}?input=0"))

    def request(self, method: str, path: str, body: Any = None) -> dict:
        """One API call; the JSON answer, or a SolveQueueError carrying the server's field paths."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise _error(exc) from None


def _model_input(model: Any, variables: list[str] | None, parameters: dict | None, model_format: str) -> dict:
    inp: dict[str, Any] = {"model": encoding.encode(model, model_format), "model_format": model_format}
    if variables is not None:
        inp["variables"] = list(variables)
    if parameters:
        inp["parameters"] = dict(parameters)
    return inp


def _submission(problem_type: str, data: Any, demo: str | None, time_limit: float | None, options: dict) -> dict:
    body: dict[str, Any] = {"problem_type": problem_type, **options}
    if demo is not None:
        body["demo"] = demo
    else:
        body["input"] = data
    if time_limit is not None:
        body["time_limit"] = time_limit
    return body


def _error(exc: urllib.error.HTTPError) -> SolveQueueError:
    try:
        doc = json.loads(exc.read())
    except ValueError:
        doc = {}
    if not isinstance(doc, dict):
        doc = {}
    cls = BY_STATUS.get(exc.code, SolveQueueError)
    return cls(exc.code, doc.get("error", "http_error"), doc.get("message", exc.reason or ""), doc.get("errors"))
