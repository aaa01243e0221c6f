"""Lead list (filters, search, keyset pages) and timeline against the fixed history."""

import json

import pytest

from projections.queries import leads_query
from projections.queries.leads_query import LeadQuery
from smarketing.bootstrap import Services
from tests.integration.fixed_history import (
    JAVIER,
    LUCIA,
    MARTA,
    MKT,
    at,
    build_history,
    key,
)


@pytest.fixture
def history(services: Services) -> dict[str, str]:
    return build_history(services)


# --- lead list and timeline -------------------------------------------------

NOW = at(11, 1, 0)


def _names(result: dict) -> list[str]:
    return [row["name"].split()[0] for row in result["leads"]]


def test_lead_list_filters_and_search(services: Services, history: dict[str, str]) -> None:
    with services.read_engine.connect() as conn:
        assert _names(leads_query.list_leads(conn, LeadQuery(stage="Customer", sort="name"), NOW)) == [
            "Ana",
            "Bruno",
        ]
        assert _names(leads_query.list_leads(conn, LeadQuery(source="paid_search", sort="oldest"), NOW)) == [
            "Ana",
            "Fernando",
        ]
        assert _names(leads_query.list_leads(conn, LeadQuery(owner=MARTA), NOW)) == ["Carla"]
        assert _names(leads_query.list_leads(conn, LeadQuery(q="CLÍNICA"), NOW)) == ["Carla"]
        assert _names(leads_query.list_leads(conn, LeadQuery(q="acme"), NOW)) == ["Ana"]
        assert _names(leads_query.list_leads(conn, LeadQuery(q=".test", sort="name"), NOW)) == list(
            "Ana Bruno Carla Diego Elena Fernando Gloria".split()
        )
        assert _names(leads_query.list_leads(conn, LeadQuery(q="%"), NOW)) == []  # no wildcard
        assert _names(leads_query.list_leads(conn, LeadQuery(q="_"), NOW)) == []
        assert _names(leads_query.list_leads(conn, LeadQuery(campaign="newsletter", sort="name"), NOW)) == [
            "Diego",
            "Gloria",
        ]
        # Overdue: an MQL not contacted within 24 h of entering MQL (E, MQL 10-30 14:00).
        assert _names(leads_query.list_leads(conn, LeadQuery(overdue=True), NOW)) == ["Elena"]
        assert _names(leads_query.list_leads(conn, LeadQuery(overdue=True), at(10, 31, 12))) == []
        row = leads_query.get_summary(conn, key(history["A"]))
        c_row = leads_query.get_summary(conn, key(history["C"]))
        f_row = leads_query.get_summary(conn, key(history["F"]))
    assert row is not None and c_row is not None and f_row is not None
    assert (row["version"], row["stage"], row["owner"], row["team"]) == (9, "Customer", LUCIA, "sales")
    assert (row["attempts"], row["interactions"], row["won_amount_cents"], row["currency"]) == (
        2,
        1,
        1_000_000,
        "EUR",
    )
    assert row["captured_at"] == at(10, 1, 8)
    assert row["mql_at"] == at(10, 2, 8)
    assert (row["first_contact_at"], row["last_contact_at"]) == (at(10, 2, 12), at(10, 3, 8))
    assert row["last_activity_at"] == at(10, 11, 8)
    assert (c_row["captured_month"], c_row["stage"], c_row["sourced_by"]) == (
        "2026-10",
        "Disqualified",
        "marketing",
    )
    assert f_row["captured_month"] == "2026-11"


