"""The e-mail of a notification, in the recipient's language.

Only what the recipient needs: what happened, the lead's name when their role may
read leads (never its e-mail or phone), and a link to the page where they act.
Rendered outside any request (the sender is its own process), so the catalog is
loaded with Babel directly rather than through Flask-Babel's request locale.
"""

from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

from domain.errors import N_
from smarketing.notifications import outbox
from smarketing.notifications.preferences import Recipient

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"
# Roles that may read a lead's page (smarketing.web.core.access: lead.find), so may see its name.
MAY_SEE_LEADS = frozenset({"marketing", "sales", "manager", "auditor", "admin"})

SUBJECTS = {
    outbox.ASSIGNED: N_("Lead assigned to you: %(lead)s"),
    outbox.REJECTED: N_("MQL rejected back to marketing: %(lead)s"),
    outbox.DUE_SOON: N_("Follow-up due within an hour: %(lead)s"),
    outbox.OVERDUE: N_("Follow-up overdue: %(lead)s"),
    outbox.IMPORT_DONE: N_("Your import has finished"),
    outbox.MEETING_PACK: N_("The weekly meeting pack is ready"),
}
BODIES = {
    outbox.ASSIGNED: N_("You are now the owner of this lead."),
    outbox.REJECTED: N_("Sales rejected this MQL; it is back with marketing."),
    outbox.DUE_SOON: N_("The first contact agreed in the SLA is due within an hour."),
    outbox.OVERDUE: N_("The first contact agreed in the SLA is overdue."),
    outbox.IMPORT_DONE: N_("Your import has finished: %(detail)s"),
    outbox.MEETING_PACK: N_(
        "This week's joint meeting pack (%(detail)s) is ready to read before the meeting."
    ),
}
OPEN = N_("Open it: %(link)s")
WHY = N_("You get this e-mail because of your notification preferences: %(link)s")
A_LEAD = N_("a lead")


@cache
def translations(language: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [language], domain="messages")


def message_id(notification_id: str) -> str:
    """The same id for every attempt: a receiver that sees a resent copy can tell."""
    return f"<{notification_id}@smarketing.notifications>"


def compose(
    note: dict[str, Any], to: Recipient, *, lead_name: str | None, base_url: str, sender: str
) -> EmailMessage:
    t = translations(to.language)
    lead = lead_name if lead_name and to.role in MAY_SEE_LEADS else t.gettext(A_LEAD)
    kind = note["kind"]
    base = base_url.rstrip("/")
    link = f"{base}/leads/{note['lead_id']}" if note.get("lead_id") else f"{base}/notifications"
    if kind == outbox.IMPORT_DONE:
        link = f"{base}/import/"
    elif kind == outbox.MEETING_PACK:
        link = f"{base}/meetings/weekly"
    message = EmailMessage()
    message["Subject"] = t.gettext(SUBJECTS[kind]) % {"lead": lead}
    message["From"] = sender
    message["To"] = to.email
    message["Message-ID"] = message_id(note["id"])
    message["Date"] = format_datetime(note["created_at"].replace(tzinfo=UTC))
    lines = [
        t.gettext(BODIES[kind]) % {"detail": note.get("detail", "")},
        "",
        t.gettext(OPEN) % {"link": link},
        "",
        "-- ",
        t.gettext(WHY) % {"link": f"{base}/notifications/preferences"},
    ]
    message.set_content("\n".join(lines))
    message["Content-Language"] = to.language  # after set_content, which resets Content-*
    return message
