"""The public Olist funnel data imported end to end; funnel and cohort figures
checked against figures computed here, independently, from the CSVs."""

import csv
from collections import Counter
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from projections.models.lead_summary import lead_summary
from projections.queries.funnel_query import funnel
from smarketing.bootstrap import Services
from smarketing.importing import mapping as mappings
from smarketing.importing.parse import read_csv
from smarketing.importing.plan import make_plan
from smarketing.importing.run import run_plan

OLIST = Path(__file__).resolve().parents[3] / "shared/data/olist"
MQLS = OLIST / "olist_marketing_qualified_leads_dataset.csv"
DEALS = OLIST / "olist_closed_deals_dataset.csv"
MADRID = ZoneInfo("Europe/Madrid")

pytestmark = pytest.mark.skipif(not (MQLS.exists() and DEALS.exists()), reason=f"Olist data not in {OLIST}")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_olist_funnel_and_cohorts(services: Services) -> None:
    mqls, deals = _rows(MQLS), _rows(DEALS)
    cohort = {r["mql_id"]: r["first_contact_date"][:7] for r in mqls}  # midnight Madrid: same month
    expected_mqls = Counter(cohort.values())
    expected_customers = Counter(cohort[d["mql_id"]] for d in deals)
    # The documented rule: zero or empty declared revenue is a win without an amount.
    revenue = sum(Decimal(d["declared_monthly_revenue"] or 0) for d in deals)
    won_before_contact = sum(
        1
        for d in deals
        if d["won_date"][:10] < next(m["first_contact_date"] for m in mqls if m["mql_id"] == d["mql_id"])
    )

    leads = run_plan(services.app, make_plan(read_csv(MQLS), mappings.load("olist-mqls", "leads"), MADRID))
    assert (leads.imported, leads.errors) == (len(mqls), [])
    won = run_plan(services.app, make_plan(read_csv(DEALS), mappings.load("olist-deals", "deals"), MADRID))
    assert (won.imported, won.errors) == (len(deals), [])
    out_of_order = [w for w in won.warnings if "before the lead's capture" in w.message]
    assert len(out_of_order) == won_before_contact == 1
    services.projector.catch_up()

    with services.read_engine.connect() as conn:
        overall = funnel(conn)
        assert overall["stages"][0]["count"] == overall["stages"][1]["count"] == len(mqls)
        assert overall["stages"][-1]["count"] == len(deals)
        for month, count in expected_mqls.items():
            stages = {s["stage"]: s["count"] for s in funnel(conn, month)["stages"]}
            assert (month, stages["MQL"], stages["Customer"]) == (month, count, expected_customers[month])
        total = conn.execute(select(func.sum(lead_summary.c.won_amount_cents))).scalar_one()
        assert Decimal(total) / 100 == revenue
        unknown = conn.execute(
            select(func.count()).select_from(lead_summary).where(lead_summary.c.source == "unknown")
        ).scalar_one()
        assert unknown == sum(1 for r in mqls if r["origin"] in ("", "unknown"))
    # Importing both files again adds nothing.
    events = services.app.recorder.max_notification_id()
    again = run_plan(services.app, make_plan(read_csv(DEALS), mappings.load("olist-deals", "deals"), MADRID))
    assert (again.imported, again.skipped) == (0, len(deals))
    assert services.app.recorder.max_notification_id() == events
