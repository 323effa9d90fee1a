"""A run's CP-SAT search log, kept in the database as chunks appended with each progress write.

The log is bounded (SOLVER_LOG_MAX_BYTES): when it grows past the bound, the oldest chunks after the
head are dropped, so the stored log keeps its start (parameters, model statistics, presolve) and its
latest output (the newest solutions and, at the end, the summary). Readers see a marker where chunks
were dropped. The database, not a file, holds it: a worker on another host writes it, the web reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from app import db
from app.models import SolverLogChunk

HEAD_SHARE = 4  # the head keeps at most 1/4 of the bound; the tail the rest
OMITTED = "\n[… {n} earlier part(s) of the log dropped to keep it under {kb} KB …]\n\n"


def _size(text: str) -> int:
    return len(text.encode())


class Writer:
    """Appends one run attempt's log output and keeps the stored log under `limit` bytes.

    It remembers the sizes of the stored chunks, so a flush costs one insert (and a delete when the
    bound is reached), never a re-read of the log. One writer per attempt (so per process and run). What
    earlier attempts stored is read once, by the first append, in its transaction; a first attempt
    has nothing to read.
    """

    def __init__(self, database_url: str, run_id: int, attempt: int, limit: int):
        self.url, self.run_id, self.attempt, self.limit = database_url, run_id, attempt, max(1024, limit)
        # (id, seq, bytes) of the stored chunks; None until the first append reads them.
        self.chunks: list[tuple[int, int, int]] | None = [] if attempt <= 1 else None

    @property
    def stored(self) -> int:
        return sum(size for _, _, size in self.chunks or [])

    def append(self, conn: Connection, text: str) -> None:
        """Store `text` as the next chunk (in the caller's transaction), then drop what overflows."""
        if not text:
            return
        if self.chunks is None:
            stmt = select(SolverLogChunk.id, SolverLogChunk.seq, func.length(SolverLogChunk.text))
            rows = conn.execute(stmt.where(SolverLogChunk.run_id == self.run_id).order_by(SolverLogChunk.seq))
            # SQL length() counts characters, close enough for a bound on earlier attempts.
            self.chunks = [tuple(r) for r in rows]
        if _size(text) > self.limit // 2:  # one huge burst: keep its end
            text = text.encode()[-(self.limit // 2) :].decode(errors="ignore")
        seq = self.chunks[-1][1] + 1 if self.chunks else 0
        values = {"run_id": self.run_id, "seq": seq, "attempt": self.attempt, "text": text}
        chunk_id = conn.execute(insert(SolverLogChunk).returning(SolverLogChunk.id), values).scalar_one()
        self.chunks.append((chunk_id, seq, _size(text)))
        self._trim(conn)

    def _trim(self, conn: Connection) -> None:
        total = self.stored
        if total <= self.limit:
            return
        head, used = 0, 0
        while head < len(self.chunks) - 1 and used + self.chunks[head][2] <= self.limit // HEAD_SHARE:
            used += self.chunks[head][2]
            head += 1
        head = max(head, 1)  # the first chunk (the log's start) always stays
        drop = []
        while total > self.limit and head < len(self.chunks) - 1:
            chunk = self.chunks.pop(head)
            drop.append(chunk[0])
            total -= chunk[2]
        if drop:
            conn.execute(delete(SolverLogChunk).where(SolverLogChunk.id.in_(drop)))


@dataclass(frozen=True)
class Log:
    text: str
    last_seq: int  # -1 when empty: read again with after=last_seq for what comes next
    dropped: bool  # some chunks were dropped to keep the bound


def read(database_url: str, run_id: int, after: int = -1, limit: int = 0) -> Log:
    """The stored log (or only the chunks after seq `after`), with a marker where chunks were dropped."""
    stmt = select(SolverLogChunk.seq, SolverLogChunk.text).where(
        SolverLogChunk.run_id == run_id, SolverLogChunk.seq > after
    )
    with db.get_engine(database_url).connect() as conn:
        rows = conn.execute(stmt.order_by(SolverLogChunk.seq)).all()
    parts, expected, dropped = [], after + 1 if after >= 0 else None, False
    for seq, text in rows:
        if expected is not None and seq > expected:
            parts.append(OMITTED.format(n=seq - expected, kb=max(1, limit // 1024) if limit else "its bound"))
            dropped = True
        parts.append(text)
        expected = seq + 1
    return Log("".join(parts), rows[-1][0] if rows else after, dropped)
