"""Crypto-shredding: personal data is sealed in the log, and erasing a lead's
key blanks it everywhere while figures and the chain stay as they were."""

import json
from uuid import UUID

import pytest
from sqlalchemy import select, text

from domain.errors import DuplicateEmail, InvalidInput
from projections.models.lead_summary import lead_summary
from projections.models.timeline import lead_timeline
from projections.queries.funnel_query import funnel
from projections.queries.scorecard_query import scorecard_actuals
from smarketing.audit import history
from smarketing.audit.chain import verify
from smarketing.bootstrap import Services, bootstrap
from smarketing.service.application import parse_lead_id
from smarketing.store.key_store import lead_keys

SECRET = b"secret.person"


def _lead(services: Services) -> str:
    app = services.app
    lead = app.capture_lead(
        name="Secret Person", email="secret.person@example.com", phone="600", source="webinar"
    )
    app.record_interaction(lead, kind="call", details="Spoke with Secret Person")
    app.change_stage(lead, to_stage="MQL")
    app.change_stage(lead, to_stage="SQL")
    app.change_stage(lead, to_stage="Opportunity")
    app.mark_won(lead, amount="1200.50")
    services.projector.catch_up()
    return lead


def _stored(services: Services) -> list[bytes]:
    table = services.app.recorder.events_table_name
    with services.write_engine.connect() as conn:
        return [bytes(s) for (s,) in conn.execute(text(f"SELECT state FROM {table}"))]


def _figures(services: Services) -> tuple[dict, dict]:
    month = services.app.get_lead(services.app.recorder.select_notifications(1, 1)[0].originator_id)
    with services.read_engine.connect() as conn:
        return funnel(conn), scorecard_actuals(conn, month["captured_at"].strftime("%Y-%m"))


def test_personal_data_is_sealed_in_the_log(services: Services) -> None:
    lead = _lead(services)
    assert not any(SECRET in state for state in _stored(services))
    assert services.app.get_lead(lead)["email"] == "secret.person@example.com"
    with services.read_engine.connect() as conn:
        assert conn.execute(select(lead_summary.c.name)).scalar() == "Secret Person"


def test_erasure_blanks_personal_data_everywhere_and_keeps_the_figures(services: Services) -> None:
    lead = _lead(services)
    before = _figures(services)
    stage_before = services.app.get_lead(lead)["stage"]
    services.app.erase_personal_data(lead, "GDPR request 42")
    services.projector.catch_up()

    state = services.app.get_lead(lead)
    assert (state["name"], state["email"], state["phone"]) == ("", "", "")
    assert state["stage"] == stage_before and str(state["won_amount"]) == "1200.50"
    assert _figures(services) == before
    with services.read_engine.connect() as conn:
        row = conn.execute(select(lead_summary)).one()
        assert (row.name, row.email) == ("", "") and "secret" not in row.search_text
    with services.key_engine.connect() as conn:
        assert conn.execute(select(lead_keys)).all() == []
    with services.read_engine.connect() as conn:
        for (data,) in conn.execute(select(lead_timeline.c.data)):
            assert "Secret" not in data and "secret" not in data
    assert not any(SECRET in s for s in _stored(services))
    for export in (history.history_json(services, lead), history.history_csv(services, lead)):
        assert "secret" not in export.lower()
    first = history.replay_step(services, lead, 1)
    assert first["state"]["email"] == "" and first["event"]["personal_erased"]
    assert json.loads(history.history_json(services, lead))["events"][0]["personal"] == {
        "email": "",
        "name": "",
        "phone": "",
    }
    assert verify(services).intact


def test_a_rebuild_after_erasure_stays_blank(services: Services) -> None:
    lead = _lead(services)
    services.app.erase_personal_data(lead, "GDPR request 43")
    services.projector.rebuild()
    with services.read_engine.connect() as conn:
        assert conn.execute(select(lead_summary.c.email)).scalar() == ""
    assert verify(services).intact


def test_cli_erase(services: Services, make_web_app) -> None:
    lead = _lead(services)
    runner = make_web_app().test_cli_runner()
    result = runner.invoke(args=["audit", "erase", lead, "--reason", "request 44"])
    assert result.exit_code == 0, result.output
    assert services.app.get_lead(lead)["email"] == ""
    assert runner.invoke(args=["audit", "erase", lead]).exit_code != 0  # --reason is required


def test_snapshots_are_sealed_and_shredded_too(services: Services) -> None:
    lead = _lead(services)
    services.app.take_snapshot(parse_lead_id(lead))
    table = services.app.snapshots.recorder.events_table_name
    with services.write_engine.connect() as conn:
        states = [bytes(s) for (s,) in conn.execute(text(f"SELECT state FROM {table}"))]
    assert states and not any(SECRET in s for s in states)
    assert services.app.get_lead(lead)["email"] == "secret.person@example.com"  # from the snapshot
    services.app.erase_personal_data(lead, "GDPR request 45")
    assert services.app.get_lead(lead)["email"] == ""


def test_an_erased_person_can_come_back_as_a_new_lead(services: Services) -> None:
    first = services.app.capture_lead(name="Eva Gil", email="eva@example.com", source="web")
    with pytest.raises(DuplicateEmail):
        services.app.capture_lead(name="Eva Gil", email="EVA@example.com", source="web")
    services.app.erase_personal_data(first, "GDPR request 45")
    assert services.app.lead_id_for_email("eva@example.com") is None
    second = services.app.capture_lead(name="Eva Gil", email="eva@example.com", source="events")
    assert second != first and services.app.lead_id_for_email("eva@example.com") == second
    with pytest.raises(DuplicateEmail):  # and the address is taken again
        services.app.capture_lead(name="Eva", email="eva@example.com", source="web")
    assert services.app.get_lead(first)["email"] == ""


def test_no_new_personal_notes_after_erasure_and_the_lead_still_loads(services: Services) -> None:
    lead = services.app.capture_lead(name="Zoe", email="zoe@example.com", source="webinar")
    services.app.record_interaction(lead, kind="call", details="Prefers mornings")
    services.app.erase_personal_data(lead, "GDPR request 46")
    with pytest.raises(InvalidInput, match="erased"):
        services.app.record_interaction(lead, kind="call", details="Called back")
    with pytest.raises(InvalidInput, match="erased"):
        services.app.log_contact_attempt(lead, channel="phone", outcome="no_answer", note="Left a message")
    services.app.record_interaction(lead, kind="call")  # the business fact without a note is fine
    services.app.log_contact_attempt(lead, channel="phone", outcome="no_answer")
    fresh = bootstrap(services.settings)  # no cached key or aggregate: everything from the store
    try:
        state = fresh.app.get_lead(lead)
        assert state["interactions"] == 2 and state["attempts"] == 1
        assert state["email"] == "" and state["name"] == ""
        assert fresh.app.mapper._key_store().get(UUID(lead).hex) is None  # no key was made again
    finally:
        fresh.close()
