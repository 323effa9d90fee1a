"""Traveling tournament: simulated annealing over double round robins, with the classic TTSA moves.

A traveling tournament (distances, at most k home or away games in a row, no pair meeting in two
slots running, minimise the total travel) is a different search problem from an ITC2021 league: the
hard rules are few and local, and everything is in the objective. CP-SAT's bound on travel is weak,
and fix-and-optimise on CP-SAT stalled 8-34 % above the best known. This is simulated annealing on
whole timetables after TTSA (Anagnostopoulos, Michel, Van Hentenryck and Vergados, "A simulated
annealing approach to the traveling tournament problem", J. Scheduling 2006): its five moves, which
keep a valid double round robin and each undo itself, and its penalty for broken hard rules, whose
weight oscillates so the walk crosses infeasible regions. The temperature falls with the time left
(two cycles, the second from the best timetable), not with a move count: a run's length is known.

`rules(inp)` says whether an input is of this kind, from its constraints alone (never its name):
only HARD CA3 run limits over all teams, HARD SE1 separations over all teams, no phase, distances
given. `anneal` then runs in the search's thread until the time is up or a stop is asked; every better
feasible timetable goes to `ctx.report`, so the runner checks it like any other. One Python chain
keeps one core busy; with more threads, the other chains run as processes of their own (helper.py).

A timetable is a row per team: S[t][s] = o + 1 if t hosts o in slot s, -(o + 1) if t plays at o.
"""

from __future__ import annotations

import json
import logging
import math
import os
import queue
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from app.problems.base import SearchContext
from app.problems.round_robin.schema import Input

Game = tuple[int, int, int]
log = logging.getLogger(__name__)
REPORT_EVERY = 0.5  # seconds between two reports of a better timetable (the last one is always reported)
STOP_EVERY = 256  # moves between two looks at ctx.stopped()
PHASE_MOVES = 1000  # moves between two updates of temperature and penalty weight (per 4 teams)
CYCLES = 2  # annealing cycles in the time given; each starts from the best timetable so far
START_HEAT, COLD = 0.3, 0.02  # a cycle's first and last temperature, as shares of the mean distance
WEIGHT_UP, WEIGHT_DOWN = 1.1, 1.1  # penalty weight per phase: up while mostly infeasible, else down
FEASIBLE_SHARE = 0.5  # the share of a phase's moves the walk should spend feasible


@dataclass(frozen=True)
class Rules:
    """The hard rules of a traveling tournament: run limits and the minimum gap between a pair's games."""

    max_home: int  # at most this many home games in a row (num_slots: no limit)
    max_away: int
    min_gap: int  # at least this many slots between the two meetings of a pair (0: none)


def rules(inp: Input) -> Rules | None:
    """The input's hard rules if it is a traveling tournament the annealer covers exactly, else None."""
    if inp.distances is None or inp.phased:
        return None
    everyone = set(range(inp.n))
    limits = {"H": inp.num_slots, "A": inp.num_slots}
    gap = 0
    for con in inp.constraints:
        if con.type != "HARD":
            return None
        if con.constraint == "CA3":
            whole = set(con.teams1) == everyone and set(con.teams2) >= everyone
            if not whole or con.mode1 not in limits or con.min > 0 or con.intp != con.max + 1:
                return None
            limits[con.mode1] = min(limits[con.mode1], con.max)
        elif con.constraint == "SE1":
            if set(con.teams) != everyone or (con.max is not None and con.max < inp.num_slots - 2):
                return None
            gap = max(gap, con.min)
        else:
            return None
    if min(limits.values()) < 1:
        return None
    return Rules(limits["H"], limits["A"], gap)


def to_rows(n: int, games: list[Game]) -> list[list[int]]:
    rows = [[0] * (2 * n - 2) for _ in range(n)]
    for h, a, s in games:
        rows[h][s], rows[a][s] = a + 1, -(h + 1)
    return rows


def to_games(rows: list[list[int]]) -> list[list[int]]:
    return [[t, g - 1, s] for t, row in enumerate(rows) for s, g in enumerate(row) if g > 0]


