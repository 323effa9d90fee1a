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
        inp: dict[str, Any] = {"model": encoding.encode(model, model_format), "model_format": model_format}
        if variables is not None:
            inp["variables"] = list(variables)
        if parameters:
            inp["parameters"] = dict(parameters)
        run = self.submit_problem("cpsat_model", inp, time_limit=time_limit, **options)
        run.model = model
        return run

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
        body: dict[str, Any] = {"problem_type": problem_type, **options}
        if demo is not None:
            body["demo"] = demo
        else:
            body["input"] = data
        if time_limit is not None:
            body["time_limit"] = time_limit
        return Run(self, self.request("POST", "/api/v1/runs", body))

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


def _error(exc: urllib.error.HTTPError) -> SolveQueueError:
    try:
        doc = json.loads(exc.read())
    except ValueError:
        doc = {}
    if not isinstance(doc, dict):
        doc = {}
    cls = BY_STATUS.get(exc.code, SolveQueueError)
    return cls(exc.code, doc.get("error", "http_error"), doc.get("message", exc.reason or ""), doc.get("errors"))
