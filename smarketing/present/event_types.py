"""Every kind of lead event declared once, keyed by its class: its name (the audit
replay's steps, ``label("event", ...)``), its icon, its line on the timeline in the
reader's language, and its plain English line for the terminal (``flask leads timeline``).

Stored rows (the timeline read model, the audit replay) name an event by its class name,
so ``by_name`` finds the same entry from them. A new event class is registered here;
tests/unit/test_event_types.py fails while one is missing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from domain.lead import Lead
from smarketing.present.formatting import stored_money
from smarketing.present.labels import label

Data = dict[str, Any]


@dataclass(frozen=True)
class EventType:
    label: Any  # a lazy catalog string: read in the reader's language when shown
    icon: str
    headline: Callable[[Data], str]  # the timeline's line, translated
    line: Callable[[Data], str]  # the terminal's line, English, values as stored

    @property
    def name(self) -> str:
        return str(self.label)


def _label(kind: str, key: Any) -> str:
    return label(kind, key)


def _named(label: Any, detail: Callable[[Data], str] | None = None) -> Callable[[Data], str]:
    """The timeline line "Name: detail" (or the name alone)."""
    if detail is None:
        return lambda d: str(label)
    return lambda d: f"{label}: {detail(d)}"


def _captured(d: Data) -> str:
    campaign = f" ({d['campaign']})" if d.get("campaign") else ""
    return _("Captured from %(source)s", source=_label("source", d.get("source"))) + campaign


def _captured_line(d: Data) -> str:
    return f"Captured from {d['source']}" + (f" ({d['campaign']})" if d.get("campaign") else "")


def _interaction_line(d: Data) -> str:
    details = (d.get("personal") or {}).get("details")
    return f"Interaction: {d['kind']} via {d['channel']}" + (f" — {details}" if details else "")


def _won_line(d: Data) -> str:
    amount = d.get("amount")
    known = amount not in (None, "", "0", "0.00")  # 0: a v1 row read before upcasting
    return f"Deal won: {amount} {d['currency']}" if known else "Deal won: amount unknown"


def _corrected_line(d: Data) -> str:
    old = f"{d['old_amount'] or 'unknown'} {d['old_currency']}"
    return f"Amount corrected: {old} → {d['amount']} {d['currency']} — {d['reason']}"


def _stage_line(d: Data) -> str:
    reason = f" — {d['reason']}" if d.get("reason") else ""
    return f"Stage {d['from_stage']} → {d['to_stage']}{reason}"


def _stage(d: Data) -> str:
    return f"{_('Stage')}: {_label('stage', d.get('from_stage'))} → {_label('stage', d.get('to_stage'))}"


def _assigned(d: Data) -> str:
    """By hand: "Owner assigned: X (team)"; by a rule: "Assigned to X by the rule «…»"."""
    if not d.get("rule"):
        return f"{OWNER_ASSIGNED}: {d.get('owner')} ({_label('team', d.get('team'))})"
    return _("Assigned to %(owner)s by the rule «%(rule)s»", owner=d.get("owner"), rule=rule_words(d["rule"]))


def _assigned_line(d: Data) -> str:
    rule = f" by the rule {d['rule']}" if d.get("rule") else ""
    return f"Owner: {d['owner']} ({d['team']}){rule}"


def rule_words(rule: str) -> str:
    """An assignment rule's key (domain.assignment) in the reader's words."""
    if rule == "round_robin":
        return _("round robin")
    if rule == "returns_to":
        return _("returns go to marketing")
    by, _sep, value = rule.partition("=")
    names = {"source": _("source"), "campaign": _("campaign"), "persona": _("persona")}
    return f"{names.get(by, by)}: {value}"


INTERACTION = _l("Interaction")
CONTACT_ATTEMPT = _l("Contact attempt")
OWNER_ASSIGNED = _l("Owner assigned")
MQL_REJECTED = _l("MQL rejected by sales")
DEAL_WON = _l("Deal won")
DEAL_LOST = _l("Deal lost")
AMOUNT_CORRECTED = _l("Amount corrected")
ERASED = _l("Personal data erased")

EVENT_TYPES: dict[type[Aggregate.Event], EventType] = {
    Lead.Captured: EventType(_l("Captured"), "✚", _captured, _captured_line),
    Lead.InteractionRecorded: EventType(
        INTERACTION,
        "✎",
        _named(
            INTERACTION,
            lambda d: f"{_label('interaction', d.get('kind'))} · {_label('channel', d.get('channel'))}",
        ),
        _interaction_line,
    ),
    Lead.ContactAttempted: EventType(
        CONTACT_ATTEMPT,
        "☎",
        _named(
            CONTACT_ATTEMPT,
            lambda d: f"{_label('channel', d.get('channel'))} · {_label('outcome', d.get('outcome'))}",
        ),
        lambda d: f"Contact attempt by {d['channel']}: {d['outcome']}",
    ),
    Lead.OwnerAssigned: EventType(OWNER_ASSIGNED, "☺", _assigned, _assigned_line),
    Lead.StageChanged: EventType(_l("Stage changed"), "➜", _stage, _stage_line),
    Lead.MQLRejected: EventType(
        MQL_REJECTED, "↩", _named(MQL_REJECTED), lambda d: f"MQL rejected by sales: {d['reason']}"
    ),
    Lead.DealWon: EventType(
        DEAL_WON,
        "★",
        _named(DEAL_WON, lambda d: stored_money(d.get("amount"), d.get("currency", ""))),
        _won_line,
    ),
    Lead.DealLost: EventType(DEAL_LOST, "✕", _named(DEAL_LOST), lambda d: f"Deal lost: {d['reason']}"),
    Lead.DealAmountCorrected: EventType(
        AMOUNT_CORRECTED,
        "±",
        _named(
            AMOUNT_CORRECTED,
            lambda d: (
                f"{stored_money(d.get('old_amount'), d.get('old_currency', ''))} → "
                f"{stored_money(d.get('amount'), d.get('currency', ''))}"
            ),
        ),
        _corrected_line,
    ),
    Lead.PersonalDataErased: EventType(ERASED, "⌫", _named(ERASED), lambda d: "PersonalDataErased"),
}

# Stored rows name the class (``type(event).__name__``): lead events' names are unique.
_BY_NAME = {cls.__name__: kind for cls, kind in EVENT_TYPES.items()}


# The events' names as ``label("event", name)`` reads them.
def by_name(event_type: str) -> EventType | None:
    return _BY_NAME.get(event_type)


def headline(event_type: str, data: Data) -> str:
    """The event's line on the timeline, in the reader's language (its stored name if unknown)."""
    kind = by_name(event_type)
    return event_type if kind is None else kind.headline(data)


def event_label(event_type: str) -> str:
    """The event's name in the reader's language (its stored name if unknown)."""
    kind = by_name(event_type)
    return event_type if kind is None else kind.name


def icon(event_type: str) -> str:
    kind = by_name(event_type)
    return "" if kind is None else kind.icon
