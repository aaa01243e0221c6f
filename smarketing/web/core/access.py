"""Who may do what: the one permission table, enforced for every request.

Permissions and the endpoints that need them (``endpoint:action`` for the lead
actions, which share one route; ``blueprint.*`` covers a whole blueprint):

=================  ==========================================================
permission         endpoints
=================  ==========================================================
(public)           static, auth.login, auth.logout, i18n.choose_language
read               dashboard.*, leads.check_email, agreement.* (GET)
lead.find          leads.index, lead_page.show (every role that reads, and admins)
lead.capture       leads.new, leads.create
lead.interaction   lead_page.act:interaction
lead.attempt       lead_page.act:attempt
lead.owner         lead_page.act:owner
lead.stage.early   lead_page.act:stage to Lead, MQL or Recycled
lead.stage         lead_page.act:stage to any other stage
lead.reject        lead_page.act:reject
lead.close         lead_page.act:won, lead_page.act:lost
lead.erase         lead_page.erase (admin: a person's data erased, with a typed confirmation)
lead.amount.own    lead_page.act:amount (correct a won amount: sales only on deals they own,
                   checked by lead_page.may_correct_amount; lead.amount.any: any deal)
report.read        reports.*
report.read        audit.* (GET only: auditors and managers read, nobody writes)
report.read        data_quality.* (GET only): leads with history out of order, by kind
agreement.write    agreement.* (POST/PUT/PATCH/DELETE): targets, terms, vocabulary
read               meetings.* (GET): the weekly and monthly meeting packs
meeting.write      meetings.* (POST): decisions, action items, marking them done
users.admin        users.*
lead.import        imports.* (CSV import of leads and history)
integrations.admin integrations.* (API tokens: admins only)
notifications.own  notifications.* (every role: one's own list, mark read, e-mail preferences)
users.admin        mail_sent.* (GET: the e-mails written without an SMTP server)
(token)            api.*: public to this gate, authenticated by bearer token in api.py
read               exports.leads_csv, exports.history_json
report.read        exports.funnel_csv, exports.scorecard_csv
=================  ==========================================================

Roles:

* marketing: read, capture, interactions, owners, stage changes up to MQL/Recycled
* sales: read, capture (outbound prospects), interactions (calls, meetings), contact attempts, owners, any
  stage change, reject MQLs, won/lost
* manager: everything on leads, reports, agreement targets
* auditor: read everything (leads and reports), write nothing
* admin: users and integrations, and erasure of a person's data: finds leads (the list and
  a lead's page) to erase a person, and reads nothing else

Fail closed: an endpoint missing from the table is refused (403), whatever the
method, and the omission is logged so the developer who added it notices.
"""

from flask import Flask, Response, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from smarketing.web.core.hx import is_htmx
from smarketing.web.pipeline.lead_actions import LEAD_ACTIONS

PUBLIC = "public"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Stages marketing may move a lead to; everything past MQL is sales' call.
EARLY_STAGES = frozenset({"Lead", "MQL", "Recycled"})

READ: dict[str, str] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "dashboard.*": "read",
    "leads.index": "lead.find",
    "leads.check_email": "read",
    "leads.new": "lead.capture",
    "lead_page.show": "lead.find",
    "lead_page.timeline": "lead.find",  # the timeline polling itself while figures update
    "agreement.money": "report.read",  # rates and base currency: managers record, auditors read
    "agreement.*": "read",
    "meetings.*": "read",
    "reports.*": "report.read",
    "users.*": "users.admin",
    "imports.*": "lead.import",
    "integrations.*": "integrations.admin",
    "api.*": PUBLIC,  # no session: api.py checks the integration's bearer token itself
    "exports.leads_csv": "read",
    "exports.history_json": "read",
    "exports.funnel_csv": "report.read",
    "exports.scorecard_csv": "report.read",
    "audit.*": "report.read",  # history incl. personal data and log integrity; all GETs
    "data_quality.*": "report.read",  # history out of order, by kind; all GETs
    "notifications.*": "notifications.own",  # the user's own list and e-mail preferences
    "mail_sent.*": "users.admin",  # e-mails written without SMTP: recipients' addresses
    "loop.my_tasks_page": "read",  # one's own tasks (and, for managers, the team's load)
    "loop.returned": "lead.returned",  # MQLs sales returned: marketing's queue
    "loop.rules": "read",
}

WRITE: dict[str, str] = {
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "i18n.choose_language": PUBLIC,
    "leads.create": "lead.capture",
    # The lead page's actions, one route: each declares its permission (lead_actions).
    **{f"lead_page.act:{name}": action.permission for name, action in LEAD_ACTIONS.items()},
    "lead_page.erase": "lead.erase",
    "agreement.*": "agreement.write",
    "meetings.*": "meeting.write",
    "reports.*": "report.read",  # report downloads may POST a form, but write nothing
    "users.*": "users.admin",
    "imports.*": "lead.import",
    "integrations.*": "integrations.admin",
    "api.*": PUBLIC,  # no session: api.py checks the integration's bearer token itself
    "notifications.*": "notifications.own",  # mark read, save preferences: only one's own
    "loop.create_task": "lead.task",
    "loop.change_task": "lead.task",
    "loop.rules": "agreement.write",
}

_LEADS = {"lead.capture", "lead.interaction", "lead.attempt", "lead.owner", "lead.stage.early"}
_SALES = {"lead.stage", "lead.reject", "lead.close", "lead.amount.own"}

