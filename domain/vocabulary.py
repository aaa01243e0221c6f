"""The shared vocabulary both teams use: stages, interaction kinds, sources."""

from enum import StrEnum


class Stage(StrEnum):
    LEAD = "Lead"
    MQL = "MQL"
    SQL = "SQL"
    OPPORTUNITY = "Opportunity"
    CUSTOMER = "Customer"
    DISQUALIFIED = "Disqualified"
    RECYCLED = "Recycled"


# The forward path of the funnel, in order.
FUNNEL = (Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER)

# Stages from which a lead can still move forward or be disqualified.
OPEN_STAGES = frozenset({Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY, Stage.RECYCLED})


class InteractionKind(StrEnum):
    EMAIL_SENT = "email_sent"
    EMAIL_OPENED = "email_opened"
    EMAIL_CLICKED = "email_clicked"
    CONTENT_VIEWED = "content_viewed"
    CONTENT_DOWNLOADED = "content_downloaded"
    FORM_SUBMITTED = "form_submitted"
    WEB_VISIT = "web_visit"
    WEBINAR = "webinar"
    CAMPAIGN_TOUCH = "campaign_touch"
    CALL = "call"
    MEETING = "meeting"
    NOTE = "note"


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    WEB = "web"
    SOCIAL = "social"
    EVENT = "event"
    IN_PERSON = "in_person"
    OTHER = "other"


class ContactOutcome(StrEnum):
    NO_ANSWER = "no_answer"
    LEFT_MESSAGE = "left_message"
    CONNECTED = "connected"
    MEETING_BOOKED = "meeting_booked"
    WRONG_CONTACT = "wrong_contact"


class Team(StrEnum):
    MARKETING = "marketing"
    SALES = "sales"


# Sources whose leads sales found itself; every other source is marketing's.
SALES_SOURCES = frozenset({"outbound", "sales_referral"})


def sourced_by(source: str) -> Team:
    """Which team a lead's origin is credited to (the marketing-revenue SLA)."""
    return Team.SALES if source in SALES_SOURCES else Team.MARKETING
