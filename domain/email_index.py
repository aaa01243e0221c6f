"""One index aggregate per e-mail address: saving it with the lead, atomically,
makes a second lead with the same address impossible (the library's
index-aggregate pattern; the id is a uuid5 of the normalised address).

The address itself is not stored here: it is personal data, kept only in the
lead's own events where it can be erased."""

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import N_, DuplicateEmail


class LeadEmailIndex(Aggregate):
    class Event(Aggregate.Event):
        class_version = 1

    @event("Registered")
    def __init__(self, id: UUID, lead_id: UUID) -> None:  # noqa: A002 - library's name
        self.lead_id: UUID | None = lead_id

    @property
    def is_taken(self) -> bool:
        return self.lead_id is not None

    def release(self) -> None:
        """The lead's personal data was erased: the address may belong to a new lead."""
        if self.is_taken:
            self._released()

    @event("Released")
    def _released(self) -> None:
        self.lead_id = None

    def reassign(self, lead_id: UUID) -> None:
        if self.is_taken:
            raise DuplicateEmail(N_("A lead with this e-mail already exists."))
        self._reassigned(lead_id=lead_id)

    @event("Reassigned")
    def _reassigned(self, lead_id: UUID) -> None:
        self.lead_id = lead_id

    @classmethod
    def register(cls, email: str, lead_id: UUID) -> "LeadEmailIndex":
        return cls(id=email_index_id(email), lead_id=lead_id)


def email_index_id(email: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"smarketing:lead-email:{email.strip().lower()}")