ROLES: dict[str, frozenset[str]] = {
    "marketing": frozenset({"read", "lead.capture", "lead.interaction", "lead.owner", "lead.stage.early"}),
    "sales": frozenset(
        {"read", "lead.capture", "lead.interaction", "lead.attempt", "lead.owner", "lead.stage.early"}
        | _SALES
    ),
    # Imports write leads in bulk: managers only. API tokens are credentials, like
    # users: only admins issue them (docs/SECURITY.md).
    "manager": frozenset(
        {"read", "report.read", "agreement.write", "lead.import", "lead.amount.any"} | _LEADS | _SALES
    ),
    "auditor": frozenset({"read", "report.read"}),
    # Who gets in (people and machines), and a person's right to be forgotten: an admin
    # reads a lead to find it and erase its personal data.
    "admin": frozenset({"users.admin", "integrations.admin", "lead.find", "lead.erase"}),
}
# Both teams sit in the joint meetings: their people and managers record decisions there.
for _role in ("marketing", "sales", "manager"):
    ROLES[_role] = ROLES[_role] | {"meeting.write"}
# Everyone is notified of something, and sees and sets only their own notifications.
for _role in ROLES:
    ROLES[_role] = ROLES[_role] | {"notifications.own"}
# The daily loop (issue #22): both teams and managers keep tasks; marketing's queue of
# returned MQLs is marketing's and the managers'.
for _role in ("marketing", "sales", "manager"):
    ROLES[_role] = ROLES[_role] | {"lead.task"}
for _role in ("marketing", "manager"):
    ROLES[_role] = ROLES[_role] | {"lead.returned"}
# Whoever reads everything finds leads too; an admin finds them and nothing else.
for _role in ("marketing", "sales", "manager", "auditor"):
    ROLES[_role] = ROLES[_role] | {"lead.find"}


def permission_for(
    endpoint: str, method: str = "GET", view_args: dict | None = None, form: dict | None = None
) -> str | None:
    """The permission a request needs, PUBLIC, or None when the table has no entry."""
    table = READ if method.upper() in READ_METHODS else WRITE
    action = (view_args or {}).get("action")
    permission = None
    if action is not None:
        permission = table.get(f"{endpoint}:{action}")
    if permission is None:
        permission = table.get(endpoint) or table.get(endpoint.split(".", 1)[0] + ".*")
    if permission == "lead.stage" and (form or {}).get("to_stage") in EARLY_STAGES:
        return "lead.stage.early"
    return permission


def role_may(role: str | None, permission: str | None) -> bool:
    if permission == PUBLIC:
        return True
    return bool(role) and permission in ROLES.get(role or "", frozenset())


def can(permission: str) -> bool:
    """Template helper: offer only what the logged-in user may do."""
    if current_app.config.get("LOGIN_DISABLED") and current_app.testing:
        return True
    return role_may(getattr(current_user, "role", None), permission)


def can_visit(endpoint: str, method: str = "GET") -> bool:
    permission = permission_for(endpoint, method)
    return permission is not None and can(permission)


def can_move_to(stage: str) -> bool:
    """Template test: may the user move a lead to ``stage`` (marketing only up to MQL)?"""
    return can(permission_for("lead_page.act", "POST", {"action": "stage"}, {"to_stage": stage}) or "")


def may_act(action: str) -> bool:
    """Template helper: may the user run the lead action ``action`` (lead_actions)?"""
    return can(LEAD_ACTIONS[action].permission)


def landing_endpoint(role: str | None) -> str:
    """Where to go after logging in: the Users page for admins, else the dashboard."""
    if role_may(role, "users.admin"):
        return "users.index"
    return "dashboard.index"


def _unauthenticated() -> ResponseReturnValue:
    if is_htmx():  # any htmx request: a 303 to the login page would be swapped into a part
        message = _("Your session has ended. Log in again to continue.")
        body = render_template("partials/error.html", message=message, status=401)
        return Response(body, status=401)
    target = request.full_path.rstrip("?") if request.method in READ_METHODS else ""
    return redirect(url_for("auth.login", next=target or None), code=303)


def enforce() -> ResponseReturnValue | None:
    """before_request: the single gate every route goes through."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no route matched: the 404/405 comes next, and reveals nothing
    rule = request.url_rule
    if request.method == "OPTIONS" and rule is not None and getattr(rule, "provide_automatic_options", False):
        return None  # Flask's own answer: the Allow header, no view runs
    form = request.form if endpoint == "lead_page.act" else None
    permission = permission_for(endpoint, request.method, request.view_args, form)
    if permission is None:
        current_app.logger.warning("Refused %s %s: not in the access table", request.method, endpoint)
        abort(403)
    if permission == PUBLIC:
        return None
    # Only tests may switch logins off: a stray LOGIN_DISABLED in production does nothing.
    if current_app.config.get("LOGIN_DISABLED") and current_app.testing:
        return None
    if not current_user.is_authenticated:
        return _unauthenticated()
    if not role_may(current_user.role, permission):
        abort(403)
    return None


def init_app(app: Flask) -> None:
    app.before_request(enforce)
    app.jinja_env.globals.update(can=can, can_visit=can_visit, may_act=may_act)
    app.jinja_env.tests["can_move_to"] = can_move_to
