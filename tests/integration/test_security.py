"""Web security: CSRF, headers, cookies, the login rate limit, output escaping,
the acting user on events, user administration audit and the users CLI."""

import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from domain.actor import SYSTEM_ACTOR, current_actor
from smarketing.bootstrap import Services
from smarketing.cli.users_cli import create_demo_users
from smarketing.extensions import KEY
from smarketing.reports.pdf import render_monthly_html, render_monthly_pdf
from smarketing.reports.replay import monthly_figures
from smarketing.service import users
from smarketing.web.core.security import HEADERS
from tests.integration.conftest import ensure_user, password_for

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
HX = {"HX-Request": "true"}


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token field"
    return match.group(1)


def csrf_login(client: FlaskClient, role: str) -> str:
    """Log in through the real form with CSRF on; the session's token."""
    username = ensure_user(client.application, role)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"username": username, "password": password_for(role), "csrf_token": token}
    assert client.post("/login", data=data).status_code == 303
    page = client.get("/leads/new").get_data(as_text=True)
    return re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_csrf_refuses_tokenless_posts_and_accepts_header_or_field(services: Services, make_web_app) -> None:
    app = make_web_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    assert client.post("/login", data={"username": "x", "password": "y"}).status_code == 400
    token = csrf_login(client, "marketing")
    events = services.app.recorder.max_notification_id() or 0
    lead = {"name": "Ana", "email": "ana@example.com", "source": "web"}

    refused = client.post("/leads/new", data=lead)
    assert refused.status_code == 400
    assert b"did not come from this site" in refused.data and b"<html" in refused.data
    fragment = client.post("/leads/new", data=lead, headers=HX)
    assert fragment.status_code == 400 and b"<html" not in fragment.data
    assert (services.app.recorder.max_notification_id() or 0) == events

    accepted = client.post("/leads/new", data=lead, headers=HX | {"X-CSRFToken": token})
    assert accepted.status_code == 204 and accepted.headers["HX-Location"].startswith("/leads/")
    form = client.post("/leads/new", data={**lead, "email": "b@example.com", "csrf_token": token})
    assert form.status_code == 303
    assert services.app.recorder.max_notification_id() > events


def test_every_post_form_in_the_templates_carries_the_token() -> None:
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for form in re.findall(r"<form[^>]*>.*?</form>", text, flags=re.S | re.I):
            if re.search(r'method="post"', form, re.I):
                # form_fields(): the CSRF token and a fresh idempotency key (smarketing.web.core.idempotency)
                assert "form_fields()" in form, path


def test_no_inline_script_or_style_in_templates() -> None:
    """CSP allows scripts and styles only from our own files. templates/report/
    is HTML for WeasyPrint (PDF), never served to a browser."""
    for path in TEMPLATES.rglob("*.html"):
        if "report" in path.relative_to(TEMPLATES).parts[:1]:
            continue
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text, re.I), path
        assert not re.search(r"\sstyle\s*=", text, re.I), path
        assert "<style" not in text.lower(), path
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), path  # onclick= and friends
        assert "hx-on" not in text and "js:" not in text, path  # both need eval, which CSP forbids


