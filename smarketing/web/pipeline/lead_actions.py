"""The lead page's actions, declared once: what each reads from its form, the
application command it runs, who may run it and what it confirms.

Why: the route (``lead_page.act``), the permission table (``access.WRITE``) and the
action forms (``partials/lead_actions.html``, through ``may_act``) used to keep their
own tables keyed by the same strings, so a new action meant four edits that nothing
checked against one another. This module knows nothing of access, so that both the
route and the permission table can read it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import request
from flask_babel import lazy_gettext as _l

from smarketing.web.input import forms
from smarketing.web.input.amount_input import parse_amount


@dataclass(frozen=True)
class LeadAction:
    command: str  # the SmarketingApplication method it runs
    permission: str  # smarketing.web.core.access: who may run it
    done: Any  # the confirmation, a lazy string (translated when shown)
    # The command's arguments from the request's form; read inside the route, so that
    # a parse error is the form's error. Its argument: the team's time zone.
    fields: Callable[[ZoneInfo], dict[str, Any]]


def _form(name: str) -> str:
    return forms.text(request.form, name)


def _when(tz: ZoneInfo) -> Any:
    return forms.business_time(request.form, tz)


def _amount() -> Decimal | str:
    amount = forms.number(request.form, "amount")
    return "" if amount is None else amount  # empty: the domain says it is required


LEAD_ACTIONS: dict[str, LeadAction] = {
    "interaction": LeadAction(
        "record_interaction",
        "lead.interaction",
        _l("Interaction recorded."),
        lambda tz: {
            "kind": _form("kind"),
            "channel": _form("channel"),
            "details": _form("details"),
            "occurred_at": _when(tz),
        },
    ),
    "attempt": LeadAction(
        "log_contact_attempt",
        "lead.attempt",
        _l("Contact attempt logged."),
        lambda tz: {
            "channel": _form("channel"),
            "outcome": _form("outcome"),
            "note": _form("note"),
            "occurred_at": _when(tz),
        },
    ),
    "owner": LeadAction(
        "assign_owner",
        "lead.owner",
        _l("Owner assigned."),
        lambda tz: {"owner": _form("owner"), "team": _form("team"), "occurred_at": _when(tz)},
    ),
    # lead.stage; access.permission_for lowers it to lead.stage.early for the early stages.
    "stage": LeadAction(
        "change_stage",
        "lead.stage",
        _l("Stage changed."),
        lambda tz: {"to_stage": _form("to_stage"), "reason": _form("reason"), "occurred_at": _when(tz)},
    ),
    "reject": LeadAction(
        "reject_mql",
        "lead.reject",
        _l("MQL rejected back to marketing."),
        lambda tz: {"reason": _form("reason"), "occurred_at": _when(tz)},
    ),
    "won": LeadAction(
        "mark_won",
        "lead.close",
        _l("Deal marked as won."),
        lambda tz: {
            "amount": _amount(),
            "currency": _form("currency") or "EUR",
            "reason": _form("reason"),
            "occurred_at": _when(tz),
        },
    ),
    "lost": LeadAction(
        "mark_lost",
        "lead.close",
        _l("Deal marked as lost."),
        lambda tz: {"reason": _form("reason"), "occurred_at": _when(tz)},
    ),
    # lead.amount.own; lead_page.may_correct_amount also checks that the deal is the user's.
    "amount": LeadAction(
        "correct_amount",
        "lead.amount.own",
        _l("Amount corrected."),
        lambda tz: {
            "amount": parse_amount(_form("amount")),
            "currency": _form("currency"),
            "reason": _form("reason"),
        },
    ),
}
