"""Money that is right (issue 18): wins stored by the old code with an amount of 0
read back as unknown, corrections of a won amount counted in the win's month,
and exchange rates recorded on the agreement, on both backends."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent
from flask_babel import force_locale
from sqlalchemy import select

from domain.errors import InvalidInput
from domain.money import Money
from projections.cached.scorecard_view import scorecard
from projections.models.lead_summary import lead_summary
from projections.models.scorecard import sla_facts
from projections.queries.leads_query import timeline
from projections.queries.scorecard_query import scorecard_actuals
from smarketing.audit.history import lead_history
from smarketing.bootstrap import Services
from smarketing.present.formatting import measure
from smarketing.service.application import parse_lead_id


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def won_lead(services: Services, email: str, day: str, amount: Any = "1000", currency: str = "EUR") -> str:
    lead_id = services.app.capture_lead(name="Ana", email=email, source="web", occurred_at=at(day, 8))
    services.app.change_stage(lead_id, to_stage="MQL", occurred_at=at(day, 9))
    services.app.mark_won(
        lead_id,
        amount=amount,
        currency=currency,
        reason="Signed at the fair",
        amount_unknown=amount is None,
        occurred_at=at(day),
    )
    return lead_id


def store_as_v1(services: Services, lead_id: str, amount: str) -> None:
    """A DealWon as the code before class_version 2 stored it: no class_version, the
    reason in clear, and an unknown amount as 0. Built from the current event,
    re-encoded, appended to the log."""
    lead = services.app.repository.get(parse_lead_id(lead_id))
    lead.win_deal(
        amount=None,
        currency="BRL",
        reason="Imported closed deal",
        amount_unknown=True,
        occurred_at=at("2024-03-05"),
    )
    (event,) = lead.collect_events()
    stored = services.app.mapper.to_stored_event(event)
    transcoder = services.app.mapper.transcoder
    state = transcoder.decode(stored.state)
    assert state.pop("class_version") == 3
    state.pop("personal")  # v1 kept its reason in clear (v3 seals it in ``personal``)
    state["reason"] = "Imported closed deal"
    state["amount"] = Decimal(amount)
    old = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, transcoder.encode(state))
    assert b"class_version" not in old.state
    services.app.recorder.insert_events([old])


def test_stored_v1_wins_read_through_the_upcaster(services: Services) -> None:
    app = services.app
    unknown = app.capture_lead(
        name="Old", email="old@example.com", source="web", occurred_at=at("2024-03-01")
    )
    app.change_stage(unknown, to_stage="MQL", occurred_at=at("2024-03-01", 11))
    store_as_v1(services, unknown, "0.00")
    known = app.capture_lead(
        name="Known", email="known@example.com", source="web", occurred_at=at("2024-03-01")
    )
    app.change_stage(known, to_stage="MQL", occurred_at=at("2024-03-01", 11))
    store_as_v1(services, known, "1500.50")
    services.projector.catch_up()

    assert (app.get_lead(unknown)["won_amount"], app.get_lead(unknown)["currency"]) == (None, "BRL")
    assert app.get_lead(known)["won_amount"] == Decimal("1500.50")
    with services.read_engine.connect() as conn:
        amounts = dict(
            conn.execute(
                select(sla_facts.c.lead_id, sla_facts.c.amount_cents).where(sla_facts.c.kind == "won")
            ).all()
        )
        summary = dict(conn.execute(select(lead_summary.c.lead_id, lead_summary.c.won_amount_cents)).all())
        actuals = scorecard_actuals(conn, "2024-03")
    assert amounts == {parse_lead_id(unknown).hex: None, parse_lead_id(known).hex: 150050}
    assert summary == amounts
    revenue, average = actuals["revenue"], actuals["avg_deal_per_opportunity"]
    assert (revenue.known, revenue.unknown) == (1, 1)
    assert revenue.parts == average.parts == (Money(Decimal("1500.50"), "BRL"),)  # over 1 win, not 2
    # An old win of unknown amount can then be given one.
    app.correct_amount(unknown, amount="700", currency="BRL", reason="Seller sent the invoice")
    assert app.get_lead(unknown)["won_amount"] == Decimal("700.00")


def test_a_v1_snapshot_with_an_unknown_amount_reads_as_unknown(services: Services) -> None:
    lead_id = won_lead(services, "snap@example.com", "2024-03-04", amount=None, currency="BRL")
    lead = services.app.repository.get(parse_lead_id(lead_id))
    snapshot = Snapshot.take(lead)
    stored = services.app.mapper.to_stored_event(snapshot)
    transcoder = services.app.mapper.transcoder
    state = transcoder.decode(stored.state)
    assert state["state"].pop("class_version") == 3
    state["state"]["won_amount"] = Decimal("0.00")  # what a v1 lead's snapshot held
    state["state"]["last_reason"] = ""  # and v1, v2 kept the latest reason in clear
    old = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, transcoder.encode(state))
    restored = services.app.mapper.to_domain_event(old).mutate(None)
    assert restored.won_amount is None and restored.has_won


def test_a_correction_counts_in_the_month_of_the_win(services: Services) -> None:
    app = services.app
    lead_id = won_lead(services, "fix@example.com", "2024-03-20", amount="1000")
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        before = scorecard(conn, "2024-03", today=date(2024, 5, 1))  # cached per month mark
    app.correct_amount(
        lead_id, amount="12000", currency="EUR", reason="Extra zero lost", occurred_at=at("2024-04-02")
    )
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        march = scorecard(conn, "2024-03", today=date(2024, 5, 1))
        april = scorecard_actuals(conn, "2024-04")
        steps = timeline(conn, parse_lead_id(lead_id).hex)
        corrected = conn.execute(
            select(sla_facts.c.corrected_version).where(sla_facts.c.kind == "won")
        ).scalar_one()
    revenue = {r["metric"]: r for r in march["marketing"]}["revenue_goal"]["actual"]
    assert {r["metric"]: r for r in before["marketing"]}["revenue_goal"]["actual"].value == Decimal("1000.00")
    assert revenue.value == Decimal("12000.00")  # the cache refreshed: the month's mark moved
    assert april["won"] == 0 and april["revenue"].value == Decimal("0.00")
    assert corrected == app.get_lead(lead_id)["version"]
    entry = steps[0]
    assert entry["event_type"] == "DealAmountCorrected"
    assert (entry["data"]["old_amount"], entry["data"]["amount"], entry["data"]["personal"]["reason"]) == (
        "1000.00",
        "12000.00",
        "Extra zero lost",
    )
    assert lead_history(services, lead_id)[-1]["type"] == "DealAmountCorrected"
    # The lead's stage and last activity are not changed by a correction.
    lead = app.get_lead(lead_id)
    assert (lead["stage"], lead["last_activity_at"]) == ("Customer", at("2024-03-20"))


def test_correction_rules(services: Services) -> None:
    app = services.app
    open_lead = app.capture_lead(name="Open", email="open@example.com", source="web")
    with pytest.raises(InvalidInput):
        app.correct_amount(open_lead, amount="10", currency="EUR", reason="no deal yet")
    lead_id = won_lead(services, "rules@example.com", "2024-03-04")
    for amount, currency, reason in [
        ("0", "EUR", "x"),
        ("1000", "EUR", "same"),
        ("5", "EURO", "x"),
        ("5", "EUR", ""),
    ]:
        with pytest.raises(InvalidInput):
            app.correct_amount(lead_id, amount=amount, currency=currency, reason=reason)
    app.correct_amount(lead_id, amount="1000", currency="USD", reason="Was invoiced in dollars")
    assert (app.get_lead(lead_id)["won_amount"], app.get_lead(lead_id)["currency"]) == (
        Decimal("1000.00"),
        "USD",
    )


def test_rates_in_force_per_month_and_never_adding_currencies(services: Services, make_web_app) -> None:
    app = services.app
    won_lead(services, "eur@example.com", "2024-03-04", amount="1000")
    won_lead(services, "usd@example.com", "2024-03-05", amount="500", currency="USD")
    won_lead(services, "usd2@example.com", "2024-05-05", amount="100", currency="USD")
    services.projector.catch_up()
    web = make_web_app()
    with services.read_engine.connect() as conn:
        march = scorecard_actuals(conn, "2024-03")["revenue"]
    assert march.parts == (Money(Decimal("1000.00"), "EUR"), Money(Decimal("500.00"), "USD"))
    assert march.value is None and march.unconverted == ("USD",)
    with web.test_request_context(), force_locale("es"):
        shown = measure(march, "eur").replace("\xa0", " ")
    assert shown == "1.000,00 € · 500,00 US$ (sin tipo de cambio a EUR)"

    app.set_exchange_rate("USD", "0.9", "2024-01-01", "Q1 rate")
    app.set_exchange_rate("USD", "0.8", "2024-04-15", "Q2 rate")
    with pytest.raises(InvalidInput):
        app.set_exchange_rate("EUR", "1", "2024-01-01")  # the base itself
    with pytest.raises(InvalidInput):
        app.set_exchange_rate("USD", "-1", "2024-01-01")
    with pytest.raises(InvalidInput):
        app.set_exchange_rate("USD", "1", "1899-12-31")
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        assert scorecard_actuals(conn, "2024-03")["revenue"].value == Decimal("1450.00")  # 1000 + 500 × 0.9
        assert scorecard_actuals(conn, "2024-05")["revenue"].value == Decimal("80.00")  # the Q2 rate

    # Changing the base currency: rates recorded against EUR no longer apply.
    app.set_base_currency("USD", "Group reports in dollars")
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        march = scorecard_actuals(conn, "2024-03")["revenue"]
    assert (march.base, march.unconverted) == ("USD", ("EUR",))


def test_money_page_and_correction_form(services: Services, make_web_app, login) -> None:
    web = make_web_app()
    manager = login(web.test_client(), "manager")
    response = manager.post(
        "/agreement/money/rate",
        data={"currency": "BRL", "rate": "0.18", "valid_from": "2018-01-01", "reason": "ECB"},
    )
    assert response.status_code == 303
    page = manager.get("/agreement/money").get_data(as_text=True)
    assert "1 BRL = 0.18 EUR from 2018-01-01" in page and "ECB" in page
    bad = manager.post(
        "/agreement/money/rate",
        data={"currency": "BRL", "rate": "abc", "valid_from": "2018-01-01"},
        headers={"HX-Request": "true", "HX-Target": "money-body"},
    )
    assert bad.status_code == 422
    spanish = login(web.test_client(), "manager")
    spanish.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    refused = spanish.post(
        "/agreement/money/rate", data={"currency": "BRL", "rate": "0,2", "valid_from": "mañana"}
    )
    error = re.search(r'class="alert alert-error" role="alert">([^<]*)<', refused.get_data(as_text=True))
    assert refused.status_code == 422 and error is not None
    assert "debe ser una fecha como 2024-05-01" in error[1], error[1]
    english_digits = spanish.post(
        "/agreement/money/rate", data={"currency": "BRL", "rate": "0.2", "valid_from": "2018-01-01"}
    )
    assert english_digits.status_code == 422 and "no es un número" in english_digits.get_data(as_text=True)
    sales = login(web.test_client(), "sales")
    assert sales.get("/agreement/money").status_code == 403
    assert sales.post("/agreement/money/base", data={"currency": "USD"}).status_code == 403
    assert login(web.test_client(), "auditor").get("/agreement/money").status_code == 200

    # The deal's owner (sales) corrects their own deal, in Spanish number format.
    lead_id = won_lead(services, "own@example.com", "2024-03-04")
    services.app.assign_owner(lead_id, owner="test-sales", team="sales")
    other = won_lead(services, "other@example.com", "2024-03-04")
    services.app.assign_owner(other, owner="someone-else", team="sales")
    services.projector.catch_up()
    key = parse_lead_id(lead_id).hex
    sales.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    assert "Corregir el importe" in sales.get(f"/leads/{key}").get_data(as_text=True)
    done = sales.post(
        f"/leads/{key}/amount", data={"amount": "12.000,50", "currency": "EUR", "reason": "Factura"}
    )
    assert done.status_code == 200, done.data[:300]
    assert services.app.get_lead(lead_id)["won_amount"] == Decimal("12000.50")
    assert "Importe corregido" in done.get_data(as_text=True)
    wrong = sales.post(f"/leads/{key}/amount", data={"amount": "12,000.50", "currency": "EUR", "reason": "x"})
    assert wrong.status_code == 422  # English digits in Spanish: refused, not guessed
    assert (
        sales.post(
            f"/leads/{parse_lead_id(other).hex}/amount",
            data={"amount": "5", "currency": "EUR", "reason": "x"},
        ).status_code
        == 403
    )
    assert "Corregir el importe" not in sales.get(f"/leads/{parse_lead_id(other).hex}").get_data(as_text=True)
