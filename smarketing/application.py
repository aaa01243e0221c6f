"""The service layer: an eventsourcing ``Application`` whose commands take and
return plain values, and turn library errors into domain errors."""

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Mapper, Recording
from eventsourcing.utils import strtobool

from domain.email_index import LeadEmailIndex, email_external_key, email_index_id, legacy_email_index_id
from domain.errors import N_, DomainError, DuplicateEmail, LeadNotFound, LostRace, StaleLead
from domain.lead import Lead
from domain.validation import clean_email
from domain.vocabulary import Stage
from projections.gc_pause import gc_paused
from smarketing.agreement_commands import AgreementCommands
from smarketing.key_batch import BatchingPersonalDataMapper
from smarketing.known_terms import KnownTerms
from smarketing.last_seen import LastSeenRepository
from smarketing.money_commands import MoneyCommands
from smarketing.personal_data import PersonalDataMapper
from smarketing.retrying import retry_lost_races
from smarketing.terms_commands import TermsCommands


def parse_lead_id(lead_id: str | UUID) -> UUID:
    if isinstance(lead_id, UUID):
        return lead_id
    try:
        return UUID(str(lead_id))
    except ValueError:
        raise LeadNotFound(N_("No lead with id %(id)s."), id=repr(str(lead_id)[:40])) from None


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


class _Saved(NamedTuple):
    """A lead as a command saved it, and where its events went in the log."""

    version: int
    stage: str
    positions: list[int]


