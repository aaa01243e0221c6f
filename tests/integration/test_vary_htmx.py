"""Every HTML answer varies on htmx's headers: the same URL gives a page or a fragment."""

from flask import Flask

from tests.integration.conftest import LoginFn


def test_pages_and_lead_actions_vary_on_htmx(web_app: Flask, login: LoginFn) -> None:
    client = login(web_app.test_client(), "manager")
    for path in ("/", "/leads/", "/agreement/", "/login"):
        answer = client.get(path)
        assert {"HX-Request", "HX-Target"} <= set(answer.vary), (path, answer.vary)
    refused = client.post("/leads/new", data={"name": ""}, headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "HX-Request" in refused.vary
