"""The issue's redirect probes, through the real app: a signed-in user, the login
form and the language switch never send the browser off the site, and no ``next``
value makes the server fail."""

from flask import Flask

from smarketing.bootstrap import Services
from tests.integration.conftest import ensure_user, password_for

PROBES = [
    "/login?next=%2F%09%2Fevil.example%2Fphish",
    "/login?next=/%0D%0ASet-Cookie:%20x=1",
    "/login?next=/%0D%0A//evil.example",
    "/login?next=%2F%5Cevil.example",
    "/login?next=%5C%5Cevil.example",
    "/login?next=%2F%252F%252Fevil.example",
    "/login?next=https:%2F%2Fevil.example",
]


def test_a_signed_in_user_is_never_sent_off_site(services: Services, web_app: Flask, login) -> None:
    client = login(web_app.test_client(), "sales")
    for probe in PROBES:
        response = client.get(probe)
        assert response.status_code == 303, probe
        assert response.headers["Location"] in ("/", "/Set-Cookie:%20x=1"), (probe, response.headers)
    assert client.get("/login?next=/leads/%3Fq%3Dana").headers["Location"] == "/leads/?q=ana"


def test_the_login_form_and_the_language_switch_stay_on_site(services: Services, web_app: Flask) -> None:
    ensure_user(web_app, "sales")
    creds = {"username": "test-sales", "password": password_for("sales")}
    for probe in PROBES:
        page = web_app.test_client().get(probe)
        assert page.status_code == 200, probe
        login_form = page.get_data(as_text=True).split('action="/login"')[1].split("</form>")[0]
        assert "evil" not in login_form and "\r" not in login_form, probe  # not kept for the next post
        response = web_app.test_client().post(probe, data=creds)
        assert response.status_code == 303 and "evil" not in response.headers["Location"], probe
    for evil in ("/\t/evil.example", "/\\evil.example", "/%2F/evil.example", "//evil.example"):
        response = web_app.test_client().post("/language", data={"lang": "en", "next": evil})
        assert response.status_code == 303 and response.headers["Location"] == "/", evil
