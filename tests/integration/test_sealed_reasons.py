"""Free-text reasons can name a person: they are sealed with the lead's key like the
rest of its personal data, read back while the key lives, and read as erased after;
events stored before (reason in clear, class version 1) still read."""

import io
import json
import re
from datetime import UTC, datetime

from eventsourcing.persistence import StoredEvent
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select, text

from projections.models.scorecard import sla_facts
from projections.models.timeline import lead_timeline
from smarketing.audit import history
from smarketing.audit.erasure import erase_person
from smarketing.bootstrap import Services
from smarketing.present.timeline_text import describe
from smarketing.reports import pdf as report_pdf
from smarketing.service.application import parse_lead_id
from tests.integration.conftest import LoginFn

WON = "Zelda Quimbyworth signed"
LOST = "Zelda Quimbyworth went quiet"


def _stored(services: Services) -> bytes:
    with services.write_engine.connect() as conn:
        events = conn.execute(text(f"SELECT state FROM {services.app.recorder.events_table_name}"))
        return b"".join(bytes(s) for (s,) in events)


def _won_lead(services: Services) -> str:
    app = services.app
    lead = app.capture_lead(name="Zelda Quimbyworth", email="zq@example.com", source="webinar")
    app.change_stage(lead, to_stage="SQL", reason="Zelda Quimbyworth asked for a demo")
    app.mark_won(lead, amount="900", reason=WON)
    app.correct_amount(lead, amount="950", currency="EUR", reason="Zelda Quimbyworth paid more")
    services.projector.catch_up()
    return lead


def test_reasons_are_sealed_and_read_back(services: Services) -> None:
    lead = _won_lead(services)
    assert b"Quimbyworth" not in _stored(services)
    events = services.app.lead_events(lead)
    assert [e.reason for e in events[1:]] == [
        "Zelda Quimbyworth asked for a demo",
        WON,
        "Zelda Quimbyworth paid more",
    ]
    with services.read_engine.connect() as conn:
        assert WON in conn.execute(select(sla_facts.c.reason)).scalars().all()


def test_after_erasure_reasons_read_as_erased_and_figures_stay(
    services: Services, web_app: Flask, login: LoginFn
) -> None:
    lead = _won_lead(services)
    lost = services.app.capture_lead(name="Other Person", email="op@example.com", source="web")
    services.app.change_stage(lost, to_stage="SQL", reason="call booked")
    services.app.mark_lost(lost, reason=LOST)
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        facts_before = conn.execute(
            select(sla_facts.c.lead_id, sla_facts.c.kind, sla_facts.c.amount_cents).order_by(
                sla_facts.c.lead_id, sla_facts.c.kind
            )
        ).all()

    erase_person(services, lead, "GDPR 7")
    erase_person(services, lost, "GDPR 8")

    assert all(e.reason == "" for e in services.app.lead_events(lead)[1:-1])
    with services.read_engine.connect() as conn:
        assert (
            conn.execute(
                select(sla_facts.c.lead_id, sla_facts.c.kind, sla_facts.c.amount_cents).order_by(
                    sla_facts.c.lead_id, sla_facts.c.kind
                )
            ).all()
            == facts_before
        )
        assert conn.execute(select(sla_facts.c.reason).where(sla_facts.c.reason.is_not(None))).all() == []
        data = conn.execute(select(lead_timeline.c.event_type, lead_timeline.c.data)).all()
    assert not any("Quimbyworth" in d for _, d in data)
    assert describe("DealLost", next(json.loads(d) for t, d in data if t == "DealLost")) == "Deal lost: —"
    for export in (history.history_json(services, lead), history.history_csv(services, lead)):
        assert "Quimbyworth" not in export
    admin = login(web_app.test_client(), "admin", lang="es")
    page = admin.get(f"/leads/{lead.replace('-', '')}").get_data(as_text=True)
    assert "Quimbyworth" not in page and "(texto borrado con los datos personales)" in page
    assert services.app.get_lead(lead)["won_amount"] == 950


def _store_as_v1(services: Services, lead_id: str, reason: str) -> None:
    """A DealLost as the code before class_version 2 stored it: the reason in clear
    beside the business facts, no class_version. Built from the current event."""
    lead = services.app.repository.get(parse_lead_id(lead_id))
    lead.lose_deal("placeholder", occurred_at=datetime(2025, 3, 5, tzinfo=UTC))
    (event,) = lead.collect_events()
    transcoder = services.app.mapper.transcoder
    state = transcoder.decode(services.app.mapper.to_stored_event(event).state)
    assert state.pop("class_version") == 2
    del state["personal"]
    state["reason"] = reason
    old = StoredEvent(
        event.originator_id,
        event.originator_version,
        services.app.mapper.to_stored_event(event).topic,
        transcoder.encode(state),
    )
    assert reason.encode() in old.state and b"class_version" not in old.state
    services.app.recorder.insert_events([old])


def test_a_v1_reason_stored_in_clear_reads_then_reads_as_erased(services: Services) -> None:
    app = services.app
    lead = app.capture_lead(name="Zelda Quimbyworth", email="zq@example.com", source="webinar")
    app.change_stage(lead, to_stage="SQL", reason="call booked")
    _store_as_v1(services, lead, LOST)
    services.projector.catch_up()
    assert app.lead_events(lead)[-1].reason == LOST
    assert app.get_lead(lead)["stage"] == "Disqualified"
    with services.read_engine.connect() as conn:
        assert conn.execute(select(sla_facts.c.reason).where(sla_facts.c.kind == "lost")).scalar() == LOST

    erase_person(services, lead, "GDPR 9")
    old = app.lead_events(lead)[-2]
    assert old.reason == "" and old.personal_erased
    with services.read_engine.connect() as conn:
        assert conn.execute(select(sla_facts.c.reason).where(sla_facts.c.kind == "lost")).scalar() is None
        assert not any(LOST in d for (d,) in conn.execute(select(lead_timeline.c.data)))
    services.projector.rebuild()  # and a rebuild reads it as erased too
    with services.read_engine.connect() as conn:
        assert conn.execute(select(sla_facts.c.reason).where(sla_facts.c.kind == "lost")).scalar() is None


def test_the_monthly_pdf_shows_an_erased_reason_as_a_dash(services: Services, web_app: Flask) -> None:
    app = services.app
    march = datetime(2025, 3, 3, 9, tzinfo=UTC)
    lead = app.capture_lead(name="Zelda Quimbyworth", email="zq@example.com", source="web", occurred_at=march)
    app.change_stage(lead, to_stage="SQL", reason="call booked", occurred_at=march)
    app.mark_lost(lead, reason=LOST, occurred_at=march)
    other = app.capture_lead(name="Bea Gil", email="bea@example.com", source="web", occurred_at=march)
    app.change_stage(other, to_stage="SQL", reason="call booked", occurred_at=march)
    app.mark_lost(other, reason="Price", occurred_at=march)
    services.projector.catch_up()
    assert "Quimbyworth went" in _pdf(services, web_app)  # the lost deals' table, reason column

    erase_person(services, lead, "GDPR 10")
    text = _pdf(services, web_app)
    assert "Quimbyworth" not in text and "Price" in text  # the other lead's reason stays
    assert re.search(r"\(erased\) \S+ —", text)  # date, "(erased)", owner, "—"


def _pdf(services: Services, web_app: Flask) -> str:
    with web_app.app_context():
        data = report_pdf.render_monthly_pdf(services, "2025-03", "en")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
