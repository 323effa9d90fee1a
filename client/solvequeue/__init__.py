"""SolveQueue's Python client: send a CP-SAT model (or a built-in problem) to a server and get it solved.

run = solvequeue.Client("http://127.0.0.1:5000").submit(model, time_limit=60)
run.wait(on_progress=print)
print(run.status, run.objective, run.value(x))
"""

from solvequeue.client import Client
from solvequeue.errors import InvalidInput, NotFound, RunFinished, SolveQueueError, Timeout
from solvequeue.run import Progress, Run

__all__ = ["Client", "InvalidInput", "NotFound", "Progress", "Run", "RunFinished", "SolveQueueError", "Timeout"]
