"""Words the pages and the report show for stored keys (stages, metrics, bands, sources).

Lazy strings: resolved when rendered, so the locale forced for the PDF applies.
Unknown keys fall back to a readable form of the key rather than failing.
"""

from datetime import date
from typing import Any

from babel.dates import format_skeleton
from flask import current_app, g, has_app_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from domain import agreement as a
from domain.agreement_terms import DEFAULTS, MEETINGS
from domain.sources import BUILT_IN

STAGES = {
    "Lead": _l("Lead"),
    "MQL": _l("MQL"),
    "SQL": _l("SQL"),
    "Opportunity": _l("Opportunity"),
    "Customer": _l("Customer"),
    "Disqualified": _l("Disqualified"),
    "Recycled": _l("Recycled"),
}

METRICS = {
    a.REVENUE_GOAL: _l("Revenue"),
    a.MARKETING_REVENUE: _l("Marketing-sourced revenue"),
    a.MQLS_DELIVERED: _l("MQLs delivered"),
    a.AVG_DEAL_PER_OPPORTUNITY: _l("Average deal per opportunity"),
    a.LEAD_TO_CUSTOMER: _l("Lead to customer"),
    a.FOLLOW_UP_HOURS: _l("First follow-up (hours)"),
    a.FOLLOW_UP_SHARE: _l("MQLs followed up in time"),
    a.ATTEMPTS_PER_MQL: _l("Contact attempts per MQL"),
    a.ATTEMPTS_WINDOW_DAYS: _l("Attempts window (days)"),
    a.SALES_CONVERSION: _l("MQL to customer"),
}

STATUSES = {
    "on_track": _l("On track"),
    "at_risk": _l("At risk"),
    "missed": _l("Missed"),
    "no_target": _l("No target"),
    "unconverted": _l("Not graded: amounts without an exchange rate"),
    "no_slice_target": _l("No target for this slice"),
}

BANDS = {
    "0-5m": _l("Under 5 minutes"),
    "5-60m": _l("5 to 60 minutes"),
    "1-24h": _l("1 to 24 hours"),
    ">24h": _l("More than 24 hours"),
}

# Sources: the vocabulary's words (domain.sources.BUILT_IN, and those a manager
# accepted), in the reader's language: ``source_label``.
SOURCES = BUILT_IN

