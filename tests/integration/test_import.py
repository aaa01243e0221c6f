"""CSV import against both backends: idempotency, rejects with row/column/reason,
out-of-order warnings, per-lead atomicity, dates and time zones."""

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from flask import Flask

from smarketing.bootstrap import Services
from smarketing.extensions import KEY
from smarketing.importing import mapping as mappings
from smarketing.importing.parse import CellError, parse_datetime, read_csv_text
from smarketing.importing.plan import lead_id_for, make_plan
from smarketing.importing.run import ImportResult, run_plan, write_rejects
from smarketing.web.core.factory import create_app

MADRID = ZoneInfo("Europe/Madrid")
LEADS = """key,name,email,source,captured_at
k1,Ana Ruiz,ana@example.com,paid_search,2025-03-03
k2,Bea Gil,bea@example.com,,2025-03-04 10:30:00
k3,Carl,not-an-email,email,2025-03-05
k4,Dan,dan@example.com,email,31/02/2025
k5,Eva,eva@example.com,email,2025-03-06T09:00+02:00
"""


def _events(services: Services) -> int:
    # Counted, not the highest id: PostgreSQL sequences skip ids of rolled-back inserts.
    return len(services.app.recorder.select_notifications(start=1, limit=10**7))


def _import(services: Services, text: str, preset: str, kind: str, **kw: object) -> ImportResult:
    plan = make_plan(read_csv_text(text), mappings.load(preset, kind), MADRID)
    return run_plan(services.app, plan, **kw)


def _leads(services: Services, text: str = LEADS, **kw: object) -> ImportResult:
    return _import(services, text, "leads", "leads", **kw)


def test_import_twice_creates_nothing_new(services: Services) -> None:
    first = _leads(services)
    assert (first.imported, first.skipped, len(first.errors)) == (3, 0, 2)
    events = _events(services)
    second = _leads(services)
    assert (second.imported, second.skipped, len(second.errors)) == (0, 3, 2)
    assert _events(services) == events


def test_rejects_name_row_column_and_reason(services: Services) -> None:
    result = _leads(services)
    assert [(e.row, e.column) for e in result.errors] == [(4, "email"), (5, "captured_at")]
    assert "valid e-mail" in result.errors[0].reason
    assert "not a real date" in result.errors[1].reason
    out = io.StringIO()
    write_rejects(out, ["key", "name", "email", "source", "captured_at"], result.errors)
    lines = out.getvalue().splitlines()
    assert lines[0] == "row,column,reason,key,name,email,source,captured_at"
    assert lines[1].startswith("4,email,") and lines[1].endswith(",k3,Carl,not-an-email,email,2025-03-05")


def test_dates_and_time_zones(services: Services) -> None:
    _leads(services)
    lead = services.app.get_lead(lead_id_for("csv", "k1"))
    assert lead["captured_at"] == datetime(2025, 3, 2, 23, 0, tzinfo=UTC)  # midnight in Madrid (CET)
    assert services.app.get_lead(lead_id_for("csv", "k2"))["captured_at"] == datetime(
        2025, 3, 4, 9, 30, tzinfo=UTC
    )
    assert services.app.get_lead(lead_id_for("csv", "k2"))["source"] == "import"  # default for empty
    assert services.app.get_lead(lead_id_for("csv", "k5"))["captured_at"] == datetime(
        2025, 3, 6, 7, 0, tzinfo=UTC
    )  # the offset wins over the chosen zone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-07-01", datetime(2025, 6, 30, 22, 0, tzinfo=UTC)),  # CEST
        ("2025-07-01 08:15", datetime(2025, 7, 1, 6, 15, tzinfo=UTC)),
        ("2025-07-01T08:15:30", datetime(2025, 7, 1, 6, 15, 30, tzinfo=UTC)),
        ("2025-07-01T08:15:30Z", datetime(2025, 7, 1, 8, 15, 30, tzinfo=UTC)),
        ("2025-07-01T08:15-03:00", datetime(2025, 7, 1, 11, 15, tzinfo=UTC)),
        ("01/07/2025", datetime(2025, 6, 30, 22, 0, tzinfo=UTC)),
    ],
)
def test_date_formats(text: str, expected: datetime) -> None:
    assert parse_datetime(text, MADRID) == expected


