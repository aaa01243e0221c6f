"""Lead builders shared by the unit tests of the Lead aggregate."""

import uuid
from datetime import UTC, datetime

from domain.lead import Lead

NAME = "Zelda Quux"
EMAIL = "Zelda.Quux@Example.org"
PHONE = "+49 30 5550199"
DETAILS = "Zelda asked about pricing for 40 seats"
NOTE = "Zelda prefers mornings; write to zelda.quux@example.org"


def now() -> datetime:
    return datetime.now(UTC)


def capture(**overrides) -> Lead:
    fields = {"name": NAME, "email": EMAIL, "phone": PHONE, "company": "Acme GmbH", "source": "webinar"}
    fields.update(overrides)
    return Lead.capture(uuid.uuid4(), **fields)


def opportunity() -> Lead:
    lead = capture()
    lead.change_stage("MQL")
    lead.change_stage("SQL")
    lead.change_stage("Opportunity")
    lead.collect_events()
    return lead


def full_history(lead: Lead, details: str = DETAILS, note: str = NOTE) -> Lead:
    """Every kind of event a lead can have, in a plausible order."""
    lead.record_interaction("webinar", "web", details)
    lead.attempt_contact("phone", "left_message", note)
    lead.assign_owner("mia.sales", "sales")
    lead.change_stage("MQL")
    lead.reject_mql("no budget yet")
    lead.change_stage("MQL")
    lead.change_stage("SQL")
    lead.lose_deal("went quiet")
    lead.change_stage("Recycled")
    lead.change_stage("Lead")
    lead.change_stage("Opportunity", reason="returned with signed budget")
    lead.win_deal("12500.50", "eur")
    return lead