FIELDS = {
    "username": _l("User name"),
    "role": _l("Role"),
    "password": _l("Password"),
    "name": _l("Name"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "company": _l("Company"),
    "source": _l("Source"),
    "campaign": _l("Campaign"),
    "landing_page": _l("Landing page"),
    "persona": _l("Buyer persona"),
    "owner": _l("Owner"),
    "team": _l("Team"),
    "reason": _l("Reason"),
    "confirm_email": _l("Confirm e-mail"),
    "amount": _l("Amount"),
    "currency": _l("Currency"),
    "old_amount": _l("Previous amount"),
    "old_currency": _l("Previous currency"),
    "rate": _l("Exchange rate"),
    "valid_from": _l("Valid from"),
    "kind": _l("Kind"),
    "channel": _l("Channel"),
    "outcome": _l("Outcome"),
    "details": _l("Details"),
    "note": _l("Note"),
    "occurred_at": _l("When it happened"),
    "month": _l("Month"),
    "format": _l("Format"),
    "week": _l("Week"),
    "at": _l("As of"),
    "goal": _l("Revenue goal (EUR)"),
    "avg_deal": _l("Average deal (EUR)"),
    "value": _l("Value"),
    "metric": _l("Metric"),
    "id": _l("Id"),
    "version": _l("Version"),
    "stage": _l("Stage"),
    "sourced_by": _l("Sourced by"),
    "attempts": _l("Contact attempts"),
    "interactions": _l("Interactions"),
    "captured_at": _l("Captured"),
    "key": _l("Key in the source system"),
    "stage_at": _l("Stage reached at"),
    "won_at": _l("Won at"),
    "stage_entered_at": _l("In this stage since"),
    "last_activity_at": _l("Last activity"),
    "won_amount": _l("Amount won"),
    "allowed_moves": _l("Possible next stages"),
    "external_key": _l("Source key"),
    # Fields of the shared vocabulary and of the agreement's standing terms (their history).
    "description": _l("Description"),
    "pains": _l("Pains"),
    "signals": _l("Qualifying signals"),
    "points": _l("Points"),
    "half_life_days": _l("Half-life (days)"),
    "threshold": _l("MQL threshold (points)"),
    "mode": _l("Mode"),
    "timezone": _l("Time zone"),
    "workdays": _l("Working days"),
    "opens": _l("Opens"),
    "closes": _l("Closes"),
    "nights_count": _l("Nights count (hours outside opening time)"),
    "weekends_count": _l("Weekends count (non-working days)"),
    "weekly_attendees": _l("Weekly: attendees"),
    "weekly_minutes": _l("Weekly: minutes"),
    "monthly_attendees": _l("Monthly: attendees"),
    "monthly_minutes": _l("Monthly: minutes"),
    # The vocabulary's sources and campaigns (their history and form errors).
    "es": _l("Spanish label"),
    "en": _l("English label"),
    "label_es": _l("Spanish label"),
    "label_en": _l("English label"),
    "into": _l("Merge into"),
    # Fields of the other forms: targets, meetings, users, and the lists' page links.
    "slice_by": _l("Target for"),
    "slice_value": _l("Source or owner"),
    "values": _l("Values"),
    "section": _l("Section"),
    "part": _l("Form"),
    "text": _l("Criteria text"),
    "decision": _l("Decision"),
    "action": _l("Action item"),
    "number": _l("Action item number"),
    "meeting": _l("Meeting"),
    "period": _l("Period"),
    "after": _l("Page link"),
    "expected_version": _l("Version of the lead in the form"),
    "list": _l("List"),
}

# What changed in the agreement's documents (projections.models.agreement_docs kinds and the
# terms' sections).
DOCUMENTS = {
    "persona": _l("Persona"),
    "criteria": _l("Criteria"),
    "terms": _l("Terms"),
    "scoring": _l("Lead scoring"),
    "calendar": _l("Team calendar for follow-up deadlines"),
    "meetings": _l("Joint meetings"),
    "source": _l("Source"),
    "source_merge": _l("Source merged"),
    "campaign": _l("Campaign"),
}

SIDES = {"marketing": _l("Marketing"), "sales": _l("Sales")}

# domain.vocabulary's interaction kinds, channels, contact outcomes and teams.
INTERACTIONS = {
    "email_sent": _l("E-mail sent"),
    "email_opened": _l("E-mail opened"),
    "email_clicked": _l("E-mail link clicked"),
    "content_viewed": _l("Content viewed"),
    "content_downloaded": _l("Content downloaded"),
    "form_submitted": _l("Form submitted"),
    "web_visit": _l("Web visit"),
    "webinar": _l("Webinar"),
    "campaign_touch": _l("Campaign touch"),
    "call": _l("Call"),
    "meeting": _l("Meeting"),
    "note": _l("Note"),
}

CHANNELS = {
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "web": _l("Web"),
    "social": _l("Social"),
    "event": _l("Event"),
    "in_person": _l("In person"),
    "other": _l("Other"),
}

OUTCOMES = {
    "no_answer": _l("No answer"),
    "left_message": _l("Left a message"),
    "connected": _l("Connected"),
    "meeting_booked": _l("Meeting booked"),
    "wrong_contact": _l("Wrong contact"),
}

# The meetings' attendees until a team writes its own are the app's words, not the
# team's (domain.agreement_terms.DEFAULTS): shown in the reader's language.
DEFAULT_ATTENDEES = {
    DEFAULTS[MEETINGS]["weekly_attendees"]: _l("Marketing lead, Sales lead, SDR team"),
    DEFAULTS[MEETINGS]["monthly_attendees"]: _l("Marketing director, Sales director, both teams' leads"),
}


def attendees(written: str) -> str:
    """A meeting's attendees as the team wrote them; the defaults in the reader's language."""
    return str(DEFAULT_ATTENDEES.get(written, written))


def meetings_terms(values: dict[str, Any]) -> dict[str, Any]:
    """The meetings section of the terms as shown (and offered for editing)."""
    return {k: attendees(v) if k.endswith("_attendees") else v for k, v in values.items()}


# The scorecard's figures by their keys (projections.queries.scorecard_query), beside its metrics.
FIGURES = METRICS | {
    "leads": _l("Leads"),
    "mqls": _l("MQLs"),
    "sqls": _l("SQLs"),
    "opportunities": _l("Opportunities"),
    "won": _l("Deals won"),
    "lost": _l("Deals lost"),
    "rejected": _l("MQLs rejected by sales"),
    "revenue": _l("Revenue"),
    "follow_up_median_hours": _l("Median first follow-up (hours)"),
    "follow_up_p95_hours": _l("First follow-up, 95th percentile (hours)"),
    "follow_up_within_target": _l("MQLs followed up in time"),
    "mqls_never_contacted": _l("MQLs never contacted"),
}

# The people's roles (smarketing.service.users.ROLES), as the menu and the Users page name them.
ROLES = {
    "marketing": _l("Marketing"),
    "sales": _l("Sales"),
    "manager": _l("Manager"),
    "auditor": _l("Auditor"),
    "admin": _l("Administrator"),
}


# Lead fields whose values are keys of one of the tables below (the rest read as stored).
FIELD_VALUES = {
    "stage": "stage",
    "allowed_moves": "stage",
    "source": "source",
    "team": "team",
    "sourced_by": "team",
}

TABLES: dict[str, dict[str, Any]] = {
    "stage": STAGES,
    "metric": METRICS,
    "status": STATUSES,
    "band": BANDS,
    "source": SOURCES,
    "side": SIDES,
    "team": SIDES,
    "field": FIELDS | INTERACTIONS,  # the scoring terms' points are per interaction kind
    "document": DOCUMENTS,
    "interaction": INTERACTIONS,
    "channel": CHANNELS,
    "outcome": OUTCOMES,
    "figure": FIGURES,
    "role": ROLES,
}


def label(kind: str, key: Any) -> str:
    """The reader's word for ``key``; an empty value means nobody (e.g. no owner yet)."""
    if key in (None, ""):
        return str(_l("Unassigned") if kind == "owner" else _l("(none)"))
    if kind == "source":
        return source_label(str(key))
    if kind == "campaign":
        return campaign_label(str(key))
    found = TABLES.get(kind, {}).get(key)
    if found is not None:
        return str(found)
    return str(key).replace("_", " ").capitalize() if kind in ("metric", "source") else str(key)


def period_name(kind: str, period: str) -> str:
    """A meeting's period in words: ``2026-W50`` is "semana 50 de 2026", ``2026-12`` "diciembre de 2026"."""
    if "-W" in period:
        year, week = period.split("-W")
        return _("week %(week)d of %(year)s", week=int(week), year=year)
    try:
        first = date.fromisoformat(period + "-01")
    except ValueError:
        return period  # not a period this app wrote: as it was given
    return format_skeleton("yMMMM", first, locale=get_locale())


# --- the vocabulary's own words (sources and campaigns) ------------------------------

# app.extensions key of a callable giving the vocabulary's accepted sources and labelled
# campaigns ({"source": {key: {es, en, sourced_by}}, "campaign": {name: {es, en}}});
# registered by the web app (smarketing.present.source_words), read once per request.
VOCABULARY_LOADER = "smarketing.vocabulary_words"


def language() -> str:
    """The reader's language among the vocabulary's (es, en)."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "es"


def _vocabulary_words() -> dict[str, dict[str, dict[str, str]]]:
    if not has_app_context():
        return {}
    words = g.get("vocabulary_words")
    if words is None:
        loader = current_app.extensions.get(VOCABULARY_LOADER)
        words = g.vocabulary_words = loader() if loader is not None else {}
    return words


def source_label(key: str) -> str:
    """A source in the reader's language: built-in or accepted; a new source as typed, capitalised."""
    lang = language()
    builtin = BUILT_IN.get(key)
    if builtin is not None:
        return builtin.label(lang)
    accepted = _vocabulary_words().get("source", {}).get(key)
    if accepted:
        return accepted.get(lang) or accepted.get("es") or key
    return key.replace("_", " ").capitalize()


def campaign_label(name: str) -> str:
    """A campaign as the vocabulary labels it in the reader's language, else as the leads carry it."""
    labelled = _vocabulary_words().get("campaign", {}).get(name)
    return (labelled.get(language()) or name) if labelled else name
