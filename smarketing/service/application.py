"""The service layer: the business commands, which take and return plain values and
turn library errors into domain errors. How aggregates are loaded, cached and saved
(and the switch that turns that machinery off) is ``smarketing.store``'s."""

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.email_index import LeadEmailIndex, email_external_key, email_index_id, legacy_email_index_id
from domain.errors import N_, DuplicateEmail, LeadNotFound, LostRace, StaleLead
from domain.lead import Lead
from domain.validation import clean_email
from domain.vocabulary import Stage
from projections.engine.gc_pause import gc_paused
from smarketing.service.agreement_commands import AgreementCommands
from smarketing.service.money_commands import MoneyCommands
from smarketing.service.retrying import retry_lost_races
from smarketing.service.terms_commands import TermsCommands
from smarketing.store.application import Saved, StoredApplication
from smarketing.store.personal_data import PersonalDataMapper


def parse_lead_id(lead_id: str | UUID) -> UUID:
    if isinstance(lead_id, UUID):
        return lead_id
    try:
        return UUID(str(lead_id))
    except ValueError:
        raise LeadNotFound(N_("No lead with id %(id)s."), id=repr(str(lead_id)[:40])) from None


# What runs after a lead command was saved: (lead id, action, the command's fields).
LeadHook = Callable[[str, str, dict[str, Any]], None]
# Set while the hook runs (or is held off): the loop's own commands (its assign_owner)
# must not start the loop again from inside itself.
_HOOK_HELD: ContextVar[bool] = ContextVar("lead_hook_held", default=False)


class SmarketingApplication(AgreementCommands, MoneyCommands, TermsCommands, StoredApplication):
    """The business commands; how their aggregates are loaded, cached and saved is
    ``StoredApplication``'s (smarketing.store.application)."""

    name = "Smarketing"
    # Long streams load from a snapshot plus a few events.
    snapshotting_intervals = {Lead: 50}  # noqa: RUF012 - the library's declared shape

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self._index_secret = b""
        self._load_index_secret: Callable[[], bytes] | None = None
        self._after_lead_change: LeadHook | None = None

    def use_after_lead_change(self, hook: LeadHook) -> None:
        """What follows a lead command once it is saved (the composition root gives it the
        daily loop, smarketing.service.daily_loop): so every caller (web, API, CLI, the
        scoring rule) assigns new MQLs, opens and completes follow-up tasks and returns
        rejected MQLs, not only the lead page. Bulk imports save aggregates directly and
        never run it (smarketing.importing.run)."""
        self._after_lead_change = hook

    @contextmanager
    def lead_hook_held(self) -> Iterator[None]:
        """Commands inside run without the after-change hook (the hook itself runs so)."""
        token = _HOOK_HELD.set(True)
        try:
            yield
        finally:
            _HOOK_HELD.reset(token)

    def _changed(self, lead_id: str, action: str, fields: dict[str, Any]) -> None:
        if self._after_lead_change is None or _HOOK_HELD.get():
            return
        with self.lead_hook_held():
            self._after_lead_change(str(lead_id), action, fields)

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
        projections.engine.gc_pause): the batch's events, stored events and recordings all
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
        if saved.outcome != Stage.LEAD:
            # Only a Lead can be promoted by the scoring rule: no need to read the terms.
            return saved.version
        # In auto-promote mode the scoring rule may move the lead to MQL right away.
        terms = self.terms_after(saved, self.agreement_terms)
        promoted = self.promote_if_scored(lead_id, terms=terms) is not None
        return saved.version + 1 if promoted else saved.version

    def log_contact_attempt(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        version = retry_lost_races(
            lambda: self._update(lead_id, expected_version, lambda lead: lead.attempt_contact(**fields))
        )
        self._changed(lead_id, "attempt", fields)
        return version

    def assign_owner(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        version = self._update(lead_id, expected_version, lambda lead: lead.assign_owner(**fields))
        self._changed(lead_id, "owner", fields)
        return version

    def change_stage(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        version = self._update(lead_id, expected_version, lambda lead: lead.change_stage(**fields))
        self._changed(lead_id, "stage", fields)
        return version

    def reject_mql(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        version = self._update(lead_id, expected_version, lambda lead: lead.reject_mql(**fields))
        self._changed(lead_id, "reject", fields)
        return version

    def mark_won(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        version = self._update(lead_id, expected_version, lambda lead: lead.win_deal(**fields))
        self._changed(lead_id, "won", fields)
        return version

    def mark_lost(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        version = self._update(lead_id, expected_version, lambda lead: lead.lose_deal(**fields))
        self._changed(lead_id, "lost", fields)
        return version

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
    ) -> Saved[str]:
        """Check the form's version, ``change`` the lead, save; the lead as saved (its
        ``outcome``: its stage). A decision made on the lead as this process last saw it
        is made again on the log's state if refused (``StoredApplication.decide_and_save``);
        losing the race after that is the user's answer."""

        def decide(lead: Lead) -> str:
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
            return lead.stage

        try:
            return self.decide_and_save(parse_lead_id(lead_id), Lead, decide, load=self._load)
        except IntegrityError:
            raise LostRace(
                N_(
                    "Someone else changed this lead at the same moment; nothing of yours was saved. "
                    "Reload and try again."
                )
            ) from None
