"""An attempt's hold on its run, and the stop requests that reach it through the run row and Redis.

The lease is taken when the attempt starts (`lifecycle.start`) and refreshed from the watcher's progress
flush every LEASE_SECONDS / 3, model building included (the watcher runs while the strategy builds).
The refresh also brings back a cancel recorded in the run row: the web writes it there first, and the
Redis key is only the fast path (Redis can be down, or lose it). If the refresh finds the run taken over
(the lease expired, e.g. the process was frozen, and another attempt started), the attempt stops without
writing anything.
"""

from __future__ import annotations

import logging
import time

from redis import Redis

from app import db, lifecycle, queueing
from app.config import Settings
from app.models import Run

log = logging.getLogger(__name__)
REDIS_EVERY = 0.5  # seconds between looks at the cancel key
REDIS_PAUSE = 5.0  # after Redis failed to answer: its timeouts must not stall the watcher's loop


class Lease:
    def __init__(self, settings: Settings, run: Run, owner: str, redis: Redis):
        self.url, self.run_id, self.owner, self.redis = settings.DATABASE_URL, run.id, owner, redis
        self.seconds = settings.LEASE_SECONDS
        self.canceled = run.cancel_requested_at is not None  # e.g. canceled while it waited for a retry
        self.lost = False  # another attempt holds the run now
        self._refresh_at = time.monotonic() + self.seconds / 3
        self._redis_at = 0.0

    def refresh(self) -> None:
        """Extend the lease when due (called on every flush); learns of a cancel and of a take-over."""
        if time.monotonic() < self._refresh_at:
            return
        try:
            with db.session(self.url) as s:
                found = lifecycle.refresh_lease(s, self.run_id, self.owner, self.seconds)
        except Exception:  # a database hiccup: try again on the next flush, the lease outlives a few
            log.warning("could not refresh the lease on run %s", self.run_id, exc_info=True)
            return
        self._refresh_at = time.monotonic() + self.seconds / 3
        if found is False:
            self.lost = True
        elif found is not None:
            self.canceled = True

    def cancel_requested(self) -> bool:
        """The run row (as of the last refresh) or the Redis key says: cancel."""
        if self.canceled or time.monotonic() < self._redis_at:
            return self.canceled
        try:
            self.canceled = queueing.cancel_requested(self.redis, self.run_id)
            self._redis_at = time.monotonic() + REDIS_EVERY
        except Exception:
            self._redis_at = time.monotonic() + REDIS_PAUSE
        return self.canceled

    def release(self) -> None:
        """Hand the run over cleanly (shutdown): its next attempt starts at once and costs no attempt."""
        try:
            with db.session(self.url) as s:
                lifecycle.release_lease(s, self.run_id, self.owner)
        except Exception:  # then the lease simply expires
            log.warning("could not release the lease on run %s", self.run_id, exc_info=True)
