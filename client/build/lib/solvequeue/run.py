"""A run on the server: its status and figures, waiting for it, its values, canceling it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ortools.sat.python import cp_model, cp_model_helper

from solvequeue import encoding
from solvequeue.errors import Timeout

if TYPE_CHECKING:
    from solvequeue.client import Client


@dataclass(frozen=True)
class Progress:
    """One step of a solve: a better solution or a better bound, `elapsed` seconds in."""

    elapsed: float
    objective: float | None
    bound: float | None

    def __str__(self) -> str:
        parts = [f"{self.elapsed:7.2f} s"]
        if self.objective is not None:
            parts.append(f"objective {self.objective:g}")
        if self.bound is not None:
            parts.append(f"bound {self.bound:g}")
        return "  ".join(parts)


class Run:
    """A run as the server last described it; `refresh()` or `wait()` to update it."""

    def __init__(self, client: Client, doc: dict):
        self.client, self.doc = client, doc
        self.model: Any = None  # the CpModel submitted through this client, to find values by name
        self._seen = 0

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.status} objective={self.objective}>"

    id = property(lambda self: self.doc["id"])
    status = property(lambda self: self.doc["status"], doc="queued, running, succeeded, infeasible, failed, canceled")
    solver_status = property(lambda self: self.doc.get("solver_status"), doc="OPTIMAL, FEASIBLE, INFEASIBLE, ...")
    objective = property(lambda self: self.doc.get("objective"))
    bound = property(lambda self: self.doc.get("best_bound"))
    gap = property(lambda self: self.doc.get("gap"))
    error = property(lambda self: self.doc.get("error"))
    terminal = property(lambda self: bool(self.doc.get("terminal")))
    result = property(lambda self: self.doc.get("result"))
    stats = property(lambda self: self.doc.get("stats"))

    @property
    def values(self) -> dict[str, int]:
        """The returned variables' values by name (empty until there is a solution)."""
        return dict(((self.result or {}).get("solution") or {}).get("values", {}))

    @property
    def progress(self) -> list[Progress]:
        return [Progress(p["elapsed"], p["objective"], p["bound"]) for p in self.doc.get("progress", [])]

    def refresh(self) -> Run:
        self.doc = self.client.request("GET", f"/api/v1/runs/{self.id}?input=0")
        return self

    def wait(
        self, timeout: float | None = None, on_progress: Callable[[Progress], Any] | None = None, poll: float = 0.5
    ) -> Run:
        """Block until the run ends; `on_progress` gets each new Progress as it arrives."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.refresh()
            points = self.progress
            if on_progress:
                for point in points[self._seen :]:
                    on_progress(point)
            self._seen = len(points)
            if self.terminal:
                return self
            if deadline is not None and time.monotonic() > deadline:
                raise Timeout(f"run {self.id} is still {self.status} after {timeout} s")
            time.sleep(poll)

    def cancel(self) -> Run:
        """Stop the run: a queued one never starts, a running one keeps its best solution."""
        self.doc = {**self.doc, **self.client.request("POST", f"/api/v1/runs/{self.id}/cancel")}
        return self

    def value(self, x: Any) -> int:
        """The value, in the stored solution, of a variable (IntVar or name), a literal or a linear
        expression of the submitted model."""
        solution = (self.result or {}).get("solution")
        if not solution:
            raise LookupError(f"run {self.id} has no solution ({self.status})")
        if isinstance(x, str):
            return self._value_by_name(x, solution)
        response = cp_model_helper.CpSolverResponse()
        response.solution.extend(solution["assignment"])
        if isinstance(x, cp_model_helper.NotBooleanVariable):
            return int(cp_model_helper.ResponseHelper.boolean_value(response, x))
        if isinstance(x, cp_model.IntVar | cp_model_helper.LinearExpr | int):
            return cp_model_helper.ResponseHelper.value(response, x)
        raise TypeError(f"expected an IntVar, a literal, a linear expression or a name, not {type(x).__name__}")

    def _value_by_name(self, name: str, solution: dict) -> int:
        if name in solution.get("values", {}):
            return solution["values"][name]
        if self.model is not None:
            index = {n: i for i, n in enumerate(encoding.names(self.model))}
            if name in index:
                return solution["assignment"][index[name]]
        raise KeyError(f"no value for {name!r} in run {self.id}")