class Tour:
    """A timetable with each team's travel and rule breaks kept up to date as moves change rows."""

    def __init__(self, inp: Input, rule: Rules, rows: list[list[int]]):
        self.n, self.slots, self.rule = inp.n, inp.num_slots, rule
        self.dist = inp.distances
        self.rows = rows
        self.travel = [0] * self.n
        self.breaks = [0] * self.n
        for t in range(self.n):
            self.travel[t], self.breaks[t] = self.team_cost(t)
        self.total_travel, self.total_breaks = sum(self.travel), sum(self.breaks)

    def team_cost(self, t: int) -> tuple[int, int]:
        """(travel, breaks) of team t: its tour from home and back, and its rule breaks
        (each game past a run limit, each missing slot between a pair's meetings, as the checker counts)."""
        d, row, rule = self.dist, self.rows[t], self.rule
        here, km, breaks, run, run_home = t, 0, 0, 0, None
        for g in row:
            home = g > 0
            there = t if home else -g - 1
            km += d[here][there]
            here = there
            if home == run_home:
                run += 1
                if run > (rule.max_home if home else rule.max_away):
                    breaks += 1
            else:
                run, run_home = 1, home
        km += d[here][t]
        if rule.min_gap:
            seen: dict[int, int] = {}
            for s, g in enumerate(row):
                o = g if g > 0 else -g
                if o in seen:
                    breaks += max(0, rule.min_gap - (s - seen[o] - 1))
                else:
                    seen[o] = s
        return km, breaks

    def recount(self, teams) -> None:
        for t in teams:
            km, br = self.team_cost(t)
            self.total_travel += km - self.travel[t]
            self.total_breaks += br - self.breaks[t]
            self.travel[t], self.breaks[t] = km, br

    def undo(self, move, args, before) -> None:
        """Take back `move` (every move is its own inverse) and the counts it changed."""
        move(self, *args)
        self.total_travel, self.total_breaks, teams = before
        for t, km, br in teams:
            self.travel[t], self.breaks[t] = km, br

    # The five moves. Each changes rows in place and returns the teams whose rows changed.

    def swap_homes(self, i: int, j: int) -> list[int]:
        """The two games of i and j change venues."""
        row_i, row_j = self.rows[i], self.rows[j]
        s1, s2 = row_i.index(j + 1), row_i.index(-(j + 1))
        row_i[s1], row_i[s2] = -(j + 1), j + 1
        row_j[s1], row_j[s2] = i + 1, -(i + 1)
        return [i, j]

    def swap_rounds(self, k: int, m: int) -> list[int]:
        """Slots k and m trade all their games."""
        for row in self.rows:
            row[k], row[m] = row[m], row[k]
        return list(range(self.n))

    def swap_teams(self, i: int, j: int) -> list[int]:
        """i and j trade schedules (except their own two games); their opponents follow."""
        rows = self.rows
        row_i, row_j = rows[i], rows[j]
        for s in range(self.slots):
            gi = row_i[s]
            if gi == j + 1 or gi == -(j + 1):
                continue
            gj = row_j[s]
            row_i[s], row_j[s] = gj, gi
            rows[abs(gj) - 1][s] = -(i + 1) if gj > 0 else i + 1
            rows[abs(gi) - 1][s] = -(j + 1) if gi > 0 else j + 1
        return list(range(self.n))

    def partial_swap_rounds(self, t: int, k: int, m: int) -> list[int]:
        """Slots k and m trade the games of t and of every team linked to t through those two slots."""
        rows, group, todo = self.rows, {t}, [t]
        while todo:
            u = todo.pop()
            for s in (k, m):
                o = abs(rows[u][s]) - 1
                if o not in group:
                    group.add(o)
                    todo.append(o)
        for u in group:
            row = rows[u]
            row[k], row[m] = row[m], row[k]
        return list(group)

    def partial_swap_teams(self, i: int, j: int, s: int) -> list[int]:
        """i and j trade their games of slot s, and of as few other slots as it takes to stay a round robin."""
        rows = self.rows
        row_i, row_j = rows[i], rows[j]
        if abs(row_i[s]) == j + 1:
            return []
        chain = [s]
        have_i, have_j = {row_i[s]}, {row_j[s]}
        while have_i != have_j:
            missing = next(iter(have_j - have_i))
            nxt = row_i.index(missing)
            chain.append(nxt)
            have_i.add(row_i[nxt])
            have_j.add(row_j[nxt])
        changed = {i, j}
        for s in chain:
            gi, gj = row_i[s], row_j[s]
            row_i[s], row_j[s] = gj, gi
            rows[abs(gj) - 1][s] = -(i + 1) if gj > 0 else i + 1
            rows[abs(gi) - 1][s] = -(j + 1) if gi > 0 else j + 1
            changed.add(abs(gi) - 1)
            changed.add(abs(gj) - 1)
        return list(changed)


