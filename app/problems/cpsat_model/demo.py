"""Seeded demo models, built with cp_model the way a user would: n-queens and a job-shop."""

from __future__ import annotations

import random

from ortools.sat.python import cp_model

from app.problems.cpsat_model import proto as protos
from app.problems.cpsat_model.schema import Input


def queens(n: int) -> Input:
    """Place n queens on an n x n board, none attacking another (no objective)."""
    model = cp_model.CpModel()
    q = [model.new_int_var(0, n - 1, f"queen_{i}") for i in range(n)]  # the row of the queen in column i
    model.add_all_different(q)
    model.add_all_different(q[i] + i for i in range(n))
    model.add_all_different(q[i] - i for i in range(n))
    return _input(model)


def job_shop(jobs: int, machines: int, seed: int) -> Input:
    """Each job visits every machine once in a random order; minimise the makespan."""
    rnd = random.Random(seed)
    tasks = [[(m, rnd.randint(1, 9)) for m in rnd.sample(range(machines), machines)] for _ in range(jobs)]
    horizon = sum(d for job in tasks for _, d in job)
    model = cp_model.CpModel()
    on_machine: dict[int, list[cp_model.IntervalVar]] = {m: [] for m in range(machines)}
    ends = []
    for j, job in enumerate(tasks):
        previous_end = None
        for t, (m, duration) in enumerate(job):
            start = model.new_int_var(0, horizon, f"start_{j}_{t}")
            end = model.new_int_var(0, horizon, f"end_{j}_{t}")
            on_machine[m].append(model.new_interval_var(start, duration, end, f"task_{j}_{t}"))
            if previous_end is not None:
                model.add(start >= previous_end)  # a job's tasks run in order
            previous_end = end
        ends.append(previous_end)
    for intervals in on_machine.values():
        model.add_no_overlap(intervals)  # a machine does one task at a time
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, ends)
    model.minimize(makespan)
    return _input(model)


def _input(model: cp_model.CpModel) -> Input:
    return Input(model=protos.encode(protos.from_cp_model(model), "base64"), model_format="base64")


DEMOS = {
    "queens_8": lambda: queens(8),
    "job_shop_small": lambda: job_shop(4, 3, seed=1),
    "job_shop_hard": lambda: job_shop(15, 10, seed=7),
}
