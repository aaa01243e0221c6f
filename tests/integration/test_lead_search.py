"""Live search returns what ``LIKE '%q%'`` over search_text returned, whether
SQLite answers from its FTS5 trigram table or PostgreSQL from LIKE + pg_trgm."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from projections.engine import lead_search
from projections.models.lead_summary import lead_summary
from projections.queries.leads_query import LeadQuery, list_leads
from smarketing.bootstrap import Services

PEOPLE = [
    ("María García", "maria.garcia@example.org", "Acme"),
    ("Mario Garcés", "mario@garces.example", "ACME Iberia"),
    ("Zoë O'Brien", "zoe_obrien@example.com", "100% Pure"),
    ('Ann "The Boss" Lee', "ann@lee.example", "Lee & Co"),
    ("Bob", "bob@example.org", "garcia tools"),
]

TERMS = [
    "garc",
    "GARCÍA",
    "arcí",
    "ga",  # short: LIKE
    "a",
    "acme",
    "100%",
    "% p",
    "o_b",
    "_ob",
    '"the',
    "ee & c",
    "@example",
    "example.org",
    "zzqx",  # absent
    "maria.garcia@example.org acme",
    "bob@",
]


def _expected(conn, term: str) -> list[str]:
    """LIKE's answer, computed without the query under test: substring, newest first."""
    rows = conn.execute(
        select(lead_summary.c.lead_id, lead_summary.c.search_text).order_by(
            lead_summary.c.captured_at.desc(), lead_summary.c.lead_id.desc()
        )
    ).all()
    return [r.lead_id for r in rows if term.lower() in r.search_text]


def _found(conn, term: str, now: datetime) -> list[str]:
    ids: list[str] = []
    query = LeadQuery(q=term, limit=2)  # small pages: the keyset cursor runs with the index too
    while True:
        page = list_leads(conn, query, now)
        ids += [lead["lead_id"] for lead in page["leads"]]
        if not page["next"]:
            return ids
        query = LeadQuery(q=term, limit=2, after=page["next"])


def test_search_results_equal_like_on_both_backends(services: Services) -> None:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    ids = [
        services.app.capture_lead(
            name=name, email=email, company=company, source="webinar", occurred_at=start + timedelta(hours=i)
        )
        for i, (name, email, company) in enumerate(PEOPLE)
    ]
    services.projector.catch_up()
    services.app.erase_personal_data(ids[1], reason="asked to be forgotten")  # a later batch: an update
    late = services.app.capture_lead(
        name="Gone Garcés", email="gone@example.org", company="Acme", source="webinar", occurred_at=start
    )
    services.app.erase_personal_data(late, reason="asked at once")  # erased in the batch that captured it
    services.projector.catch_up()
    now = start + timedelta(days=1)
    with services.read_engine.connect() as conn:
        if conn.dialect.name == "sqlite" and lead_search.supported():
            assert lead_search.exists(conn)  # created by init_schema, so the index path runs
        for term in TERMS:
            assert _found(conn, term, now) == _expected(conn, term), term
        assert _found(conn, "garces", now) == []  # erased: the old name is gone from the index too
        assert _found(conn, "gone", now) == []
        assert len(_found(conn, "acme", now)) == 3  # erased leads' companies stay searchable
