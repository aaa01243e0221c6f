"""One index aggregate per e-mail address: saving it with the lead, atomically,
makes a second lead with the same address impossible (the library's
index-aggregate pattern).

The address itself is not stored here: it is personal data, kept only in the
lead's own events where it can be erased. Nor is anything a guess could be checked
against: the id is a keyed hash (HMAC-SHA256) of the normalised address under the
installation's secret (kept in the key store), so knowing an address does not find
the index, nor through it an erased lead. Stores from before hold ids that were a
plain uuid5 of the address (``legacy_email_index_id``); they are still looked up so
their addresses stay taken (docs/SECURITY.md, "Erasure")."""

import hashlib
import hmac
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import N_, DuplicateEmail


class LeadEmailIndex(Aggregate):
    class Event(Aggregate.Event):
        class_version = 1

    class Registered(Event, Aggregate.Created):
        lead_id: UUID

    class Released(Event):
        pass

    class Reassigned(Event):
        lead_id: UUID

    @event(Registered)
    def __init__(self, id: UUID, lead_id: UUID) -> None:  # noqa: A002 - library's name
        self.lead_id: UUID | None = lead_id

    @property
    def is_taken(self) -> bool:
        return self.lead_id is not None

    def release(self) -> None:
        """The lead's personal data was erased: the address may belong to a new lead."""
        if self.is_taken:
            self._released()

    @event(Released)
    def _released(self) -> None:
        self.lead_id = None

    def reassign(self, lead_id: UUID) -> None:
        if self.is_taken:
            raise DuplicateEmail(N_("A lead with this e-mail already exists."))
        self._reassigned(lead_id=lead_id)

    @event(Reassigned)
    def _reassigned(self, lead_id: UUID) -> None:
        self.lead_id = lead_id

    @classmethod
    def register(cls, index_id: UUID, lead_id: UUID) -> "LeadEmailIndex":
        """``index_id``: ``email_index_id`` of the lead's address."""
        return cls(id=index_id, lead_id=lead_id)


def _keyed_hash(email: str, secret: bytes) -> bytes:
    if not secret:
        raise ValueError("a keyed hash needs the installation's secret")
    return hmac.new(secret, f"lead-email:{email.strip().lower()}".encode(), hashlib.sha256).digest()


def email_index_id(email: str, secret: bytes) -> UUID:
    return UUID(bytes=_keyed_hash(email, secret)[:16])


def email_external_key(email: str, secret: bytes) -> str:
    """The external key of a lead imported without a key column (never the address itself)."""
    return "email-hmac:" + _keyed_hash(email, secret).hex()[:40]


def legacy_email_index_id(email: str) -> UUID:
    """The index id stores kept before keyed hashes: guessable, so only ever looked up."""
    return uuid5(NAMESPACE_URL, f"smarketing:lead-email:{email.strip().lower()}")
