"""``StoredApplication``: the library's ``Application`` (eventsourcing 9.5.6) with the
storage machinery the service layer runs on, behind a few methods the commands call:

- ``decide_and_save(aggregate_id, kind, decide, load=...)``: decide on the aggregate and
  save it; a decision refused (or lost to another writer) on the aggregate as this
  process last saw it is made once more on the log's state;
- ``peek(aggregate_id)``: an aggregate to read and never change, or None;
- ``terms_after(saved, read)``: the agreement's terms as of a save (``KnownTerms``);
- ``save``: the library's, with the keys of a batch's new leads created at once.

Behind them: the repository that hands a command its cached aggregate
(``store.last_seen``), the mapper that seals personal data and fetches or creates keys in
batches (``store.key_batch``), snapshots of the aggregate in hand, events collected
without the library's Protocol checks, and the known terms (``store.known_terms``).

The one switch: ``STORE_SHORTCUTS=n`` (in the environment or the application's env)
turns all of that off, and the application runs on the library's own code paths: its
repository (same cache settings), its ``save`` and snapshots, a command reading its
aggregate from the log every time, the terms read from the log after every save. Personal
data stays sealed (``PersonalDataMapper``), which is not a shortcut but the format of the
log. The same commands store the same events either way (tests/integration/test_store.py).
"""

from collections.abc import Callable
from functools import cached_property
from typing import Any, Generic, NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Mapper, Recording
from eventsourcing.utils import strtobool

from domain.errors import DomainError
from smarketing.store.key_batch import BatchingPersonalDataMapper
from smarketing.store.known_terms import KnownTerms, Terms
from smarketing.store.last_seen import LastSeenRepository
from smarketing.store.personal_data import PersonalDataMapper

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")


class Saved(NamedTuple, Generic[T]):
    """An aggregate as a command saved it: its version, where its events went in the log,
    and what the command's decision returned (read before the cache owned the aggregate)."""

    version: int
    positions: list[int]
    outcome: T


class _CollectedEvents(ProcessingEvent[UUID]):
    """``ProcessingEvent`` that collects from aggregates without the Protocol checks.

    Why: on Python 3.11 ``isinstance`` against a runtime-checkable Protocol inspects
    every member of the protocol on each call; the library's two checks per saved
    aggregate cost more than encoding a lead's events. An ``Aggregate`` is never a
    domain event and always collects its events, so it needs neither check;
    anything else takes the library's path.
    """

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            else:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)