def test_security_headers_on_pages_fragments_errors_and_static(
    services: Services, web_app: Flask, login
) -> None:
    anonymous = web_app.test_client()
    client = login(web_app.test_client(), "auditor")
    responses = [
        anonymous.get("/login"),
        anonymous.get("/leads/"),
        client.get("/leads/"),
        client.get("/leads/", headers=HX | {"HX-Target": "lead-rows"}),
        client.get("/leads/new"),
        client.get("/nowhere"),
        client.get("/static/css/app.css"),
    ]
    for response in responses:
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (response.request.path, name)
        response.close()
    csp = HEADERS["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp


def test_session_cookie_flags(services: Services, make_web_app) -> None:
    for config, secure in (({"TESTING": False}, True), ({"TESTING": False, "INSECURE_COOKIES": 1}, False)):
        app = make_web_app(**config)
        ensure_user(app, "sales")
        response = app.test_client().post(
            "/login", data={"username": "test-sales", "password": password_for("sales")}
        )
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure


def test_login_attempts_are_rate_limited(services: Services, make_web_app) -> None:
    # A window that cannot turn over mid-test: a minute's did when the six posts straddled
    # one on a loaded machine (fixed windows, the real clock).
    app = make_web_app(LOGIN_RATE_LIMIT="5 per 1000 years")
    ensure_user(app, "sales")
    client = app.test_client()
    wrong = {"username": "test-sales", "password": "wrong-password"}
    assert [client.post("/login", data=wrong).status_code for _ in range(5)] == [401] * 5
    limited = client.post("/login", data=wrong)
    assert limited.status_code == 429 and b"Too many attempts" in limited.data
    right = {"username": "test-sales", "password": password_for("sales")}
    assert client.post("/login", data=right).status_code == 429  # even the right password, for now
    assert client.post("/login", data={"username": "someone-else", "password": "x"}).status_code == 401


NASTY = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')


@pytest.mark.parametrize("name", NASTY)
def test_lead_names_are_escaped_everywhere(name: str, services: Services, web_app: Flask, login) -> None:
    lead_id = services.app.capture_lead(name=name, email="x@example.com", company=name, source="web")
    services.projector.catch_up()
    key = lead_id.replace("-", "")
    client = login(web_app.test_client(), "manager")
    pages = {
        "lead page": client.get(f"/leads/{key}"),
        "list": client.get("/leads/"),
        "list fragment": client.get("/leads/", headers=HX | {"HX-Target": "lead-rows"}),
        "search echo": client.get("/leads/", query_string={"q": name}),
        "lead header fragment": client.post(
            f"/leads/{key}/owner",
            data={"owner": name, "team": "sales"},
            headers=HX | {"HX-Target": "action-result"},
        ),
    }
    raw_tag = name[name.index("<") :][:12]
    for where, response in pages.items():
        html = response.get_data(as_text=True)
        assert response.status_code == 200, where
        assert raw_tag not in html, where
        assert "&lt;" in html and ("&lt;script&gt;" in html or "&lt;img src=x" in html), where
    assert 'id="lead-header"' in pages["lead header fragment"].get_data(as_text=True)


def test_events_record_the_logged_in_user(services: Services, web_app: Flask, login) -> None:
    client = login(web_app.test_client(), "marketing")
    response = client.post("/leads/new", data={"name": "Ana", "email": "ana@example.com", "source": "web"})
    lead_id = response.headers["Location"].rsplit("/", 1)[1]
    assert [e.actor for e in services.app.lead_events(lead_id)] == ["test-marketing"]
    assert current_actor.get() == SYSTEM_ACTOR  # reset after the request


def test_logout_and_password_change_end_sessions(services: Services, web_app: Flask, login) -> None:
    client = login(web_app.test_client(), "sales")
    assert client.post("/logout").status_code == 303
    assert client.get("/leads/").status_code == 303
    login(client, "sales")
    users.update_user(services.write_engine, actor="test", username="test-sales", password="brand-new-pw")
    assert client.get("/leads/").status_code == 303


def test_user_administration_is_audited(services: Services, web_app: Flask, login) -> None:
    client = login(web_app.test_client(), "admin")
    client.post("/users/", data={"username": "Eva", "role": "sales", "password": "long-enough"})
    client.post("/users/eva", data={"role": "manager", "active": "1"})
    own = client.post("/users/test-admin", data={"role": "sales", "active": "1"})
    assert own.status_code == 422 and users.get_user(services.read_engine, "test-admin").role == "admin"
    short = client.post("/users/", data={"username": "bob", "role": "sales", "password": "short"})
    assert short.status_code == 422
    trail = users.audit_trail(services.read_engine)
    eva = [(a["actor"], a["action"], a["details"]) for a in trail if a["username"] == "eva"]
    assert eva == [("test-admin", "update", {"role": "manager"}), ("test-admin", "create", {"role": "sales"})]
    assert "long-enough" not in str(trail)


def test_users_cli_and_demo_users(services: Services, web_app: Flask) -> None:
    runner = web_app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "root", "--password-stdin"], input="s3cret-admin\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "add", "mia", "--role", "sales"], input="pw-of-mia1\npw-of-mia1\n")
    assert result.exit_code == 0, result.output
    pirate = ["users", "add", "zed", "--role", "pirate", "--password-stdin"]
    result = runner.invoke(args=pirate, input="x" * 9)
    assert result.exit_code != 0
    engine = web_app.extensions[KEY].read_engine
    assert users.authenticate(engine, "root", "s3cret-admin").role == "admin"  # type: ignore[union-attr]
    assert users.authenticate(engine, "mia", "pw-of-mia1").role == "sales"  # type: ignore[union-attr]
    assert users.audit_trail(engine)[0]["actor"].startswith("cli")
    with web_app.app_context():
        created = create_demo_users()
        assert create_demo_users() == []  # idempotent
    assert created == [f"demo-{role}" for role in users.ROLES]
    assert users.authenticate(engine, "demo-auditor", "demo-auditor").role == "auditor"  # type: ignore[union-attr]


def test_hostile_names_are_text_in_the_pdf_and_inert_in_csv(
    services: Services, web_app: Flask, login
) -> None:
    for i, name in enumerate(NASTY):
        lead = services.app.capture_lead(
            name=name, email=f"nasty{i}@example.com", company="=HYPERLINK(1)", source="web"
        )
        services.app.change_stage(lead, to_stage="Opportunity", reason="Referral")
        services.app.mark_won(lead, amount="100")
    services.projector.catch_up()
    month = datetime.now(services.settings.tz).strftime("%Y-%m")
    with web_app.app_context():
        html = render_monthly_html(monthly_figures(services, month), "en")
        pdf = render_monthly_pdf(services, month, "en")
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "<script>alert(1)</script>" in text  # shown to the manager as the literal name
    export = login(web_app.test_client(), "manager").get("/leads/export.csv").get_data(as_text=True)
    assert "<script>alert(1)</script>" in export and "'=HYPERLINK(1)" in export
    assert ",=HYPERLINK" not in export
