"""One more annealing chain for a traveling tournament, in a process of its own (see travel.Helpers).

    python -m app.problems.round_robin.helper < job.json

The job is one JSON line on stdin ({"input", "games", "seed", "seconds"}); every better timetable goes to
stdout as a JSON line ({"travel", "games"}). It stops when stdin closes or its seconds are up.
"""

from app.problems.round_robin.travel import helper_main

if __name__ == "__main__":
    helper_main()
