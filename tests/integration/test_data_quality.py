"""Data-quality flags: history recorded out of order stays as recorded and is
flagged durably (read model, lead page and timeline, lead export, the managers'
data-quality page); the import summary groups warnings by kind, every row in a CSV."""

import csv
import io
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from projections.models import data_quality as dq
from smarketing.bootstrap import Services
from smarketing.importing import mapping as mappings
from smarketing.importing.parse import read_csv, read_csv_text
from smarketing.importing.plan import lead_id_for, make_plan
from smarketing.importing.run import run_plan, write_warnings
from tests.integration.exported import exported_rows

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
MADRID = ZoneInfo("Europe/Madrid")
OLIST = Path(__file__).resolve().parents[3] / "shared/data/olist"
MQLS = OLIST / "olist_marketing_qualified_leads_dataset.csv"
DEALS = OLIST / "olist_closed_deals_dataset.csv"
Login = Callable[[FlaskClient, str], FlaskClient]


def _lead(services: Services, name: str) -> str:
    return services.app.capture_lead(
        name=name, email=f"{name.lower()}@example.com", source="email", occurred_at=T0
    )


def _out_of_order(services: Services) -> tuple[str, str, str]:
    """(won before first contact, stage dates backwards, in order)."""
    early = _lead(services, "Early")
    services.app.change_stage(early, to_stage="MQL", occurred_at=T0)
    services.app.mark_won(early, amount="100", reason="signed", occurred_at=T0 - timedelta(days=3))
    back = _lead(services, "Back")
    services.app.change_stage(back, to_stage="MQL", occurred_at=T0 + timedelta(days=5))
    services.app.change_stage(back, to_stage="SQL", occurred_at=T0 + timedelta(days=2))
    fine = _lead(services, "Fine")
    services.app.change_stage(fine, to_stage="MQL", occurred_at=T0 + timedelta(days=1))
    services.app.mark_won(fine, amount="50", reason="signed", occurred_at=T0 + timedelta(days=2))
    services.projector.catch_up()
    return early, back, fine


def test_flags_per_kind_with_version_and_times(services: Services) -> None:
    early, back, fine = _out_of_order(services)
    with services.read_engine.connect() as conn:
        early_flags = dq.lead_flags(conn, early.replace("-", ""))
        back_flags = dq.lead_flags(conn, back.replace("-", ""))
        assert dq.lead_flags(conn, fine.replace("-", "")) == []
        counted = dq.counts(conn)
    # Won before first contact: one flag (not also "backwards"), on the win's version.
    assert [(f["kind"], f["version"], f["stage"]) for f in early_flags] == [
        (dq.WON_BEFORE_FIRST_CONTACT, 3, "Customer")
    ]
    assert early_flags[0]["occurred_at"] == T0 - timedelta(days=3)
    assert early_flags[0]["reference_at"] == T0
    assert [(f["kind"], f["version"], f["stage"]) for f in back_flags] == [
        (dq.STAGE_DATES_BACKWARDS, 3, "SQL")
    ]
    assert back_flags[0]["reference_at"] == T0 + timedelta(days=5)
    assert counted[dq.WON_BEFORE_FIRST_CONTACT] == {"flags": 1, "leads": 1}
    assert counted[dq.STAGE_DATES_BACKWARDS] == {"flags": 1, "leads": 1}
    assert counted[dq.STAGE_BEFORE_FIRST_CONTACT] == {"flags": 0, "leads": 0}


def test_flags_survive_a_rebuild_and_span_batches(services: Services) -> None:
    early = _lead(services, "Early")
    services.projector.catch_up()  # the capture in one batch, the late history in the next
    services.app.change_stage(early, to_stage="MQL", occurred_at=T0 - timedelta(hours=1))
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        before = dq.lead_flags(conn, early.replace("-", ""))
    assert [f["kind"] for f in before] == [dq.STAGE_BEFORE_FIRST_CONTACT]
    services.projector.rebuild()
    with services.read_engine.connect() as conn:
        assert dq.lead_flags(conn, early.replace("-", "")) == before


def _export(client: FlaskClient) -> dict[str, dict[str, str]]:
    response = client.get("/leads/export.csv")
    assert response.status_code == 200
    return {row["name"]: row for row in exported_rows(response.data)}


