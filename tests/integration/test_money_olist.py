"""The Olist deals (in BRL, 797 of 842 without a declared amount) read as issue 18
says they must: unknown amounts are unknown, the average deal is over the deals
with an amount, reais are shown as reais, and never added to euros."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask_babel import force_locale

from domain.money import Money
from projections.cached.scorecard_view import scorecard
from projections.queries.scorecard_query import avg_deal_per_opportunity, scorecard_actuals
from smarketing.bootstrap import Services
from smarketing.importing import mapping as mappings
from smarketing.importing.parse import read_csv
from smarketing.importing.plan import make_plan
from smarketing.importing.run import run_plan
from smarketing.present.formatting import measure
from tests.integration.exported import exported_rows

OLIST = Path(__file__).resolve().parents[3] / "shared/data/olist"
MQLS = OLIST / "olist_marketing_qualified_leads_dataset.csv"
DEALS = OLIST / "olist_closed_deals_dataset.csv"
MADRID = ZoneInfo("Europe/Madrid")

pytestmark = pytest.mark.skipif(not (MQLS.exists() and DEALS.exists()), reason=f"Olist data not in {OLIST}")


def _import(services: Services) -> None:
    leads = run_plan(services.app, make_plan(read_csv(MQLS), mappings.load("olist-mqls", "leads"), MADRID))
    deals = run_plan(services.app, make_plan(read_csv(DEALS), mappings.load("olist-deals", "deals"), MADRID))
    assert (leads.errors, deals.errors) == ([], [])
    services.projector.catch_up()


def test_olist_money_in_reais_with_unknown_amounts(services: Services, make_web_app, login) -> None:
    _import(services)
    app: Flask = make_web_app()
    with services.read_engine.connect() as conn:
        august = scorecard_actuals(conn, "2018-08")
        january = scorecard_actuals(conn, "2018-01")
        card = scorecard(conn, "2018-08", today=date(2018, 9, 15))
    average = august["avg_deal_per_opportunity"]
    assert (august["won"], average.known, average.unknown) == (33, 14, 19)
    assert average.parts == (Money(Decimal("68643.29"), "BRL"),)  # 961,006 / 14, not / 33
    assert august["revenue"].parts == (Money(Decimal("961006.00"), "BRL"),)
    assert average.value is None and average.unconverted == ("BRL",)  # no rate to EUR: never relabelled
    assert january["won"] > 0 and january["avg_deal_per_opportunity"].known == 0
    assert january["revenue"].value is None  # unknown, not 0,00
    with app.test_request_context():
        with force_locale("es"):
            shown = measure(average, "eur").replace("\xa0", " ")  # Babel's no-break space
            assert shown.startswith("68.643,29 R$ (sin tipo de cambio a EUR) · 14 de 33 con importe")
            assert "19 sin importe" in shown
            assert measure(january["avg_deal_per_opportunity"], "eur").startswith("—")
        with force_locale("en"):
            assert "R$68,643.29" in measure(average, "eur") and "19 without amount" in measure(average, "eur")
    # Not graded on money while reais cannot be converted (targets are in EUR).
    services.app.set_target(
        "2018-08", "avg_deal_per_opportunity", "5000", occurred_at=datetime(2018, 8, 1, tzinfo=UTC)
    )
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        rows = {r["metric"]: r for r in scorecard(conn, "2018-08", today=date(2018, 9, 15))["marketing"]}
    assert rows["avg_deal_per_opportunity"]["status"] == "unconverted"
    assert rows["avg_deal_per_opportunity"]["target"] == Money(Decimal(5000), "EUR")
    assert card["marketing"][0]["status"] == "no_target"

    # A manager records a rate for BRL: the month converts, says so, and is graded.
    services.app.set_exchange_rate("BRL", "0.2", "2018-01-01", "ECB reference, January 2018")
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        converted = scorecard_actuals(conn, "2018-08")["avg_deal_per_opportunity"]
        assert avg_deal_per_opportunity(conn, "2018-08") == Decimal("13728.66")
        rows = {r["metric"]: r for r in scorecard(conn, "2018-08", today=date(2018, 9, 15))["marketing"]}
    assert converted.parts == (Money(Decimal("13728.66"), "EUR"),) and converted.converted == ("BRL",)
    assert rows["avg_deal_per_opportunity"]["status"] == "on_track"
    with app.test_request_context(), force_locale("es"):
        assert "convertido a los tipos de cambio registrados: BRL" in measure(converted, "eur")

    # The page and the export show the same, in Spanish.
    client = login(app.test_client(), "manager")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    page = client.get("/?month=2018-08").get_data(as_text=True).replace("\xa0", " ")
    assert "68.643,29 R$" not in page  # converted now: shown in euros, and said so
    assert "13.728,66 €" in page and "14 de 33 con importe" in page
    exported = exported_rows(client.get("/export/scorecard.csv?month=2018-01").data)
    figures = {row["metric"]: row["value"] for row in exported}
    assert figures["avg_deal_per_opportunity_wins_with_amount"] == "0"
    assert figures["avg_deal_per_opportunity"] == ""  # empty: no amount known