class SmarketingApplication(AgreementCommands, MoneyCommands, TermsCommands, Application[UUID]):
    name = "Smarketing"
    # Long streams load from a snapshot plus a few events.
    snapshotting_intervals = {Lead: 50}  # noqa: RUF012 - the library's declared shape

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self.known_terms = KnownTerms()
        self._index_secret = b""
        self._load_index_secret: Callable[[], bytes] | None = None

    def use_index_secret(self, load: Callable[[], bytes]) -> None:
        """How to read the installation's secret (from the key store, bootstrap): on first
        use, so a process can start before ``flask db init`` created it."""
        self._index_secret, self._load_index_secret = b"", load

    @property
    def index_secret(self) -> bytes:
        if not self._index_secret and self._load_index_secret is not None:
            self._index_secret = self._load_index_secret()
        return self._index_secret

    def email_index_id(self, email: str) -> UUID:
        return email_index_id(email, self.index_secret)

    def email_key(self, email: str) -> str:
        """The external key of a lead imported without one (smarketing.importing)."""
        return email_external_key(email, self.index_secret)

    def construct_mapper(self) -> Mapper[UUID]:
        # Seals each lead's personal data under its own key (smarketing.personal_data);
        # bootstrap hands it the key store.
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=BatchingPersonalDataMapper
        )

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository (9.5.6, same settings), able to hand out the lead
        as last seen without reading the log (``smarketing.last_seen``).

        One difference: a cache size of 0 turns the cache off, as the settings and the
        operations notes say. The library reads its settings from ``os.environ`` too and
        takes 0 as an unbounded cache, which a process would fill with every lead.
        """
        maxsize = int(self.env.get(self.AGGREGATE_CACHE_MAXSIZE) or 0)
        return LastSeenRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=maxsize if maxsize > 0 else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
        )

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's ``Application.save`` (9.5.6), step for step, with two changes."""
        # 1. Create the keys of every new lead in the batch in one transaction before
        # encoding, not one transaction per lead inside the mapper (smarketing.key_batch).
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
        """The library's (9.5.6), but a snapshot at the version just saved is taken of the
        aggregate in hand, not of one rebuilt for it by reading and decoding (and
        unsealing) up to 50 events in the middle of the command that reached it.

        The aggregate in hand is what the log holds at that version: its events were
        decided on it and the save that recorded them succeeded. Any other version
        (an event in the middle of a multi-event save) takes the library's path.
        """
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

    # --- commands -------------------------------------------------------

    def capture_lead(
        self, *, lead_id: UUID | None = None, known_campaigns: Iterable[str] = (), **fields: Any
    ) -> str:
        """``source`` is matched to the vocabulary (domain.sources): a known source by key or
        label, else kept as a new source; ``campaign`` to ``known_campaigns`` the same way."""
        email = clean_email(fields.get("email"))
        if fields.get("source") and str(fields["source"]).strip():
            resolver = self.source_resolver(known_campaigns)
            resolved = resolver.source(fields["source"])
            fields["source"], fields["sourced_by"] = resolved.key or fields["source"], resolved.sourced_by
            fields["campaign"] = resolver.campaign(fields.get("campaign"))
        index = self._email_index(email)
        if index is not None and index.is_taken:
            raise DuplicateEmail(N_("A lead with the e-mail %(email)s already exists."), email=email)
        lead = Lead.capture(lead_id or uuid4(), **fields)
        if index is None:
            index = LeadEmailIndex.register(self.email_index_id(email), lead.id)
        else:
            index.reassign(lead.id)  # the address was released by an erasure
        try:
            self.save(lead, index)
        except IntegrityError:
            # Lost a race with another writer for the same address (or id).
            raise DuplicateEmail(
                N_("A lead with the e-mail %(email)s already exists."), email=email
            ) from None
        return str(lead.id)

    def capture_many(self, leads: Iterable[Lead]) -> int:
        """Save already-built leads and their e-mail index entries in one transaction.

        With the cyclic collector paused (as the projector does per batch, see
        projections.gc_pause): the batch's events, stored events and recordings all
        survive the young collections, so a save of 1,000 leads set off a full
        collection of the whole heap every other batch, with nothing to free
        (a fifth of an import's save).
        """
        batch: list[Any] = []
        with gc_paused():
            for lead in leads:
                batch += [lead, LeadEmailIndex.register(self.email_index_id(lead.personal["email"]), lead.id)]
            if batch:
                self.save(*batch)
        return len(batch) // 2

    def record_interaction(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        # Not the promotion below: a retry of it would record the interaction twice.
        record = lambda lead: lead.record_interaction(**fields)  # noqa: E731 - a command's change
        saved = retry_lost_races(lambda: self._update_lead(lead_id, expected_version, record))
        if saved.stage != Stage.LEAD:
            # Only a Lead can be promoted by the scoring rule: no need to read the terms.
            return saved.version
        # In auto-promote mode the scoring rule may move the lead to MQL right away.
        terms = self.known_terms.after_save(saved.positions, self.agreement_terms)
        promoted = self.promote_if_scored(lead_id, terms=terms) is not None
        return saved.version + 1 if promoted else saved.version

    def log_contact_attempt(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        return retry_lost_races(
            lambda: self._update(lead_id, expected_version, lambda lead: lead.attempt_contact(**fields))
        )

    def assign_owner(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        return self._update(lead_id, expected_version, lambda lead: lead.assign_owner(**fields))

    def change_stage(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        return self._update(lead_id, expected_version, lambda lead: lead.change_stage(**fields))

    def reject_mql(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        return self._update(lead_id, expected_version, lambda lead: lead.reject_mql(**fields))

    def mark_won(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        return self._update(lead_id, expected_version, lambda lead: lead.win_deal(**fields))

    def mark_lost(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        return self._update(lead_id, expected_version, lambda lead: lead.lose_deal(**fields))

    def correct_amount(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        """A won deal's amount or currency corrected, with a reason (Lead.DealAmountCorrected)."""
        return self._update(lead_id, expected_version, lambda lead: lead.correct_amount(**fields))

    def erase_personal_data(self, lead_id: str, reason: str) -> int:
        """Crypto-shred: record ``PersonalDataErased``, then delete the lead's key.

        In that order, so every read model that ever saw the data also sees the
        erasure; re-running after a failed key deletion just finishes the job.
        """
        lead = self._load(lead_id)
        index = self._email_index(lead.personal.get("email", "")) if lead.personal.get("email") else None
        lead.erase_personal_data(reason)
        if index is not None and index.lead_id == lead.id:
            index.release()  # same transaction: the person may come back as a new lead
        try:
            self.save(lead, *([index] if index is not None else []))
        except IntegrityError:
            raise StaleLead(N_("Someone else changed this lead at the same moment; try again.")) from None
        version = lead.version
        assert isinstance(self.mapper, PersonalDataMapper)
        self.mapper._key_store().delete(parse_lead_id(lead_id).hex)
        return version

    # --- queries on the write model ---------------------------------------

    def get_lead(self, lead_id: str | UUID, version: int | None = None) -> dict[str, Any]:
        return self._load(lead_id, version=version).as_dict()

    def lead_events(self, lead_id: str | UUID) -> list[Any]:
        uuid = parse_lead_id(lead_id)
        events = list(self.repository.event_store.get(uuid))
        if not events:
            raise LeadNotFound(N_("No lead with id %(id)s."), id=str(uuid))
        return events

    def lead_id_for_email(self, email: str) -> str | None:
        index = self._email_index(email)
        return None if index is None or not index.is_taken else str(index.lead_id)

    def _email_index(self, email: str) -> LeadEmailIndex | None:
        """The address's index: keyed; else one from before keyed ids while it is taken
        (a released one is left alone: the address is registered anew, keyed)."""
        try:
            return self.repository.get(self.email_index_id(email))
        except AggregateNotFoundError:
            pass
        try:
            legacy: LeadEmailIndex = self.repository.get(legacy_email_index_id(email))
        except AggregateNotFoundError:
            return None
        return legacy if legacy.is_taken else None

    def lead_exists(self, lead_id: UUID) -> bool:
        return lead_id in self.repository

    # --- internals ------------------------------------------------------

    def _load(self, lead_id: str | UUID, version: int | None = None) -> Lead:
        uuid = parse_lead_id(lead_id)
        try:
            lead: object = self.repository.get(uuid, version=version)
        except AggregateNotFoundError:
            raise LeadNotFound(N_("No lead with id %(id)s."), id=str(uuid)) from None
        if not isinstance(lead, Lead):
            raise LeadNotFound(N_("No lead with id %(id)s."), id=str(uuid))
        return lead

    def _update(self, lead_id: str, expected_version: int | None, change: Callable[[Lead], None]) -> int:
        return self._update_lead(lead_id, expected_version, change).version

    def _update_lead(
        self, lead_id: str, expected_version: int | None, change: Callable[[Lead], None]
    ) -> _Saved:
        """Decide, save; the lead's version and stage as saved, and its events' log positions.

        First on the lead as this process last saw it, without reading the log
        (``smarketing.last_seen``). If that decision is refused (by a rule, the form's
        version, or the log's version key because another process wrote since), it
        may have been made on old state, so it is dropped unsaved and made once more
        on the lead read from the log; only a refusal then is the user's answer.
        Other failures drop the taken lead too: the cache reads it again when needed.
        """
        uuid = parse_lead_id(lead_id)
        lead = self._last_seen(uuid)
        if lead is not None:
            version = lead.version
            try:
                # _last_seen made sure the lead's key is at hand: no key to prepare.
                return self._decide_and_save(lead, expected_version, change, keys_at_hand=True)
            except (DomainError, IntegrityError):
                # Perhaps decided on old state: decide again on the log's, below. A
                # refusal before any event changed nothing, so that lead goes back to
                # be fast-forwarded; a changed one is dropped with its object.
                if lead.version == version:
                    self._keep_in_cache(lead)
        lead = self._load(uuid)
        try:
            return self._decide_and_save(lead, expected_version, change)
        except IntegrityError:
            raise LostRace(
                N_(
                    "Someone else changed this lead at the same moment; nothing of yours was saved. "
                    "Reload and try again."
                )
            ) from None

    def _last_seen(self, uuid: UUID) -> Lead | None:
        """The cached lead, taken out of the cache (``LastSeenRepository.take``), if
        deciding on it can have no side effect; only a save puts it back.

        Sealing must not need to create a key: if another process erased the lead
        since, that would create a key for an erased lead before the save is refused.
        """
        mapper = self.mapper
        if not isinstance(self.repository, LastSeenRepository) or not isinstance(
            mapper, BatchingPersonalDataMapper
        ):
            return None
        if not mapper.can_seal_without_a_query(uuid):
            return None
        lead = self.repository.take(uuid)
        return lead if isinstance(lead, Lead) else None

    def _decide_and_save(
        self,
        lead: Lead,
        expected_version: int | None,
        change: Callable[[Lead], None],
        *,
        keys_at_hand: bool = False,
    ) -> _Saved:
        if expected_version is not None and lead.version != expected_version:
            raise StaleLead(
                N_(
                    "This lead was changed by someone else since you opened it "
                    "(version %(version)s, your form had %(expected)s). Reload and try again."
                ),
                version=lead.version,
                expected=expected_version,
            )
        change(lead)
        recordings = self._save_with_keys_at_hand(lead) if keys_at_hand else self.save(lead)
        # Read before the cache owns the lead.
        saved = _Saved(lead.version, lead.stage, [r.notification.id for r in recordings])
        self.known_terms.saw_saved(saved.positions)
        self._keep_in_cache(lead)
        return saved

    def _keep_in_cache(self, lead: Lead) -> None:
        """Put the lead a command took back in the aggregate cache: as just saved, or
        as it was when a refusal changed nothing.

        Otherwise the cache no longer holds it (a command takes it out), and the next
        command on the lead reads and decodes (and decrypts, fetching the key) its
        events. Gets still fast-forward from the log, so other processes' writes are
        seen as before. Only for a lead this method's caller no longer touches: the
        cache owns it from here.
        """
        if isinstance(self.repository, LastSeenRepository):
            self.repository.keep(lead)
