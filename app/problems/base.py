"""The contract every problem type implements, and the shared result shapes.

A problem type is a module that builds one `ProblemType` and registers it (see `app.problems`).
Web, API and worker only ever talk to problems through this contract, so adding a type never
touches them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from ortools.sat.python import cp_model
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError


class InputError(ValueError):
    """The submitted problem is not valid; `errors` say what is wrong and where.

    Each error is {"path": "staff[2].max_shifts.N", "message": "..."}; the path uses the names a
    user typed (dots for fields, [i] for list positions).
    """

    def __init__(self, errors: Sequence[dict[str, str]]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in self.errors))

    @classmethod
    def from_pydantic(cls, exc: PydanticValidationError, prefix: str = "") -> InputError:
        return cls([{"path": prefix + format_path(err["loc"]), "message": err["msg"]} for err in exc.errors()])


def format_path(loc: Sequence[str | int]) -> str:
    """('staff', 2, 'max_shifts') -> 'staff[2].max_shifts'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


@dataclass(frozen=True)
class Penalty:
    """One soft-rule violation that costs `cost`, in words a planner understands."""

    rule: str  # rule key, e.g. "cover_under"
    cost: int
    who: str | None = None  # staff id, if the penalty is about one person
    day: int | None = None
    shift: str | None = None
    detail: str = ""  # e.g. "requested shift D, was off"
    when: str | None = None  # free text for types whose time is not a day index, e.g. "2027-03-14 18:00"


@dataclass
class Check:
    """What the independent checker found: hard-rule breaks, soft penalties, recomputed objective."""

    violations: list[str] = field(default_factory=list)  # hard rules broken; empty = feasible
    penalties: list[Penalty] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def objective(self) -> int:
        return sum(p.cost for p in self.penalties)


@dataclass(frozen=True)
class Rule:
    """A soft rule's key and its label for the objective breakdown."""

    key: str
    label: str


ValueOf = Callable[[Any], int]  # solver.value or callback.value
Extract = Callable[[ValueOf], dict]  # value-of-variable -> solution (JSON-able)


@dataclass
class SubSolve:
    """What one CP-SAT solve inside a search strategy ended with."""

    status: str  # CP-SAT status name: OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN, MODEL_INVALID
    solution: dict | None  # the final solution found by this solve, extracted
    objective: float | None  # CP-SAT's objective value of it
    bound: float | None
    wall_time: float
    solver: Any = None  # the CpSolver, for statistics


class SearchContext(Protocol):
    """What the runner gives a problem's search strategy (implemented in workers/runner.py).

    The strategy runs in a thread of its own, model building included, while the work horse's main
    thread watches for stop requests and writes progress: call `stopped()` between steps and never
    block long in plain Python without looking at it.
    """

    problem: ProblemType  # the type being solved
    inp: Any  # the validated Input
    threads: int  # CP-SAT search workers for this run
    seed: int
    params: Mapping[str, Any]  # the problem type's solver_params
    checkpoint: dict | None  # best solution of an earlier attempt; already offered as the incumbent

    def remaining(self) -> float:
        """Seconds left of the run's time limit."""
        ...

    def stopped(self) -> bool:
        """Cancel, deadline or shutdown was requested: return as soon as you can."""
        ...

    def incumbent(self) -> tuple[dict, float] | None:
        """The best solution so far and its objective as the checker counts it."""
        ...

    def report(self, solution: dict, solver_objective: float | None = None) -> bool:
        """Offer a complete solution: kept (progress point, checkpoint) only if the checker finds it
        feasible and strictly better than the incumbent. True if it became the incumbent."""
        ...

    def report_bound(self, bound: float) -> None:
        """A proven bound on the objective of the whole problem."""
        ...

    def log(self, message: str) -> None:
        """A line for the run's stored log, beside CP-SAT's own: what the strategy is doing (its phases)."""
        ...

    def solve(
        self,
        model: Any,
        extract: Extract,
        *,
        time_limit: float,
        params: Mapping[str, Any] | None = None,
        threads: int | None = None,
        full: bool = True,
        report: bool = True,
        stop_when: Callable[[], bool] | None = None,
    ) -> SubSolve:
        """One CP-SAT solve the runner can stop; every solution found goes to report() (if `report`).

        full=True: `model` is the whole problem, so its bound is the problem's bound (False for
        neighbourhoods, relaxations and stages). `params` add to the problem's solver_params; the time
        limit is capped at remaining(). `stop_when`: polled every STOP_POLL_SECONDS while the solve
        runs (from another thread); once it returns True the solve ends as if its time were up (e.g.
        a solve racing something that has overtaken it, see shift_scheduling/construct.py)."""
        ...


STOP_POLL_SECONDS = 0.1