def test_lead_page_export_and_data_quality_page(web_app: Flask, services: Services, login: Login) -> None:
    early, back, fine = _out_of_order(services)
    manager = login(web_app.test_client(), "manager")
    page = manager.get(f"/leads/{early}").get_data(as_text=True)
    assert 'id="lead-dq-h"' in page and "Won before the lead&#39;s first contact" in page
    assert page.count('class="data-quality-mark"') == 1  # on the win's timeline entry only
    assert 'id="lead-dq-h"' not in manager.get(f"/leads/{fine}").get_data(as_text=True)
    rows = _export(manager)
    assert rows["Early"]["data_quality"] == dq.WON_BEFORE_FIRST_CONTACT
    assert rows["Back"]["data_quality"] == dq.STAGE_DATES_BACKWARDS
    assert rows["Fine"]["data_quality"] == ""
    listing = manager.get("/data-quality/")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert f"/leads/{early.replace('-', '')}" in html and f"/leads/{back.replace('-', '')}" in html
    assert "/leads/" + fine.replace("-", "") not in html
    assert 'href="/data-quality/"' in html  # in the menu
    flags = exported_rows(manager.get("/data-quality/flags.csv").data)
    assert sorted(f["kind"] for f in flags) == [dq.STAGE_DATES_BACKWARDS, dq.WON_BEFORE_FIRST_CONTACT]
    # Auditors read it too; marketing and sales do not see it.
    auditor = login(web_app.test_client(), "auditor")
    assert auditor.get("/data-quality/").status_code == 200
    assert auditor.post("/data-quality/").status_code in (403, 405)
    for role in ("marketing", "sales"):
        client = login(web_app.test_client(), role)
        assert client.get("/data-quality/").status_code == 403
        assert 'href="/data-quality/"' not in client.get("/").get_data(as_text=True)


def test_a_back_dated_change_on_the_page_is_marked_in_the_timeline_at_once(
    web_app: Flask, services: Services, login: Login
) -> None:
    lead = _lead(services, "Later")
    services.app.change_stage(lead, to_stage="MQL", occurred_at=T0 + timedelta(days=4))
    services.projector.catch_up()
    manager = login(web_app.test_client(), "manager")
    headers = {"HX-Request": "true", "HX-Target": "action-result"}
    back_dated = {"to_stage": "SQL", "occurred_at": "2025-03-12T10:00"}  # before the MQL of the 14th
    fragment = manager.post(f"/leads/{lead}/stage", data=back_dated, headers=headers).get_data(as_text=True)
    assert "Stage dates going backwards" in fragment and 'class="data-quality-mark"' in fragment
    assert "Stage dates going backwards" in manager.get(f"/leads/{lead}").get_data(as_text=True)


def test_pages_in_spanish(web_app: Flask, services: Services, login: Login) -> None:
    early, _back, _fine = _out_of_order(services)
    manager = login(web_app.test_client(), "manager", "es")
    html = manager.get("/data-quality/").get_data(as_text=True)
    assert "Calidad de los datos" in html and "Ganado antes del primer contacto" in html
    lead = manager.get(f"/leads/{early}").get_data(as_text=True)
    assert "antes de su primer contacto" in lead


DEALS_OUT_OF_ORDER = """mql_id,seller_id,sr_id,won_date,declared_monthly_revenue
k1,s,rep-1,2025-04-01 10:00:00,1500
k2,s,rep-2,2025-03-01 10:00:00,0
k3,s,rep-3,2025-04-01 10:00:00,
"""
LEADS = """mql_id,name,email,origin,captured_at
k1,Ana,ana@example.com,email,2025-03-03
k2,Bea,bea@example.com,email,2025-03-04
k3,Cid,cid@example.com,email,2025-03-04
"""


def _mappings() -> tuple[mappings.Mapping, mappings.Mapping]:
    """Olist's presets; the leads' file has its own columns (name, e-mail, capture)."""
    columns = {
        "key": "mql_id",
        "name": "name",
        "email": "email",
        "source": "origin",
        "captured_at": "captured_at",
    }
    leads = mappings.from_json(mappings.PRESETS["olist-mqls"].to_json() | {"columns": columns}, "leads")
    return leads, mappings.PRESETS["olist-deals"]


def test_import_groups_warnings_by_kind_with_every_row(services: Services) -> None:
    leads, deals = _mappings()
    run_plan(services.app, make_plan(read_csv_text(LEADS), leads, MADRID))
    result = run_plan(services.app, make_plan(read_csv_text(DEALS_OUT_OF_ORDER), deals, MADRID))
    assert result.warning_counts() == {"amount_unknown": 2, dq.WON_BEFORE_FIRST_CONTACT: 1}
    assert result.summary()["warnings_by_kind"] == result.warning_counts()
    assert [w.row for w in result.warnings_of(dq.WON_BEFORE_FIRST_CONTACT)] == [3]
    out = io.StringIO()
    write_warnings(out, result.warnings)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["kind"], r["row"]) for r in rows] == [
        ("amount_unknown", "3"),
        ("amount_unknown", "4"),
        (dq.WON_BEFORE_FIRST_CONTACT, "3"),
    ]