MOVES = (
    Tour.swap_homes,  # (i, j)
    Tour.swap_rounds,  # (k, m)
    Tour.swap_teams,  # (i, j)
    Tour.partial_swap_rounds,  # (i, k, m)
    Tour.partial_swap_teams,  # (i, j, k)
)


def random_move(tour: Tour, rng: random.Random) -> tuple:
    """One of the five moves with random teams and slots: (move, its arguments). Every move undoes itself:
    applied twice with the same arguments, it gives back the timetable it started from."""
    n, slots = tour.n, tour.slots
    i, j = rng.sample(range(n), 2)
    k, m = rng.sample(range(slots), 2)
    kind = rng.randrange(5)
    args = ((i, j), (k, m), (i, j), (i, k, m), (i, j, k))[kind]
    return MOVES[kind], args


def penalised(travel: int, breaks: int, weight: float) -> float:
    """The travel, and for an infeasible timetable TTSA's penalty, which grows slower than its breaks."""
    if breaks == 0:
        return float(travel)
    return travel + weight * (1 + math.sqrt(breaks) * math.log(breaks) / 2)


def anneal(
    ctx: SearchContext, inp: Input, rule: Rules, games: list[Game], rng: random.Random, helpers: int = 0
) -> list[Game]:
    """Simulated annealing from `games` until ctx.remaining() runs out or a stop; returns the best feasible
    timetable found (or `games` if none), each better one reported to ctx on the way.

    `helpers`: as many more chains in processes of their own (the GIL keeps one chain to one core); their
    better timetables come back here, go to ctx and become the start of this chain's next cycle."""
    with Helpers(inp, games, helpers, rng, ctx.remaining()) as others:
        return _anneal(ctx, inp, rule, games, rng, others)


