"""Roles against every write route: allowed ones work, refused ones get 403 and
record nothing; the expected rights are written out here, independently of the
table in smarketing/web/core/access.py, so a slip in either shows up."""

import itertools
from collections.abc import Callable

import pytest
from flask import Flask

from smarketing.bootstrap import Services
from smarketing.service import users
from smarketing.web.core import access
from smarketing.web.pipeline.lead_actions import LEAD_ACTIONS

ROLES = ("marketing", "sales", "manager", "auditor", "admin")
_EMAILS = itertools.count()


def new_lead(services: Services, *stages: str) -> str:
    lead_id = services.app.capture_lead(name="Test Lead", email=f"t{next(_EMAILS)}@example.com", source="web")
    for stage in stages:
        services.app.change_stage(lead_id, to_stage=stage)
    services.projector.catch_up()
    return lead_id.replace("-", "")


def act(stages: tuple[str, ...], action: str, **data: str) -> Callable[[Services], tuple[str, dict]]:
    def build(services: Services) -> tuple[str, dict]:
        return f"/leads/{new_lead(services, *stages)}/{action}", data

    return build


def correct_amount(services: Services) -> tuple[str, dict]:
    """A won deal nobody owns: only a manager may correct its amount (sales: their own deals)."""
    lead_id = new_lead(services, "MQL", "SQL", "Opportunity")
    services.app.mark_won(lead_id, amount="1000")
    return f"/leads/{lead_id}/amount", {"amount": "1200", "currency": "EUR", "reason": "typo in the offer"}


def erase(services: Services) -> tuple[str, dict]:
    lead_id = new_lead(services)
    email = services.app.get_lead(lead_id)["email"]
    return f"/leads/{lead_id}/erase", {"confirm_email": email, "reason": "RGPD request 7"}


def capture(services: Services) -> tuple[str, dict]:
    return "/leads/new", {"name": "Ana", "email": f"new{next(_EMAILS)}@example.com", "source": "web"}


def add_user(services: Services) -> tuple[str, dict]:
    return "/users/", {"username": f"new{next(_EMAILS)}", "role": "sales", "password": "long-enough-1"}


def change_user(services: Services) -> tuple[str, dict]:
    name = f"other{next(_EMAILS)}"
    users.create_user(services.write_engine, actor="test", username=name, role="sales", password="x" * 10)
    return f"/users/{name}", {"role": "marketing", "active": "1"}


def sign_out_user(services: Services) -> tuple[str, dict]:
    name = f"other{next(_EMAILS)}"
    users.create_user(services.write_engine, actor="test", username=name, role="sales", password="x" * 10)
    return f"/users/{name}/sign-out", {}


def mark_away(services: Services) -> tuple[str, dict]:
    name = f"other{next(_EMAILS)}"
    users.create_user(services.write_engine, actor="test", username=name, role="sales", password="x" * 10)
    return f"/users/{name}/away", {"away": "1"}


# case -> (permission key in the access table, request builder, roles that may do it)
CASES: dict[str, tuple[str, Callable[[Services], tuple[str, dict]], set[str]]] = {
    "away": ("users.away", mark_away, {"admin"}),
    "capture": ("leads.create", capture, {"marketing", "sales", "manager"}),  # sales prospects too
    "interaction": (
        "lead_page.act:interaction",
        act((), "interaction", kind="call", channel="phone", details="hi"),
        {"marketing", "sales", "manager"},
    ),
    "attempt": (
        "lead_page.act:attempt",
        act(("MQL",), "attempt", channel="phone", outcome="no_answer"),
        {"sales", "manager"},
    ),
    "owner": (
        "lead_page.act:owner",
        act((), "owner", owner="ana", team="marketing"),
        {"marketing", "sales", "manager"},
    ),
    "stage-to-mql": (
        "lead_page.act:stage",
        act((), "stage", to_stage="MQL"),
        {"marketing", "sales", "manager"},
    ),
    "stage-to-sql": ("lead_page.act:stage", act(("MQL",), "stage", to_stage="SQL"), {"sales", "manager"}),
    "disqualify": (
        "lead_page.act:stage",
        act((), "stage", to_stage="Disqualified", reason="spam"),
        {"sales", "manager"},
    ),
    "reject": ("lead_page.act:reject", act(("MQL",), "reject", reason="no budget"), {"sales", "manager"}),
    "won": (
        "lead_page.act:won",
        act(("MQL", "SQL", "Opportunity"), "won", amount="1000"),
        {"sales", "manager"},
    ),
    "lost": ("lead_page.act:lost", act(("MQL", "SQL"), "lost", reason="price"), {"sales", "manager"}),
    "amount": ("lead_page.act:amount", correct_amount, {"manager"}),
    "erase": ("lead_page.erase", erase, {"admin"}),
    "add-user": ("users.create", add_user, {"admin"}),
    "change-user": ("users.update", change_user, {"admin"}),
    "sign-out-user": ("users.sign_out", sign_out_user, {"admin"}),
    "language": ("i18n.choose_language", lambda s: ("/language", {"lang": "en", "next": "/"}), set(ROLES)),
    "logout": ("auth.logout", lambda s: ("/logout", {}), set(ROLES)),
}