@pytest.mark.parametrize(
    ("sort", "first_page", "second_page"),
    [
        ("name", ["Ana", "Bruno", "Carla", "Diego"], ["Elena", "Fernando", "Gloria"]),
        ("newest", ["Fernando", "Elena", "Bruno", "Diego"], ["Ana", "Carla", "Gloria"]),
        ("oldest", ["Gloria", "Carla", "Ana", "Diego"], ["Bruno", "Elena", "Fernando"]),
        # Last activity: F 10-31 23:30, E 10-30 14:00, B 10-20, C 10-15, A 10-11, D 10-07, G 09-20
        ("activity", ["Fernando", "Elena", "Bruno", "Carla"], ["Ana", "Diego", "Gloria"]),
    ],
)
def test_lead_list_keyset_pagination(
    services: Services, history: dict[str, str], sort: str, first_page: list[str], second_page: list[str]
) -> None:
    with services.read_engine.connect() as conn:
        page1 = leads_query.list_leads(conn, LeadQuery(sort=sort, limit=4), NOW)
        assert _names(page1) == first_page
        assert page1["next"]
        page2 = leads_query.list_leads(conn, LeadQuery(sort=sort, limit=4, after=page1["next"]), NOW)
        assert _names(page2) == second_page
        assert page2["next"] == ""
        # A page that ends exactly at the last row has no next page either.
        exact = leads_query.list_leads(conn, LeadQuery(sort=sort, limit=3, after=page1["next"]), NOW)
        assert _names(exact) == second_page
        assert exact["next"] == ""


def test_keyset_pagination_with_ties(services: Services) -> None:
    """Leads captured at the same instant are neither skipped nor repeated across pages."""
    same = at(10, 5, 9)
    for i in range(7):
        services.app.capture_lead(
            name=f"Twin {i}", email=f"twin{i}@example.com", source="email", occurred_at=same
        )
    services.projector.catch_up()
    seen: list[str] = []
    after = ""
    with services.read_engine.connect() as conn:
        for _ in range(10):
            page = leads_query.list_leads(conn, LeadQuery(sort="newest", limit=3, after=after), NOW)
            seen += [row["lead_id"] for row in page["leads"]]
            after = page["next"]
            if not after:
                break
    assert len(seen) == 7
    assert len(set(seen)) == 7


def test_timeline_newest_first_with_actor(services: Services, history: dict[str, str]) -> None:
    with services.read_engine.connect() as conn:
        entries = leads_query.timeline(conn, key(history["A"]))
        oldest_first = leads_query.timeline(conn, key(history["A"]), newest_first=False)
        unknown = leads_query.timeline(conn, "0" * 32)
    assert unknown == []
    assert [(e["version"], e["event_type"], e["actor"]) for e in entries] == [
        (9, "DealWon", LUCIA),
        (8, "StageChanged", LUCIA),
        (7, "StageChanged", LUCIA),
        (6, "ContactAttempted", LUCIA),
        (5, "ContactAttempted", LUCIA),
        (4, "OwnerAssigned", LUCIA),
        (3, "StageChanged", MKT),
        (2, "InteractionRecorded", MKT),
        (1, "Captured", MKT),
    ]
    assert oldest_first == entries[::-1]
    assert [e["occurred_at"] for e in entries] == [
        at(10, 11, 8),
        at(10, 6, 8),
        at(10, 4, 8),
        at(10, 3, 8),
        at(10, 2, 12),
        at(10, 2, 9),
        at(10, 2, 8),
        at(10, 1, 9),
        at(10, 1, 8),
    ]
    positions = [e["position"] for e in entries]
    assert positions == sorted(positions, reverse=True)
    assert entries[0]["data"]["amount"] == "10000.00"
    assert entries[0]["data"]["currency"] == "EUR"
    assert entries[0]["data"]["from_stage"] == "Opportunity"
    assert entries[6]["data"]["to_stage"] == "MQL"
    assert entries[-1]["data"]["personal"]["name"] == "Ana Alonso"
    assert entries[-1]["data"]["source"] == "paid_search"
    json.dumps([e["data"] for e in entries])  # plain JSON values

    with services.read_engine.connect() as conn:
        b = leads_query.timeline(conn, key(history["B"]))
    skip = next(e for e in b if e["version"] == 3)
    assert skip["data"]["skipped"] == ["MQL"]
    assert skip["data"]["personal"]["reason"] == "Clear need on the first call"
    assert skip["actor"] == JAVIER
