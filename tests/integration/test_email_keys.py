"""E-mail index ids and e-mail external keys are keyed hashes under the installation's
secret; index ids written before (an unsalted uuid5 of the address) keep working."""

from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.email_index import LeadEmailIndex, legacy_email_index_id
from domain.errors import DuplicateEmail
from domain.lead import Lead
from smarketing.bootstrap import Services
from smarketing.importing import mapping as mappings
from smarketing.importing.parse import read_csv_text
from smarketing.importing.plan import lead_id_for, make_plan
from smarketing.importing.run import run_plan

EMAIL = "zelda.quimbyworth@example.com"


def test_the_index_id_is_keyed_by_the_installation_secret(services: Services) -> None:
    app = services.app
    lead = app.capture_lead(name="Zelda", email=EMAIL, source="web")
    keyed = app.email_index_id(EMAIL)
    assert keyed != legacy_email_index_id(EMAIL) and keyed in app.repository
    assert legacy_email_index_id(EMAIL) not in app.repository  # a guessed address finds nothing
    assert app.lead_id_for_email(EMAIL.upper()) == lead
    assert len(app.index_secret) == 32


def _legacy_lead(services: Services) -> str:
    """A lead as a store from before keyed ids holds it: indexed by the uuid5 of its address."""
    lead = Lead.capture(UUID(int=7), name="Zelda", email=EMAIL, source="web")
    services.app.save(lead, LeadEmailIndex.register(legacy_email_index_id(EMAIL), lead.id))
    return str(lead.id)


def test_an_address_indexed_the_old_way_stays_taken_until_erased(services: Services) -> None:
    app = services.app
    old = _legacy_lead(services)
    assert app.lead_id_for_email(EMAIL) == old
    with pytest.raises(DuplicateEmail):
        app.capture_lead(name="Zelda again", email=EMAIL, source="web")
    rows = f"name,email,source\nZelda,{EMAIL},web\n"
    result = run_plan(
        app,
        make_plan(
            read_csv_text(rows), mappings.load("leads", "leads"), ZoneInfo("UTC"), email_key=app.email_key
        ),
    )
    assert result.imported == 0 and "already belongs" in result.errors[0].reason
    app.erase_personal_data(old, "GDPR 3")  # releases the old index
    assert app.lead_id_for_email(EMAIL) is None
    again = app.capture_lead(name="Zelda", email=EMAIL, source="web")
    assert app.lead_id_for_email(EMAIL) == again and app.email_index_id(EMAIL) in app.repository


def test_an_import_without_a_key_column_keys_rows_by_a_keyed_hash(services: Services) -> None:
    app = services.app
    rows = f"name,email,source\nZelda,{EMAIL},web\n"
    plan = make_plan(
        read_csv_text(rows), mappings.load("leads", "leads"), ZoneInfo("UTC"), email_key=app.email_key
    )
    assert run_plan(app, plan).imported == 1
    [planned] = plan.rows
    captured = app.lead_events(planned.lead_id)[0]
    assert captured.external_key == app.email_key(EMAIL) and "zelda" not in captured.external_key
    assert planned.lead_id != lead_id_for(plan.mapping.source_system, EMAIL)  # not derived from the address
    with pytest.raises(ValueError, match="email_key"):
        make_plan(read_csv_text(rows), mappings.load("leads", "leads"), ZoneInfo("UTC"))
