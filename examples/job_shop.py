#!/usr/bin/env python3
"""Minimal job-shop problem, solved on a SolveQueue server (OR-Tools' jobshop_sat.py sample, sent away).

    pip install ./client
    SOLVEQUEUE_URL=http://127.0.0.1:5000 python examples/job_shop.py

The model is built exactly as for an in-process CpSolver; only the solve goes through SolveQueue:
queued, solved on a worker, shown live at /runs/<id>, kept.
"""

import collections
import os

import solvequeue
from ortools.sat.python import cp_model


def main() -> None:
    # Data: each job is a list of tasks (machine_id, processing_time).
    jobs_data = [
        [(0, 3), (1, 2), (2, 2)],  # Job0
        [(0, 2), (2, 1), (1, 4)],  # Job1
        [(1, 4), (2, 3)],  # Job2
    ]
    machines_count = 1 + max(task[0] for job in jobs_data for task in job)
    all_machines = range(machines_count)
    # Computes horizon dynamically as the sum of all durations.
    horizon = sum(task[1] for job in jobs_data for task in job)

    # Create the model.
    model = cp_model.CpModel()

    # Named tuple to store information about created variables.
    task_type = collections.namedtuple("task_type", "start end interval")

    # Creates job intervals and add to the corresponding machine lists.
    all_tasks = {}
    machine_to_intervals = collections.defaultdict(list)
    for job_id, job in enumerate(jobs_data):
        for task_id, (machine, duration) in enumerate(job):
            suffix = f"_{job_id}_{task_id}"
            start_var = model.new_int_var(0, horizon, "start" + suffix)
            end_var = model.new_int_var(0, horizon, "end" + suffix)
            interval_var = model.new_interval_var(start_var, duration, end_var, "interval" + suffix)
            all_tasks[job_id, task_id] = task_type(start=start_var, end=end_var, interval=interval_var)
            machine_to_intervals[machine].append(interval_var)

    # Create and add disjunctive constraints.
    for machine in all_machines:
        model.add_no_overlap(machine_to_intervals[machine])

    # Precedences inside a job.
    for job_id, job in enumerate(jobs_data):
        for task_id in range(len(job) - 1):
            model.add(all_tasks[job_id, task_id + 1].start >= all_tasks[job_id, task_id].end)

    # Makespan objective.
    obj_var = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(obj_var, [all_tasks[job_id, len(job) - 1].end for job_id, job in enumerate(jobs_data)])
    model.minimize(obj_var)

    # Solve on the server instead of `cp_model.CpSolver().solve(model)`.
    client = solvequeue.Client(
        os.environ.get("SOLVEQUEUE_URL", "http://127.0.0.1:5000"), token=os.environ.get("SOLVEQUEUE_TOKEN")
    )
    run = client.submit(model, time_limit=30, name="job-shop example")
    print(f"Submitted run {run.id}: {client.url}/runs/{run.id}")
    run.wait(on_progress=print)

    if run.solver_status not in ("OPTIMAL", "FEASIBLE"):
        print(f"No solution found: {run.status} {run.error or ''}")
        return
    print("Solution:")
    for machine in all_machines:
        tasks = sorted(
            (run.value(all_tasks[job_id, task_id].start), job_id, task_id, duration)
            for job_id, job in enumerate(jobs_data)
            for task_id, (m, duration) in enumerate(job)
            if m == machine
        )
        line = "  ".join(f"job_{j}_task_{t} [{s},{s + d}]" for s, j, t, d in tasks)
        print(f"Machine {machine}: {line}")
    print(f"{run.solver_status.capitalize()} schedule length: {run.objective:g}")
    print(
        f"Statistics: wall time {run.stats['wall_time']:.3f} s, conflicts {run.stats['conflicts']}, "
        f"branches {run.stats['branches']}"
    )


if __name__ == "__main__":
    main()
