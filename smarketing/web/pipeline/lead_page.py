"""One lead: header, action forms and timeline; actions post with htmx and swap
back the header, the actions (new version, new legal moves) and the timeline."""

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import format_currency
from flask_babel import gettext as _
from flask_login import current_user

from domain.errors import N_, InvalidInput
from domain.vocabulary import Channel, ContactOutcome, InteractionKind, Team
from projections.models import data_quality
from projections.models.money_terms import money_book
from projections.queries import leads_query
from smarketing.audit.erasure import erase_person
from smarketing.extensions import services
from smarketing.service.application import parse_lead_id
from smarketing.service.lead_vitals import lead_vitals
from smarketing.service.sla_terms import sla_in_force
from smarketing.web.core.access import can
from smarketing.web.core.catch_up import catch_up_after_write, catch_up_in_background
from smarketing.web.core.hx import wants_fragment
from smarketing.web.input import forms
from smarketing.web.pipeline.lead_actions import LEAD_ACTIONS

bp = Blueprint("lead_page", __name__, url_prefix="/leads")


ERASED = "PersonalDataErased"  # the timeline entry that dates an erasure
RESULT_TARGET = "action-result"  # every action form, the erasure's too, posts here (hx-target)


def _context(lead_id: str) -> dict:
    svc = services()
    lead = svc.app.get_lead(lead_id)  # the write model: always the latest state
    with svc.read_engine.connect() as conn:
        timeline = leads_query.timeline(conn, parse_lead_id(lead_id).hex)
        owners = leads_query.distinct_values(conn, "owner")
        dq_flags = data_quality.lead_flags(conn, parse_lead_id(lead_id).hex)
        base_currency = money_book(conn).base  # what the won form offers first
        now = datetime.now(UTC)
        vitals = lead_vitals(conn, lead, now, sla_in_force(conn, now, svc.settings.tz))
    return {
        "lead": lead,
        "lead_key": parse_lead_id(lead_id).hex,
        "timeline": timeline,
        "timeline_behind": len(timeline) < lead["version"],
        "dq_flags": dq_flags,
        "dq_versions": {flag["version"]: flag for flag in dq_flags},
        "owners": owners,
        "kinds": [k.value for k in InteractionKind],
        "channels": [c.value for c in Channel],
        "outcomes": [o.value for o in ContactOutcome],
        "teams": [t.value for t in Team],
        "may_correct_amount": may_correct_amount(lead["owner"]),
        "base_currency": base_currency,
        "vitals": vitals,
        "erased_at": next((e["occurred_at"] for e in timeline if e["event_type"] == ERASED), None),
    }


@bp.get("/<lead_id>")
def show(lead_id: str) -> str:
    return render_template("lead.html", **_context(lead_id))


@bp.get("/<lead_id>/timeline")
def timeline(lead_id: str) -> str:
    """The timeline alone: it polls here while some events are not in it yet."""
    context = _context(lead_id)
    if context["timeline_behind"]:
        catch_up_in_background()
    return render_template("partials/lead_timeline.html", **context)


def _won_message(lead: dict) -> str:
    """The confirmation shows the amount as stored, in the reader's notation (12.000,00 €)."""
    if lead.get("won_amount") is None:
        return str(LEAD_ACTIONS["won"].done)
    return _(
        "Deal marked as won: %(amount)s.",
        amount=format_currency(lead["won_amount"], lead.get("currency") or "EUR"),
    )


@bp.post("/<lead_id>/<action>")
def act(lead_id: str, action: str) -> Response | str:
    """Any of the lead's actions (``smarketing.web.pipeline.lead_actions``); ``access`` has
    already checked the action's permission."""
    declared = LEAD_ACTIONS.get(action)
    if declared is None:
        abort(404)
    svc = services()
    if action == "amount" and not may_correct_amount(svc.app.get_lead(lead_id)["owner"]):
        abort(403)
    command = getattr(svc.app, declared.command)
    fields = declared.fields(svc.settings.tz)
    command(lead_id, expected_version=forms.optional_int(request.form, "expected_version"), **fields)
    # The command ran the daily loop too (rules, tasks: SmarketingApplication.use_after_lead_change).
    catch_up_after_write()  # read-your-writes, bounded: the timeline shows the new event now
    context = _context(lead_id)
    context["message"] = _won_message(context["lead"]) if action == "won" else str(declared.done)
    if wants_fragment(RESULT_TARGET):
        return render_template("partials/lead_after_write.html", **context)
    return render_template("lead.html", **context)


@bp.post("/<lead_id>/erase")
def erase(lead_id: str) -> Response | str:
    """An admin erases the person's data; the e-mail typed again confirms it is this person."""
    lead = services().app.get_lead(lead_id)
    typed = forms.text(request.form, "confirm_email").casefold()
    if not lead["email"] or typed != lead["email"].casefold():
        raise InvalidInput(
            "confirm_email", N_("type the lead's e-mail address exactly to confirm the erasure")
        )
    erase_person(services(), lead_id, forms.text(request.form, "reason"))
    context = _context(lead_id) | {"message": _("Personal data erased.")}
    if wants_fragment(RESULT_TARGET):
        return render_template("partials/lead_after_write.html", **context)
    return render_template("lead.html", **context)


def may_correct_amount(owner: str) -> bool:
    """A manager corrects any won deal's amount; sales only the deals they own."""
    if can("lead.amount.any"):
        return True
    return can("lead.amount.own") and bool(owner) and owner == getattr(current_user, "username", None)