def test_cli_lists_kinds_and_writes_every_warning(web_app: Flask, services: Services, tmp_path: Path) -> None:
    run_plan(services.app, make_plan(read_csv_text(LEADS), _mappings()[0], MADRID))
    deals, out = tmp_path / "deals.csv", tmp_path / "warnings.csv"
    deals.write_text(DEALS_OUT_OF_ORDER, encoding="utf-8")
    args = ["import", "deals", str(deals), "--mapping", "olist-deals", "--warnings", str(out)]
    result = web_app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "amount_unknown: 2" in result.output and f"{dq.WON_BEFORE_FIRST_CONTACT}: 1" in result.output
    with out.open(encoding="utf-8") as file:
        kinds = [r["kind"] for r in csv.DictReader(file)]
    assert kinds == ["amount_unknown", "amount_unknown", dq.WON_BEFORE_FIRST_CONTACT]


def test_web_import_summary_by_kind_and_warnings_csv(
    web_app: Flask, services: Services, login: Login
) -> None:
    leads, _deals = _mappings()
    run_plan(services.app, make_plan(read_csv_text(LEADS), leads, MADRID))
    client = login(web_app.test_client(), "manager")
    upload = client.post(
        "/import/",
        data={"file": (io.BytesIO(DEALS_OUT_OF_ORDER.encode()), "deals.csv"), "preset": "olist-deals"},
    )
    assert upload.status_code == 303
    upload_id = upload.headers["Location"].split("/")[2]
    form = {"preset": "olist-deals", "tz": "Europe/Madrid"}  # the preset's columns
    job_url = client.post(f"/import/{upload_id}/run", data=form).headers["Location"]
    for _ in range(400):
        html = client.get(job_url + "/progress").get_data(as_text=True)
        if "every 500ms" not in html:
            break
        time.sleep(0.05)
    assert 'data-kind="won_before_first_contact"' in html and 'data-kind="amount_unknown"' in html
    assert "Won before the lead&#39;s first contact: 1" in html
    download = client.get(job_url + "/warnings.csv")
    assert download.status_code == 200
    # In the reader's spreadsheet convention: UTF-8 with a byte-order mark (issue 20).
    kinds = [r["kind"] for r in csv.DictReader(io.StringIO(download.data.decode("utf-8-sig")))]
    assert sorted(kinds) == ["amount_unknown", "amount_unknown", dq.WON_BEFORE_FIRST_CONTACT]


@pytest.mark.skipif(not (MQLS.exists() and DEALS.exists()), reason=f"Olist data not in {OLIST}")
def test_olist_deal_won_before_first_contact_is_flagged_everywhere(
    web_app: Flask, services: Services, login: Login
) -> None:
    mqls = run_plan(services.app, make_plan(read_csv(MQLS), mappings.load("olist-mqls", "leads"), MADRID))
    assert mqls.errors == []
    won = run_plan(services.app, make_plan(read_csv(DEALS), mappings.load("olist-deals", "deals"), MADRID))
    counted = won.warning_counts()
    assert counted[dq.WON_BEFORE_FIRST_CONTACT] == 1 and sum(counted.values()) == len(won.warnings)
    (warning,) = won.warnings_of(dq.WON_BEFORE_FIRST_CONTACT)
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        assert dq.counts(conn)[dq.WON_BEFORE_FIRST_CONTACT] == {"flags": 1, "leads": 1}
        (flag,) = dq.flags_of_kind(conn, dq.WON_BEFORE_FIRST_CONTACT)
    deal_rows = {number: values for number, values in read_csv(DEALS).rows}
    lead_id = lead_id_for("olist", deal_rows[warning.row]["mql_id"]).hex
    assert flag["lead_id"] == lead_id
    manager = login(web_app.test_client(), "manager")
    page = manager.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert 'id="lead-dq-h"' in page and 'class="data-quality-mark"' in page
    export = _export(manager)
    flagged = [name for name, row in export.items() if row["data_quality"]]
    assert flagged == [name for name, row in export.items() if row["lead_id"] == lead_id]
    assert export[flagged[0]]["data_quality"] == dq.WON_BEFORE_FIRST_CONTACT
    listing = manager.get("/data-quality/").get_data(as_text=True)
    assert f"/leads/{lead_id}" in listing
