"""A store whose scorecard facts were built before the one "reached" rule (no implied
facts, no ``implied`` column) rebuilds them on ``flask db init``: a deal won from MQL
then counts as an SQL and an opportunity of its month."""

from datetime import UTC, datetime

from sqlalchemy import Column, MetaData, Table, select

from projections.models.scorecard import sla_facts
from projections.queries.scorecard_query import scorecard_actuals
from smarketing.bootstrap import Services, bootstrap, init_schema

WON_AT = datetime(2024, 5, 20, 10, tzinfo=UTC)


def _old_facts_table() -> Table:
    """sla_facts as stores made before the rule have it: one fact per event."""
    old = MetaData()
    columns = [
        Column(c.name, c.type, primary_key=c.name in ("lead_id", "version"), nullable=c.nullable)
        for c in sla_facts.columns
        if c.name != "implied"
    ]
    return Table(sla_facts.name, old, *columns)


def test_db_init_rebuilds_the_facts_of_a_store_made_before_the_rule(services: Services) -> None:
    app = services.app
    lead_id = app.capture_lead(
        name="Olga", email="olga@example.org", source="webinar", occurred_at=datetime(2024, 5, 2, tzinfo=UTC)
    )
    app.change_stage(lead_id, to_stage="MQL", occurred_at=datetime(2024, 5, 3, tzinfo=UTC))
    app.mark_won(lead_id, amount="900", reason="Imported closed deal", occurred_at=WON_AT)
    services.projector.catch_up()
    old = _old_facts_table()
    with services.projector.engine.begin() as conn:
        rows = [
            {k: v for k, v in row._mapping.items() if k != "implied"}
            for row in conn.execute(select(sla_facts).where(sla_facts.c.implied == 0))
        ]
        sla_facts.drop(conn)
        old.create(conn)
        conn.execute(old.insert(), rows)
        assert scorecard_actuals(conn, "2024-05")["sqls"] == 0  # as the old rule counted
    init_schema(services.settings)
    assert services.projector.positions()["scorecard"] == 0
    upgraded = bootstrap(services.settings)
    try:
        upgraded.projector.catch_up()
        with upgraded.read_engine.connect() as conn:
            actuals = scorecard_actuals(conn, "2024-05")
            implied = conn.execute(
                select(sla_facts.c.kind, sla_facts.c.occurred_at).where(sla_facts.c.implied == 1)
            ).all()
    finally:
        upgraded.close()
    assert (actuals["mqls"], actuals["sqls"], actuals["opportunities"], actuals["won"]) == (1, 1, 1, 1)
    assert sorted(kind for kind, _at in implied) == ["opportunity", "sql"]
