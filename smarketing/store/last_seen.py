"""The library's repository, able to hand a cached aggregate to a command without reading
the log and without copying it.

Why: every command used to fast-forward its lead from the log before deciding (one
read, a round trip on PostgreSQL, some CPU on SQLite), although the lead in the
aggregate cache is nearly always current (this process saved or loaded it last). A
command may decide on that lead because the save is conditional: the log's unique
``(originator_id, originator_version)`` key refuses a version another process took
since, and the command then decides again on the log's state
(``SmarketingApplication._update_lead``). Reads for display keep ``get`` (fast-forward).

A command *takes* the lead out of the cache instead of deep-copying it (the copy and the
library's per-aggregate lock bookkeeping were a real share of a cached command): while it
decides, no other thread can reach that object, and only a saved lead (or one a refusal
left unchanged) goes back in, so a decision that is refused or fails is dropped with its
object. For that to hold, nothing may hold a reference to a cached object outside a
lock: ``get`` looks up, fast-forwards and copies under one lock per aggregate (a fixed
set of striped locks, so there is no bookkeeping per call; a lead read from the log is
read under its stripe's lock, which the leads sharing it wait for), and ``take`` evicts
under the same lock.
"""

from copy import deepcopy
from threading import Lock
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProjectorFunction, Repository, project_aggregate

# Enough that threads of one process rarely wait for an unrelated lead's lock.
_STRIPES = 64


class LastSeenRepository(Repository[UUID]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stripes = [Lock() for _ in range(_STRIPES)]

    def _lock(self, aggregate_id: UUID) -> Lock:
        return self._stripes[hash(aggregate_id) % _STRIPES]

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        """The library's ``Repository.get`` (9.5.6), with the cached aggregate only ever
        touched under its lock: looked up, fast-forwarded and copied.

        With ``fastforward_skipping``, a get that finds the lock taken does not wait: it
        reads the aggregate from the log for itself and leaves the cache alone.
        """
        if self.cache is None or version is not None:
            return super().get(aggregate_id, version=version, projector_func=projector_func)
        lock = self._lock(aggregate_id)
        if not lock.acquire(blocking=not (fastforward_skipping or self.fastforward_skipping)):
            return self._reconstruct_aggregate(aggregate_id, None, projector_func)
        try:
            aggregate: Any  # the cache's, then fast-forwarded by projector_func (None: not found)
            try:
                aggregate = self.cache.get(aggregate_id)
            except KeyError:
                aggregate = self._reconstruct_aggregate(aggregate_id, None, projector_func)
                self.cache.put(aggregate_id, aggregate)
            else:
                if self.fastforward:
                    new_events = self.event_store.get(originator_id=aggregate_id, gt=aggregate.version)
                    aggregate = projector_func(aggregate, new_events)
                    if aggregate is None:
                        raise AggregateNotFoundError(aggregate_id)
            if deepcopy_from_cache and self.deepcopy_from_cache:
                aggregate = deepcopy(aggregate)
            return aggregate
        finally:
            lock.release()

    def take(self, aggregate_id: UUID) -> Any | None:
        """The aggregate as this process last saved or loaded it, out of the cache and
        not copied (the caller owns it); None if it is not cached."""
        if self.cache is None:
            return None
        with self._lock(aggregate_id):
            try:
                return self.cache.get(aggregate_id, evict=True)
            except KeyError:
                return None

    def keep(self, aggregate: Any) -> None:
        """Put an aggregate its owner no longer touches (just saved, or left unchanged) in the cache."""
        if self.cache is not None:
            with self._lock(aggregate.id):
                self.cache.put(aggregate.id, aggregate)
