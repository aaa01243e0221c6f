"""Every web form carries an idempotency key (smarketing.web.core.idempotency): a
double submit, or a retry after a lost answer, stores one event and gets the
first answer again; a refused form leaves its key free (both backends)."""

import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import update

from smarketing.bootstrap import Services
from smarketing.service.integrations import ABANDONED_CLAIM, api_idempotency, claim_key, now
from tests.integration.conftest import htmx

HX = htmx("action-result")  # where the lead page's action forms aim (hx-target)


def _key(html: str, action: str) -> str:
    form = re.search(rf'<form[^>]*action="[^"]*/{action}"[^>]*>.*?</form>', html, flags=re.S)
    assert form, action
    match = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', form.group(0))
    assert match and 'name="csrf_token"' in form.group(0)
    return match.group(1)


def _notes(services: Services, lead: str) -> int:
    return sum(type(e).__name__ == "InteractionRecorded" for e in services.app.lead_events(lead))


def test_a_repeated_form_stores_one_event_and_answers_as_the_first(
    services: Services, web_app: Flask, login
) -> None:
    lead = services.app.capture_lead(name="Ana", email="ana@example.com", source="webinar")
    manager = login(web_app.test_client(), "manager")
    page = manager.get(f"/leads/{lead}").get_data(as_text=True)
    key = _key(page, "interaction")
    assert _key(manager.get(f"/leads/{lead}").get_data(as_text=True), "interaction") != key  # fresh each time
    note = {"kind": "call", "channel": "phone", "details": "Llamada", "idempotency_key": key}

    first = manager.post(f"/leads/{lead}/interaction", data=note, headers=HX)
    again = manager.post(f"/leads/{lead}/interaction", data=note, headers=HX)
    assert first.status_code == again.status_code == 200
    assert again.data == first.data
    assert _notes(services, lead) == 1
    other = manager.post(f"/leads/{lead}/interaction", data=note | {"idempotency_key": "f" * 32}, headers=HX)
    assert other.status_code == 200 and _notes(services, lead) == 2
    # Another user's key space: the same key is theirs to use.
    sales = login(web_app.test_client(), "sales")
    assert sales.post(f"/leads/{lead}/interaction", data=note, headers=HX).status_code == 200
    assert _notes(services, lead) == 3


def test_a_repeated_new_lead_redirects_to_the_same_lead(services: Services, web_app: Flask, login) -> None:
    manager = login(web_app.test_client(), "manager")
    key = re.search(r'name="idempotency_key" value="(\w+)"', manager.get("/leads/new").get_data(as_text=True))
    assert key
    lead = {"name": "Eva", "email": "eva@example.com", "source": "webinar", "idempotency_key": key.group(1)}
    first = manager.post("/leads/new", data=lead)
    again = manager.post("/leads/new", data=lead)
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert services.app.lead_id_for_email("eva@example.com") is not None
    captured = [n for n in services.app.recorder.select_notifications(1, 100) if n.topic.endswith("Captured")]
    assert len(captured) == 1


def test_a_refused_form_leaves_its_key_free(services: Services, web_app: Flask, login) -> None:
    manager = login(web_app.test_client(), "manager")
    lead = {"name": "Eva", "email": "not an address", "source": "webinar", "idempotency_key": "a" * 32}
    assert manager.post("/leads/new", data=lead).status_code == 422
    fixed = manager.post("/leads/new", data=lead | {"email": "eva@example.com"})
    assert fixed.status_code == 303


def test_a_claim_left_without_an_answer_is_taken_over_after_a_while(
    services: Services, web_app: Flask, login
) -> None:
    """A request that claimed its key and died before answering (a killed worker, a busy
    store at the last step) leaves the key pending: refused with 409 at first, as a
    request still running would be, then taken over once the claim is long abandoned."""
    lead = services.app.capture_lead(name="Ana", email="ana@example.com", source="webinar")
    manager = login(web_app.test_client(), "manager")
    key = _key(manager.get(f"/leads/{lead}").get_data(as_text=True), "interaction")
    claim_key(services.write_engine, "form:test-manager", key, "a lost request")  # claimed, never answered
    note = {"kind": "call", "channel": "phone", "details": "Llamada", "idempotency_key": key}
    assert manager.post(f"/leads/{lead}/interaction", data=note, headers=HX).status_code == 409
    assert _notes(services, lead) == 0
    with services.write_engine.begin() as conn:
        long_ago = now() - ABANDONED_CLAIM - timedelta(seconds=1)
        conn.execute(update(api_idempotency).values(created_at=long_ago))
    retried = manager.post(f"/leads/{lead}/interaction", data=note, headers=HX)
    assert retried.status_code == 200 and _notes(services, lead) == 1
    again = manager.post(f"/leads/{lead}/interaction", data=note, headers=HX)
    assert again.data == retried.data and _notes(services, lead) == 1  # and now it answers as the first