def audit_count(services: Services) -> int:
    return len(users.audit_trail(services.read_engine, limit=10_000))


def write_keys(app: Flask) -> set[str]:
    """Every (endpoint[:action]) that accepts a state-changing method."""
    keys = set()
    for rule in app.url_map.iter_rules():
        if not (rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}:
            continue
        if rule.endpoint == "lead_page.act":
            keys |= {f"lead_page.act:{action}" for action in LEAD_ACTIONS}
        else:
            keys.add(rule.endpoint)
    return keys


def test_every_route_is_in_the_table(web_app: Flask) -> None:
    for rule in web_app.url_map.iter_rules():
        for method in (rule.methods or set()) - {"OPTIONS"}:  # OPTIONS: Flask answers, no view runs
            actions = LEAD_ACTIONS if rule.endpoint == "lead_page.act" else [None]
            for action in actions:
                args = {"action": action} if action else {}
                assert access.permission_for(rule.endpoint, method, args), (rule.endpoint, method, action)


def test_every_known_write_route_is_exercised_here(web_app: Flask) -> None:
    """A new write route in these blueprints needs a case above (and a row in the table)."""
    exercised = {key for key, _build, _roles in CASES.values()} | {"auth.login"}
    mine = {"leads", "lead_page", "users", "auth", "i18n"}
    ours = {k for k in write_keys(web_app) if k.split(".")[0] in mine}
    assert ours <= exercised, ours - exercised


@pytest.mark.parametrize("case", list(CASES))
def test_each_role_on_each_write_route(case: str, services: Services, web_app: Flask, login) -> None:
    _key, build, allowed = CASES[case]
    for role in ROLES:
        client = login(web_app.test_client(), role)
        url, data = build(services)
        events, audits = services.app.recorder.max_notification_id(), audit_count(services)
        response = client.post(url, data=data)
        if role in allowed:
            assert 200 <= response.status_code < 400, (case, role, response.status_code, response.data[:400])
        else:
            assert response.status_code == 403, (case, role, response.status_code)
            assert b"not allowed" in response.data
            assert services.app.recorder.max_notification_id() == events, (case, role)
            assert audit_count(services) == audits, (case, role)


def test_other_blueprints_write_routes_refuse_roles_without_the_permission(
    services: Services, web_app: Flask, login
) -> None:
    """Routes added by other features (agreement, imports...): whoever lacks the
    permission gets 403 before the view runs, whatever the payload."""
    known = {key for key, _build, _roles in CASES.values()} | {"auth.login"}
    others = [
        rule
        for rule in web_app.url_map.iter_rules()
        if (rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}
        and rule.endpoint not in known
        and rule.endpoint != "lead_page.act"
    ]
    clients: dict = {}  # one login per role: the login rate limit counts every login
    for rule in others:
        url = rule.build({name: "x" for name in rule.arguments})[1]
        permission = access.permission_for(rule.endpoint, "POST")
        for role in ROLES:
            if access.role_may(role, permission):
                continue
            client = clients.get(role) or clients.setdefault(role, login(web_app.test_client(), role))
            events = services.app.recorder.max_notification_id()
            assert client.post(url, data={}).status_code == 403, (rule.endpoint, role)
            assert services.app.recorder.max_notification_id() == events


