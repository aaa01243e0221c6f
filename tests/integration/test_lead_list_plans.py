"""The lead list's query shapes (projections.queries.leads_query docstring) list exactly the
leads, in exactly the order, that filtering and sorting every lead_summary row gives:
the SQLite window over the sort's index (a page found in it, or the fall-back to the
plain query), and the PostgreSQL overdue list from the partial index (or the plain
filter when the list is long), page after page."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from projections.models.lead_summary import lead_summary
from projections.queries import leads_query
from projections.queries.leads_query import LeadQuery, list_leads
from smarketing.bootstrap import Services

START = datetime(2025, 3, 3, 9, tzinfo=UTC)
NOW = START + timedelta(days=40)
SOURCES = ["web"] * 6 + ["event"] * 3 + ["partner"]  # one common, one rare
NAMES = ["alba", "bruno", "carla", "dario"]  # repeated: ties broken by lead_id
OWNERS = ["ana", "luis"]


def _history(svc: Services, seed: int, leads: int) -> None:
    rng = random.Random(seed)
    for n in range(leads):
        captured = START + timedelta(hours=rng.randrange(0, 400))
        lead_id = svc.app.capture_lead(
            name=rng.choice(NAMES),
            email=f"p{n}@example.org",
            source=rng.choice(SOURCES),
            campaign=rng.choice(["spring", "", ""]),
            occurred_at=captured,
        )
        if rng.random() < 0.6:
            svc.app.assign_owner(lead_id, owner=rng.choice(OWNERS), team="sales", occurred_at=captured)
        # Whole hours: leads share activity times, so the lead_id tie-break is exercised.
        for _ in range(rng.randrange(0, 4)):
            when = captured + timedelta(hours=rng.randrange(0, 300))
            svc.app.record_interaction(lead_id, kind="email_opened", occurred_at=when)
        if rng.random() < 0.5:
            entered = captured + timedelta(hours=rng.randrange(1, 400))
            svc.app.change_stage(lead_id, to_stage="MQL", occurred_at=entered)
            for _ in range(rng.choice([0, 0, 1, 2])):  # before or after the entry
                when = entered + timedelta(hours=rng.randrange(-48, 96))
                svc.app.log_contact_attempt(lead_id, channel="phone", outcome="no_answer", occurred_at=when)


def _expected(rows: list, query: LeadQuery, deadline: datetime | None = None) -> list[str]:
    """Filter and sort every row in Python (``deadline``: the overdue filter's cut-off)."""
    column, descending = leads_query.SORTS[query.sort]
    equal = {name: getattr(query, name) for name in leads_query.FILTERS if getattr(query, name)}
    kept = [
        r
        for r in rows
        if all(getattr(r, name) == value for name, value in equal.items())
        and (
            deadline is None
            or (
                r.stage == "MQL"
                and r.mql_at < deadline
                and (r.last_contact_at is None or r.last_contact_at < r.mql_at)
            )
        )
    ]
    kept.sort(key=lambda r: (getattr(r, column.name), r.lead_id), reverse=descending)
    return [r.lead_id for r in kept]


def _listed(conn, query: LeadQuery) -> list[str]:
    ids: list[str] = []
    while True:
        page = list_leads(conn, query, NOW)
        ids += [lead["lead_id"] for lead in page["leads"]]
        if not page["next"]:
            return ids
        query = LeadQuery(**{**vars(query), "after": page["next"]})


QUERIES = [
    {"sort": "activity", "source": "web"},
    {"sort": "activity", "source": "partner"},
    {"sort": "activity", "owner": "ana"},
    {"sort": "name", "source": "event"},
    {"sort": "name", "campaign": "spring", "owner": "luis"},
    {"sort": "activity", "stage": "MQL", "source": "web"},
    {"sort": "activity", "source": "nobody"},
    {"sort": "newest", "source": "web"},
]


@pytest.mark.parametrize("window", [4, 12, 2000])
def test_filtered_sorted_pages_are_the_filtered_sorted_rows(
    services: Services, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    _history(services, seed=3, leads=70)
    services.projector.catch_up()
    monkeypatch.setattr(leads_query, "WINDOW", window)
    with services.read_engine.connect() as conn:
        rows = conn.execute(select(lead_summary)).all()
        for values in QUERIES:
            for limit in (3, 7, 50):
                query = LeadQuery(**values, limit=limit)
                assert _listed(conn, query) == _expected(rows, query), (values, limit)
        assert len(_expected(rows, LeadQuery(sort="activity", source="web"))) > 30  # several pages


@pytest.mark.parametrize("list_max", [0, 2, 1000])
def test_overdue_pages_are_the_overdue_rows(
    services: Services, monkeypatch: pytest.MonkeyPatch, list_max: int
) -> None:
    _history(services, seed=5, leads=70)
    services.projector.catch_up()
    monkeypatch.setattr(leads_query, "OVERDUE_LIST_MAX", list_max)
    deadline = (NOW - timedelta(hours=24)).replace(tzinfo=None)  # 24 h, every hour counts
    with services.read_engine.connect() as conn:
        rows = conn.execute(select(lead_summary)).all()
        found = 0
        for values in ({}, {"sort": "activity"}, {"sort": "name", "owner": "ana"}, {"source": "web"}):
            for limit in (2, 50):
                query = LeadQuery(**values, overdue=True, limit=limit)
                expected = _expected(rows, query, deadline)
                assert _listed(conn, query) == expected, (values, limit)
                found += len(expected)
        assert found > 10  # the history does have overdue MQLs