class StoredApplication(Application[UUID]):
    STORE_SHORTCUTS = "STORE_SHORTCUTS"

    def __init__(self, env: Any = None) -> None:
        super().__init__(env)
        self.known_terms = KnownTerms()

    @cached_property
    def shortcuts(self) -> bool:
        """The switch: whether the machinery of this module runs (``STORE_SHORTCUTS``, default y)."""
        return bool(strtobool(self.env.get(self.STORE_SHORTCUTS, "y")))

    # --- what the commands call ---------------------------------------------

    def decide_and_save(
        self, aggregate_id: UUID, kind: type[A], decide: Callable[[A], T], *, load: Callable[[UUID], A]
    ) -> Saved[T]:
        """``decide`` (which records events on the aggregate, or raises), then save.

        First on the aggregate as this process last saw it, without reading the log
        (``store.last_seen``). If that decision is refused (by a rule, the form's
        version, or the log's version key because another process wrote since), it
        may have been made on old state, so it is dropped unsaved and made once more
        on the aggregate ``load`` reads from the log; only a refusal then is the
        user's answer, and a lost race then raises the library's ``IntegrityError``.
        Other failures drop the taken aggregate too: the cache reads it again when needed.
        """
        aggregate = self._last_seen(aggregate_id)
        if isinstance(aggregate, kind):
            version = aggregate.version
            try:
                # _last_seen made sure the aggregate's key is at hand: no key to prepare.
                return self._decide_once(aggregate, decide, keys_at_hand=True)
            except (DomainError, IntegrityError):
                # Perhaps decided on old state: decide again on the log's, below. A
                # refusal before any event changed nothing, so that aggregate goes back
                # to be fast-forwarded; a changed one is dropped with its object.
                if aggregate.version == version:
                    self._keep_in_cache(aggregate)
        return self._decide_once(load(aggregate_id), decide)

    def peek(self, aggregate_id: UUID) -> Any:
        """The aggregate or None, for reading only (so never deep-copied).

        While it is not in the aggregate cache (and it never is while it does not
        exist), ask the events table alone first: the library would also query the
        snapshot table every time, and until a team sets its terms that was two
        queries per recorded interaction for nothing.
        """
        copy = True
        if self.shortcuts:
            copy = False
            cache = self.repository.cache
            if cache is not None:
                try:
                    cache.get(aggregate_id)
                except KeyError:
                    if not list(self.repository.event_store.get(aggregate_id, limit=1)):
                        return None
        try:
            return self.repository.get(aggregate_id, deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            return None

    def terms_after(self, saved: Saved[Any], read: Callable[[], Terms]) -> Terms:
        """The agreement's terms as of ``saved`` (a ``decide_and_save`` of events that
        cannot change them); ``read`` reads them from the log, only if it must."""
        if not self.shortcuts:
            return read()
        return self.known_terms.after_save(saved.positions, read)

    # --- the library's construction, with this package's classes -------------

    def construct_mapper(self) -> Mapper[UUID]:
        # Seals each lead's personal data under its own key (store.personal_data);
        # bootstrap hands it the key store.
        mapper_class = BatchingPersonalDataMapper if self.shortcuts else PersonalDataMapper
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=mapper_class)

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository (9.5.6, same settings), able to hand out the aggregate
        as last seen without reading the log (``store.last_seen``).

        One difference, with or without the shortcuts: a cache size of 0 turns the cache
        off, as the settings and the operations notes say. The library reads its settings
        from ``os.environ`` too and takes 0 as an unbounded cache, which a process would
        fill with every lead.
        """
        maxsize = int(self.env.get(self.AGGREGATE_CACHE_MAXSIZE) or 0)
        repository_class = LastSeenRepository if self.shortcuts else Repository
        return repository_class(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=maxsize if maxsize > 0 else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
        )

    # --- the library's save (9.5.6), step for step, with three changes ----------

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        if not self.shortcuts:
            return super().save(*objs, **kwargs)
        # 1. Create the keys of every new lead in the batch in one transaction before
        # encoding, not one transaction per lead inside the mapper (store.key_batch).
        if isinstance(self.mapper, BatchingPersonalDataMapper):
            self.mapper.prepare_keys(
                e for o in objs if o is not None for e in getattr(o, "pending_events", [o])
            )
        return self._save_with_keys_at_hand(*objs, **kwargs)

    def _save_with_keys_at_hand(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        # 2. Collect without the library's runtime Protocol checks (see _CollectedEvents).
        processing_event = _CollectedEvents()
        processing_event.collect_events(*objs, **kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # deprecated hook; the library still calls it
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """3. The library's (9.5.6), but a snapshot at the version just saved is taken of
        the aggregate in hand, not of one rebuilt for it by reading and decoding (and
        unsealing) up to 50 events in the middle of the command that reached it.

        The aggregate in hand is what the log holds at that version: its events were
        decided on it and the save that recorded them succeeded. Any other version
        (an event in the middle of a multi-event save) takes the library's path.
        """
        if not self.shortcuts:
            super()._take_snapshots(processing_event)
            return
        if not (self.snapshots and self.snapshotting_intervals):
            return
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            if aggregate is None:
                continue
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval is None or event.originator_version % interval:
                continue
            snapshot_class = getattr(type(aggregate), "Snapshot", type(self).snapshot_class)
            if snapshot_class is not None and aggregate.version == event.originator_version:
                self.snapshots.put([snapshot_class.take(aggregate)])
            else:  # the library's path (and its error when no snapshot class is set)
                self.take_snapshot(event.originator_id, event.originator_version)

    # --- the aggregate cache, as commands use it -----------------------------

    def _last_seen(self, aggregate_id: UUID) -> Aggregate | None:
        """The cached aggregate, taken out of the cache (``LastSeenRepository.take``), if
        deciding on it can have no side effect; only a save puts it back.

        Sealing must not need to create a key: if another process erased the lead
        since, that would create a key for an erased lead before the save is refused.
        """
        mapper = self.mapper
        if not isinstance(self.repository, LastSeenRepository) or not isinstance(
            mapper, BatchingPersonalDataMapper
        ):
            return None
        if not mapper.can_seal_without_a_query(aggregate_id):
            return None
        aggregate = self.repository.take(aggregate_id)
        return aggregate if isinstance(aggregate, Aggregate) else None

    def _decide_once(self, aggregate: A, decide: Callable[[A], T], *, keys_at_hand: bool = False) -> Saved[T]:
        outcome = decide(aggregate)
        recordings = self._save_with_keys_at_hand(aggregate) if keys_at_hand else self.save(aggregate)
        # Read before the cache owns the aggregate.
        saved = Saved(aggregate.version, [r.notification.id for r in recordings], outcome)
        if self.shortcuts:
            self.known_terms.saw_saved(saved.positions)
        self._keep_in_cache(aggregate)
        return saved

    def _keep_in_cache(self, aggregate: Aggregate) -> None:
        """Put the aggregate a command took back in the aggregate cache: as just saved, or
        as it was when a refusal changed nothing.

        Otherwise the cache no longer holds it (a command takes it out), and the next
        command on it reads and decodes (and decrypts, fetching the key) its events.
        Gets still fast-forward from the log, so other processes' writes are seen as
        before. Only for an aggregate this method's caller no longer touches: the cache
        owns it from here.
        """
        if isinstance(self.repository, LastSeenRepository):
            self.repository.keep(aggregate)