def test_auditor_reads_everything_and_writes_nothing(services: Services, web_app: Flask, login) -> None:
    client = login(web_app.test_client(), "auditor")
    lead = new_lead(services)
    for url in ("/", "/leads/", f"/leads/{lead}", "/reports/"):
        if web_app.url_map.bind("localhost").test(url):
            assert client.get(url).status_code == 200, url
    page = client.get(f"/leads/{lead}").get_data(as_text=True)
    assert "hx-post" not in page and "New lead" not in page
    assert client.get("/leads/new").status_code == 403
    assert client.get("/users/").status_code == 403


def test_ui_offers_only_what_the_role_may_do(services: Services, web_app: Flask, login) -> None:
    lead = new_lead(services, "MQL")
    marketing = login(web_app.test_client(), "marketing").get(f"/leads/{lead}").get_data(as_text=True)
    assert "New lead" in marketing and "Log contact attempt" not in marketing
    assert 'value="SQL"' not in marketing and "Reject back to marketing" not in marketing
    sales = login(web_app.test_client(), "sales").get(f"/leads/{lead}").get_data(as_text=True)
    assert "New lead" in sales and 'value="SQL"' in sales and "Log contact attempt" in sales
    admin = login(web_app.test_client(), "admin").get("/users/").get_data(as_text=True)
    # An admin reads leads only to find a person whose data must be erased: no lead actions.
    assert "Add a user" in admin and "New lead" not in admin.split("<main")[0]


def test_unknown_write_endpoint_is_refused_even_for_managers(services: Services, make_web_app, login) -> None:
    app = make_web_app()
    app.add_url_rule("/danger", "danger", lambda: "did it", methods=["POST"])
    client = login(app.test_client(), "manager")
    assert client.post("/danger").status_code == 403


def test_unauthenticated_requests_go_to_login(services: Services, web_app: Flask) -> None:
    client = web_app.test_client()
    lead = new_lead(services)
    for url in ("/", "/leads/", f"/leads/{lead}", "/leads/new", "/users/"):
        response = client.get(url)
        assert response.status_code == 303, url
        assert response.headers["Location"].startswith("/login?next="), url
    events = services.app.recorder.max_notification_id()
    response = client.post(f"/leads/{lead}/owner", data={"owner": "x", "team": "sales"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert services.app.recorder.max_notification_id() == events
    fragment = client.get("/leads/", headers={"HX-Request": "true", "HX-Target": "lead-rows"})
    assert fragment.status_code == 401
    assert b"Log in again" in fragment.data and b"<html" not in fragment.data
    assert client.get("/login").status_code == 200


def test_login_lands_on_the_page_asked_for_and_never_off_site(services: Services, web_app: Flask) -> None:
    from tests.integration.conftest import ensure_user, password_for

    ensure_user(web_app, "sales")
    creds = {"username": "test-sales", "password": password_for("sales")}
    response = web_app.test_client().post("/login?next=/leads/", data=creds)
    assert response.headers["Location"] == "/leads/"
    for evil in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        response = web_app.test_client().post("/login", data=creds | {"next": evil})
        assert response.headers["Location"] == "/", evil
    ensure_user(web_app, "admin")
    admin = {"username": "test-admin", "password": password_for("admin")}
    assert web_app.test_client().post("/login", data=admin).headers["Location"] == "/users/"


def test_role_change_and_deactivation_apply_at_the_next_request(
    services: Services, web_app: Flask, login
) -> None:
    client = login(web_app.test_client(), "marketing")
    assert client.get("/leads/new").status_code == 200
    users.update_user(services.write_engine, actor="test", username="test-marketing", role="auditor")
    assert client.get("/leads/new").status_code == 403
    users.update_user(services.write_engine, actor="test", username="test-marketing", active=False)
    assert client.get("/leads/").status_code == 303