@pytest.mark.parametrize("text", ["07/01/25", "2025/07/01", "1 July 2025", "2025-13-01", "32/01/2025"])
def test_unsupported_dates_are_refused(text: str) -> None:
    with pytest.raises(CellError):
        parse_datetime(text, MADRID)


DEALS = """mql_id,sr_id,won_date,declared_monthly_revenue
k1,rep-1,2025-04-01 10:00:00,1500.5
k2,rep-2,2025-03-01 10:00:00,0
k9,rep-3,2025-04-01 10:00:00,10
k5,rep-4,2025-04-02 10:00:00,abc
"""


def test_deals_win_skip_warn_and_stay_idempotent(services: Services) -> None:
    text = LEADS.replace("key,", "mql_id,").replace(",source,", ",origin,")
    mapping = mappings.from_json(
        mappings.PRESETS["olist-mqls"].to_json()
        | {"source_system": "csv", "columns": {"key": "mql_id", "name": "name", "email": "email",
                                               "source": "origin", "captured_at": "captured_at"}},
        "leads",
    )  # fmt: skip
    assert mapping.initial_stage == "MQL"
    assert run_plan(services.app, make_plan(read_csv_text(text), mapping, MADRID)).imported == 3
    deals_mapping = mappings.from_json(mappings.PRESETS["olist-deals"].to_json() | {"source_system": "csv"})
    plan = make_plan(read_csv_text(DEALS), deals_mapping, MADRID)
    result = run_plan(services.app, plan)
    assert result.imported == 2
    assert [(e.row, e.column) for e in result.errors] == [(4, "mql_id"), (5, "declared_monthly_revenue")]
    ana = services.app.get_lead(lead_id_for("csv", "k1"))
    assert (ana["stage"], ana["owner"], ana["team"]) == ("Customer", "rep-1", "sales")
    assert (ana["won_amount"], ana["currency"]) == (Decimal("1500.50"), "BRL")
    bea = services.app.get_lead(lead_id_for("csv", "k2"))
    # The source recorded no amount: unknown (None, never 0), with a warning.
    assert (bea["won_amount"], bea["currency"], bea["stage"]) == (None, "BRL", "Customer")
    messages = {(w.row, w.message.split(" ")[0]) for w in result.warnings}
    assert (3, "amount") in messages
    out_of_order = [w for w in result.warnings if "before the lead's capture" in w.message]
    assert [(w.row, w.column) for w in out_of_order] == [(3, "won_date")]
    assert bea["stage_entered_at"] == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)  # as recorded
    events = _events(services)
    again = run_plan(services.app, make_plan(read_csv_text(DEALS), deals_mapping, MADRID))
    assert (again.imported, again.skipped, again.warnings) == (0, 2, [])
    assert _events(services) == events


def test_each_lead_is_atomic_when_a_chunk_conflicts(services: Services) -> None:
    """An e-mail taken meanwhile refuses that one lead; its neighbours are saved whole."""
    data = read_csv_text(LEADS)
    plan = make_plan(data, mappings.load("leads", "leads"), MADRID)
    services.app.capture_lead(name="Someone", email="bea@example.com", source="web")  # not yet seen
    before = _events(services)
    result = run_plan(services.app, plan, chunk_size=10)
    assert result.imported == 2
    assert [(e.row, e.column) for e in result.errors if e.row == 3] == [(3, "email")]
    assert _events(services) == before + 2 * 2  # two leads, each capture + its e-mail index
    assert not services.app.lead_exists(lead_id_for("csv", "k2"))