def _anneal(
    ctx: SearchContext, inp: Input, rule: Rules, games: list[Game], rng: random.Random, others: Helpers | None
) -> list[Game]:
    tour = Tour(inp, rule, to_rows(inp.n, games))
    best_rows = [row[:] for row in tour.rows] if tour.total_breaks == 0 else None
    best = tour.total_travel if best_rows else math.inf
    last_report, reported = time.monotonic(), best
    phase_moves = PHASE_MOVES * max(1, inp.n // 4)
    weight = max(1.0, tour.total_travel / (inp.n * inp.num_slots))  # about one leg of a trip
    hot = initial_temperature(inp)
    moves = 0
    # Cycles share the time left: each cools from hot to cold as its time passes (geometrically), and the
    # next one starts again from the best timetable so far.
    for cycle in range(CYCLES, 0, -1):
        left = max(0.0, ctx.remaining())
        length = left / cycle
        temperature = hot
        if best_rows is not None:
            tour = Tour(inp, rule, [row[:] for row in best_rows])
        current = penalised(tour.total_travel, tour.total_breaks, weight)
        while left - ctx.remaining() < length or cycle == 1:
            feasible_moves = 0
            for _ in range(phase_moves):
                moves += 1
                if moves % STOP_EVERY == 0:
                    if ctx.stopped() or ctx.remaining() <= 0:
                        return _finish(ctx, best_rows, reported, best, games)
                    found = others.best() if others else None
                    if found and found[0] < best and Tour(inp, rule, found[1]).total_breaks == 0:
                        best, best_rows = found
                    if best < reported and time.monotonic() - last_report > REPORT_EVERY:
                        ctx.report({"games": to_games(best_rows)})
                        last_report, reported = time.monotonic(), best
                move, args = random_move(tour, rng)
                changed = move(tour, *args)
                before = tour.total_travel, tour.total_breaks, [(t, tour.travel[t], tour.breaks[t]) for t in changed]
                tour.recount(changed)
                value = penalised(tour.total_travel, tour.total_breaks, weight)
                delta = value - current
                if delta <= 0 or rng.random() < math.exp(-delta / temperature):
                    current = value
                    if tour.total_breaks == 0 and tour.total_travel < best:
                        best, best_rows = tour.total_travel, [row[:] for row in tour.rows]
                else:
                    tour.undo(move, args, before)
                feasible_moves += tour.total_breaks == 0
            # strategic oscillation: weigh breaks more while the walk stays infeasible, less while it is feasible
            weight = weight / WEIGHT_DOWN if feasible_moves > FEASIBLE_SHARE * phase_moves else weight * WEIGHT_UP
            current = penalised(tour.total_travel, tour.total_breaks, weight)
            done = min(1.0, (left - ctx.remaining()) / length) if length else 1.0
            temperature = hot * (COLD / START_HEAT) ** done
        log.debug(
            "anneal %d moves: w=%.1f now %d+%d breaks, best %s",
            moves,
            weight,
            tour.total_travel,
            tour.total_breaks,
            best,
        )
    return _finish(ctx, best_rows, reported, best, games)


def initial_temperature(inp: Input) -> float:
    """A share of the mean distance between two venues: the walk takes a longer trip now and then."""
    legs = [d for row in inp.distances or [] for d in row if d]
    return START_HEAT * (sum(legs) / len(legs) if legs else 1.0)


def _finish(ctx: SearchContext, best_rows, reported: float, best: float, games: list[Game]) -> list[Game]:
    if best_rows is None:
        return games
    if best < reported:
        ctx.report({"games": to_games(best_rows)})
    return [tuple(g) for g in to_games(best_rows)]


class Helpers:
    """Other annealing chains, each a `python -m app.problems.round_robin.helper` process: the job goes to
    its stdin as one JSON line, its better timetables come back on stdout, one JSON line each. Closing its
    stdin stops it (so does its own deadline, should this process die without closing it)."""

    def __init__(self, inp: Input, games: list[Game], count: int, rng: random.Random, seconds: float):
        self.n, self.found = inp.n, queue.Queue()
        self.procs: list[subprocess.Popen] = []
        self.readers: list[threading.Thread] = []
        root = str(Path(__file__).resolve().parents[3])
        env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        for _ in range(count):
            job = {"input": inp.model_dump(), "games": [list(g) for g in games], "seed": rng.randrange(2**31)}
            job["seconds"] = seconds
            proc = subprocess.Popen(
                [sys.executable, "-m", "app.problems.round_robin.helper"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
            reader = threading.Thread(target=self._read, args=(proc,), daemon=True)
            reader.start()
            self.procs.append(proc)
            self.readers.append(reader)

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            found = json.loads(line)
            self.found.put((found["travel"], to_rows(self.n, found["games"])))

    def best(self) -> tuple[int, list[list[int]]] | None:
        """The shortest-travel timetable the helpers sent since the last call: (travel, rows), or None."""
        found = None
        while True:
            try:
                travel, rows = self.found.get_nowait()
            except queue.Empty:
                return found
            if found is None or travel < found[0]:
                found = (travel, rows)

    def __enter__(self) -> Helpers:
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            try:
                proc.stdin.close()
            except OSError:
                pass
        for proc in self.procs:
            try:
                proc.wait(timeout=0.5)  # it stops at its next look at its stdin; a stop must not wait on it
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for proc, reader in zip(self.procs, self.readers, strict=True):
            reader.join(timeout=1)
            proc.stdout.close()


class _HelperContext:
    """What a helper chain's anneal sees of a search context: its deadline, a stop, and a report line."""

    def __init__(self, seconds: float, inp: Input):
        self.until, self.inp, self.stop = time.monotonic() + seconds, inp, threading.Event()
        threading.Thread(target=self._watch_stdin, daemon=True).start()

    def _watch_stdin(self) -> None:
        sys.stdin.read()  # returns at EOF: the parent closed our stdin, or died
        self.stop.set()

    def stopped(self) -> bool:
        return self.stop.is_set()

    def remaining(self) -> float:
        return self.until - time.monotonic()

    def report(self, solution: dict) -> bool:
        travel = Tour(self.inp, rules(self.inp), to_rows(self.inp.n, solution["games"])).total_travel
        try:
            print(json.dumps({"travel": travel, "games": solution["games"]}), flush=True)
        except (BrokenPipeError, ValueError):
            self.stop.set()
        return True


def helper_main() -> None:
    """A helper chain's process (helper.py): the job from stdin, better timetables to stdout."""
    job = json.loads(sys.stdin.readline())
    inp = Input.model_validate(job["input"])
    ctx = _HelperContext(job["seconds"], inp)
    games = [tuple(g) for g in job["games"]]
    _anneal(ctx, inp, rules(inp), games, random.Random(job["seed"]), None)
