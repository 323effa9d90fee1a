"""The comparison point for bench/throughput.py: the same tiny CP-SAT solve as a Celery task.

Celery is a benchmark dependency only (bench/requirements.txt), never imported by the app. The broker
and result backend are the bench stack's private Redis (CELERY_BROKER_URL). The task builds and solves
the very model a SolveQueue run of the same input solves (the shift-scheduling model with the type's
CP-SAT parameters, 1 CP-SAT worker) and returns the objective, so both sides pay for the same solve.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from celery import Celery  # noqa: E402

from app.problems.base import apply_solver_params  # noqa: E402
from app.problems.shift_scheduling import PROBLEM, build, demo  # noqa: E402

BROKER = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")
celery = Celery("celery_tiny", broker=BROKER, backend=BROKER)
celery.conf.update(worker_prefetch_multiplier=1, task_acks_late=True, result_expires=600,
                   broker_connection_retry_on_startup=True)


@celery.task(name="solve_tiny")
def solve_tiny(size: str = "tiny") -> dict:
    from ortools.sat.python import cp_model

    model, _ = build(demo(size))
    solver = cp_model.CpSolver()
    apply_solver_params(solver.parameters, PROBLEM.solver_params)  # as the runner does
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    return {"status": solver.status_name(status), "objective": solver.objective_value, "wall": solver.wall_time}