@contextmanager
def stopping_when(solver: Any, stop_when: Callable[[], bool] | None) -> Iterator[None]:
    """While the block runs `solver.solve(...)`, call `solver.stop_search()` once `stop_when()` is true
    (polled every STOP_POLL_SECONDS in a thread of its own; again on each poll while it stays true, since
    a stop that comes before the search has started is not seen by it). None: nothing to poll."""
    if stop_when is None:
        yield
        return
    done = threading.Event()

    def poll() -> None:
        while not done.wait(STOP_POLL_SECONDS):
            if stop_when():
                solver.stop_search()

    thread = threading.Thread(target=poll, name="stop-when", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


Search = Callable[[SearchContext], "str | None"]


@dataclass(frozen=True)
class Export:
    """A file a finished run offers for download, made from its input and stored result."""

    filename: str  # e.g. "roster.csv"; served at /runs/<id>/download/<filename>
    label: str
    mimetype: str
    render: Callable[[dict, dict], str | bytes]  # (input, result) -> file body


class Model(cp_model.CpModel):
    """A CP-SAT model, as `cp_model.CpModel`, without OR-Tools' pre-PEP 8 aliases (`NewBoolVar` for
    `new_bool_var` and ~100 more) that a CpModel binds to itself each time one is made: 0.2 ms a model,
    a third of building a tiny roster's model, paid by every small run and every construction step.
    SolveQueue's models use the snake_case names only; every problem type builds its models with this."""

    def _add_pre_pep8_methods(self) -> None:
        pass


def apply_solver_params(parameters: Any, params: Mapping[str, Any]) -> None:
    """Set `params` on a `CpSolver().parameters`; a list extends a repeated field (e.g. extra_subsolvers)."""
    for key, value in params.items():
        if isinstance(value, (list, tuple)):
            getattr(parameters, key).extend(value)
        else:
            setattr(parameters, key, value)


@dataclass(frozen=True)
class ProblemType:
    """Everything the server needs to know about one kind of problem."""

    name: str  # registry key, e.g. "shift_scheduling"
    title: str  # "Shift scheduling"
    description: str
    input_model: type[BaseModel]  # pydantic model; its JSON schema is published by the API
    validate: Callable[[Any], BaseModel]  # parsed JSON -> Input; raises InputError
    importers: dict[str, Callable[[str], BaseModel]]  # format name -> text parser; raises InputError
    demos: dict[str, Callable[[], BaseModel]]  # demo name -> Input (seeded, deterministic)
    build: Callable[[BaseModel], tuple[Any, Any]]  # Input -> (CpModel, vars)
    extract: Callable[[BaseModel, Any, ValueOf], dict]  # (Input, vars, value) -> solution (JSON-able)
    hint: Callable[[Any, Any, BaseModel, dict], None]  # (model, vars, Input, solution) -> add hints
    check: Callable[[BaseModel, dict], Check]  # independent plain-Python checker
    rules: Sequence[Rule]  # soft rules, in breakdown order
    summary: Callable[[BaseModel], dict] = lambda inp: {}  # size facts for lists ("8 staff, 14 days")
    # CP-SAT parameters this type solves best with, e.g. {"extra_subsolvers": ["max_lp"]}; the runner
    # applies them with `apply_solver_params` before its own settings (time limit, workers), which win.
    solver_params: Mapping[str, Any] = field(default_factory=dict)
    # The type's own search strategy (construction, LNS, phases). None: build the model, hint the
    # checkpoint, one CP-SAT solve for the time left (`default_search` below). It returns
    # the status it can claim for the whole problem: "OPTIMAL" or "INFEASIBLE" if proved, else None.
    search: Search | None = None
    # Readies what `search` needs before the first run, e.g. compiles its numba functions (seconds, once per
    # machine, then loaded from a disk cache in milliseconds). A worker calls it once when it starts, so no
    # run pays for it and a cancel never waits on a compiler.
    prepare: Callable[[], None] | None = None
    # True for a type whose checker is costly and whose CP-SAT objective is exact (cpsat_model: its
    # checker is itself a CP-SAT solve). The runner then keeps CP-SAT's solutions on CP-SAT's objective
    # and checks the newest one once per progress interval and at the end, off the solver's threads;
    # a checkpoint or a result is still only ever written from a checked solution.
    defer_check: bool = False
    # Model size predicted from the validated input, e.g. {"variables": 1200, "constraints": 4000}.
    estimate: Callable[[BaseModel], dict[str, int]] | None = None
    # True when the input asks to maximise (the runner keeps the larger objective as the better one).
    maximizes: Callable[[BaseModel], bool] = lambda inp: False
    # Pages: extra context for templates/problems/<name>/_result.html from (input, result, query args),
    # and the files a finished run offers besides its input and result JSON.
    page_context: Callable[[dict, dict, Mapping[str, str]], dict] | None = None
    exports: Sequence[Export] = ()
    # "Solve again" from a finished run: (input, result) -> the input to submit, e.g. with the run's
    # solution as hints. None: the same input again.
    resubmit: Callable[[dict, dict], dict] | None = None

    def breakdown(self, check: Check) -> list[dict]:
        """Objective per rule, with every penalty paid (who, when, cost)."""
        out = []
        for rule in self.rules:
            items = [p for p in check.penalties if p.rule == rule.key]
            out.append(
                {
                    "rule": rule.key,
                    "label": rule.label,
                    "cost": sum(p.cost for p in items),
                    "count": len(items),
                    "items": [p.__dict__ for p in items],
                }
            )
        return out

    def load(self, payload: Any, fmt: str = "json") -> BaseModel:
        """Input from a parsed JSON document or, for fmt != 'json', from text in that format."""
        if fmt == "json":
            return self.validate(payload)
        if fmt not in self.importers:
            raise InputError(
                [{"path": "format", "message": f"unknown format {fmt!r}; known: json, {', '.join(self.importers)}"}]
            )
        if not isinstance(payload, str):
            raise InputError([{"path": "input", "message": f"format {fmt!r} expects the file's text as a string"}])
        return self.importers[fmt](payload)


def default_search(ctx: SearchContext) -> str | None:
    """Build the model, hint the checkpoint, one CP-SAT solve for the time left: the runner's strategy for
    a type without its own, and the last step of strategies that only add a start (a construction)."""
    problem, inp = ctx.problem, ctx.inp
    model, variables = problem.build(inp)
    if ctx.checkpoint:
        problem.hint(model, variables, inp, ctx.checkpoint)
    result = ctx.solve(model, lambda value: problem.extract(inp, variables, value), time_limit=ctx.remaining())
    return result.status if result.status in ("OPTIMAL", "INFEASIBLE", "MODEL_INVALID") else None
