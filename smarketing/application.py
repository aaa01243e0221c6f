"""The service layer: an eventsourcing ``Application`` whose commands take and
return plain values, and turn library errors into domain errors."""

from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from domain.email_index import LeadEmailIndex, email_index_id
from domain.errors import DuplicateEmail, LeadNotFound, StaleLead
from domain.lead import Lead
from domain.validation import clean_email


def parse_lead_id(lead_id: str | UUID) -> UUID:
    if isinstance(lead_id, UUID):
        return lead_id
    try:
        return UUID(str(lead_id))
    except ValueError:
        raise LeadNotFound(f"No lead with id {str(lead_id)[:40]!r}.") from None


class SmarketingApplication(Application[UUID]):
    name = "Smarketing"
    # Long streams load from a snapshot plus a few events.
    snapshotting_intervals = {Lead: 50}  # noqa: RUF012 - the library's declared shape

    # --- commands -------------------------------------------------------

    def capture_lead(self, *, lead_id: UUID | None = None, **fields: Any) -> str:
        email = clean_email(fields.get("email"))
        self._refuse_duplicate(email)
        lead = Lead.capture(lead_id or uuid4(), **fields)
        try:
            self.save(lead, LeadEmailIndex.register(email, lead.id))
        except IntegrityError:
            # Lost a race with another writer for the same address (or id).
            raise DuplicateEmail(f"A lead with the e-mail {email} already exists.") from None
        return str(lead.id)

    def capture_many(self, leads: Iterable[Lead]) -> int:
        """Save already-built leads and their e-mail index entries in one transaction."""
        batch: list[Any] = []
        for lead in leads:
            batch += [lead, LeadEmailIndex.register(lead.personal["email"], lead.id)]
        if batch:
            self.save(*batch)
        return len(batch) // 2

    def record_interaction(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        return self._update(lead_id, expected_version, lambda lead: lead.record_interaction(**fields))

    def log_contact_attempt(self, lead_id: str, expected_version: int | None = None, **fields: Any) -> int:
        return self._update(lead_id, expected_version, lambda lead: lead.attempt_contact(**fields))

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

    # --- queries on the write model ---------------------------------------

    def get_lead(self, lead_id: str | UUID, version: int | None = None) -> dict[str, Any]:
        return self._load(lead_id, version=version).as_dict()

    def lead_events(self, lead_id: str | UUID) -> list[Any]:
        uuid = parse_lead_id(lead_id)
        events = list(self.repository.event_store.get(uuid))
        if not events:
            raise LeadNotFound(f"No lead with id {uuid}.")
        return events

    def lead_id_for_email(self, email: str) -> str | None:
        try:
            index = self.repository.get(email_index_id(email))
        except AggregateNotFoundError:
            return None
        return str(index.lead_id)

    def lead_exists(self, lead_id: UUID) -> bool:
        return lead_id in self.repository

    # --- internals ------------------------------------------------------

    def _refuse_duplicate(self, email: str) -> None:
        if self.lead_id_for_email(email) is not None:
            raise DuplicateEmail(f"A lead with the e-mail {email} already exists.")

    def _load(self, lead_id: str | UUID, version: int | None = None) -> Lead:
        uuid = parse_lead_id(lead_id)
        try:
            lead = self.repository.get(uuid, version=version)
        except AggregateNotFoundError:
            raise LeadNotFound(f"No lead with id {uuid}.") from None
        if not isinstance(lead, Lead):
            raise LeadNotFound(f"No lead with id {uuid}.")
        return lead

    def _update(self, lead_id: str, expected_version: int | None, change: Callable[[Lead], None]) -> int:
        lead = self._load(lead_id)
        if expected_version is not None and lead.version != expected_version:
            raise StaleLead(
                "This lead was changed by someone else since you opened it "
                f"(version {lead.version}, your form had {expected_version}). Reload and try again."
            )
        change(lead)
        try:
            self.save(lead)
        except IntegrityError:
            raise StaleLead(
                "Someone else changed this lead at the same moment; nothing of yours was saved. "
                "Reload and try again."
            ) from None
        return lead.version
