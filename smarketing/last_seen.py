"""The library's repository, able to hand out a cached aggregate without reading the log.

Why: every command used to fast-forward its lead from the log before deciding (one
read, a round trip on PostgreSQL, ~60 µs of CPU on SQLite), although the lead in the
aggregate cache is nearly always current (this process saved or loaded it last). A
command may decide on that copy because the save is conditional: the log's unique
``(originator_id, originator_version)`` key refuses a version another process took
since, and the command then decides again on the log's state
(``SmarketingApplication._update_lead``). Reads for display keep ``get`` (fast-forward).
"""

from copy import deepcopy
from typing import Any
from uuid import UUID

from eventsourcing.application import Repository


class LastSeenRepository(Repository[UUID]):
    def last_seen(self, aggregate_id: UUID) -> Any | None:
        """A copy of the aggregate as this process last saved or loaded it; None if not cached.

        Taken under the lock the library's fast-forward mutates the cached aggregate
        under, so another thread's fast-forward never hands out a half-applied copy.
        """
        if self.cache is None:
            return None
        lock = self._use_fastforward_lock(aggregate_id)
        try:
            with lock:
                try:
                    aggregate = self.cache.get(aggregate_id)
                except KeyError:
                    return None
                return deepcopy(aggregate)
        finally:
            self._disuse_fastforward_lock(aggregate_id)