def test_conflict_inside_a_chunk_retries_one_by_one(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = make_plan(read_csv_text(LEADS), mappings.load("leads", "leads"), MADRID)
    from smarketing.importing import run as run_module

    real_exists = run_module._exists
    calls = {"n": 0}

    def stale_check(app: object, aggregate_id: object) -> bool:
        # The e-mail check misses a concurrent writer once: the chunk save must fail whole.
        calls["n"] += 1
        return False if calls["n"] == 2 else real_exists(app, aggregate_id)

    services.app.capture_lead(name="Someone", email="ana@example.com", source="web")
    monkeypatch.setattr(run_module, "_exists", stale_check)
    before = _events(services)
    result = run_plan(services.app, plan, chunk_size=10)
    assert result.imported == 2 and [e.row for e in result.errors] == [2, 4, 5]
    assert _events(services) == before + 4


def test_dry_run_writes_nothing(services: Services) -> None:
    result = _leads(services, dry_run=True)
    assert result.imported == 3 and _events(services) == 0


def test_invalid_mapping_is_refused() -> None:
    with pytest.raises(mappings.MappingError):
        mappings.from_json({"kind": "leads", "columns": {"nickname": "x"}})
    with pytest.raises(mappings.MappingError):
        mappings.check_header(mappings.PRESETS["olist-mqls"], ["mql_id"])


@pytest.fixture
def app(services: Services) -> Flask:
    app = create_app(
        {"DATABASE_URL": services.settings.database_url, "TESTING": True, "LOGIN_DISABLED": True,
         "WTF_CSRF_ENABLED": False}
    )  # fmt: skip
    yield app
    app.extensions[KEY].close()


def _cli(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def test_cli_import_and_exit_codes(app: Flask, services: Services, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(LEADS, encoding="utf-8")
    result = _cli(app, "import", "leads", str(path), "--rejects", str(tmp_path / "rejects.csv"))
    assert result.exit_code == 0, result.output
    assert "Imported 3 of 5 rows" in result.output and "rejected 2" in result.output
    assert "row 4, column email" in result.output
    assert (tmp_path / "rejects.csv").read_text().count("\n") == 3
    again = _cli(app, "import", "leads", str(path))
    assert "skipped 3 already present" in again.output
    assert _cli(app, "import", "leads", str(tmp_path / "missing.csv")).exit_code != 0
    assert _cli(app, "import", "leads", str(path), "--mapping", "olist-mqls").exit_code != 0
    assert _cli(app, "import", "deals", str(path), "--mapping", "nope").exit_code != 0


def test_web_upload_preview_and_background_run(app: Flask, services: Services) -> None:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the page is read in English below
    response = client.post(
        "/import/", data={"file": (io.BytesIO(LEADS.encode()), "leads.csv"), "preset": "leads"}
    )
    assert response.status_code == 303
    mapping_url = response.headers["Location"]
    page = client.get(mapping_url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # In the reader's words and the chosen zone: midnight in Madrid, as the file says.
    assert "Captured: Ana Ruiz" in html and "3/3/25, 12:00\u202fAM" in html and "Rejected" in html
    upload = mapping_url.split("/")[2]
    form = {"preset": "leads", "tz": "Europe/Madrid"} | {
        f"col_{f}": f for f in ("key", "name", "email", "source", "captured_at")
    }
    started = client.post(f"/import/{upload}/run", data=form)
    assert started.status_code == 303
    job_url = started.headers["Location"]
    progress_url = job_url + "/progress"
    for _ in range(200):
        html = client.get(progress_url).get_data(as_text=True)
        if "every 500ms" not in html:
            break
        import time

        time.sleep(0.05)
    assert "Imported: 3" in html and "Rejected: 2" in html
    rejects = client.get(job_url + "/rejects.csv")
    assert rejects.status_code == 200 and b"not-an-email" in rejects.data
    assert client.post("/import/", data={"file": (io.BytesIO(b"\xff\xfe\x00"), "x.csv")}).status_code == 422
