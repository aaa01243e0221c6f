"""Read models against a small fixed history whose figures were worked out by hand.

Times are UTC; the team's time zone is Europe/Madrid (UTC+2 until 25 October
2026, UTC+1 after), so lead C, captured 2026-09-30T23:30Z, belongs to October
and lead F, captured 2026-10-31T23:30Z, to November.

    A paid_search  (marketing)  10-01 08:00 captured; 09:00 email opened;
                                10-02 08:00 MQL (carmen); 09:00 owner lucia;
                                12:00 attempt (+4h); 10-03 08:00 attempt (+24h);
                                10-04 08:00 SQL; 10-06 08:00 Opportunity;
                                10-11 08:00 won 10000.00 EUR
    B outbound     (sales)      10-05 10:00 captured; 11:00 owner javier;
                                12:00 Lead->SQL skip (reason); 10-07 12:00 Opportunity;
                                10-20 12:00 won 5000.50 EUR
    C organic      (marketing)  09-30 23:30 captured (October in Madrid);
                                10-01 10:30 MQL; 11:00 owner marta; 12:30 attempt (+2h);
                                10-02 10:30 rejected -> Lead; 10-10 10:30 MQL again;
                                20:30 attempt (9 days after the first MQL: outside the window);
                                10-12 10:30 SQL; 10-15 10:30 lost
    D email        (marketing)  10-02 10:00 captured; 10-03 10:00 MQL;
                                10-04 10:00 disqualified; 10-06 recycled; 10-07 Lead
    E referral     (marketing)  10-30 12:00 captured; 14:00 MQL, never contacted
    F paid_search  (marketing)  10-31 23:30 captured (November in Madrid)
    G email        (marketing)  09-15 10:00 captured; 09-20 10:00 MQL; 11:00 owner daniel;
                                16:00 attempt (+6h)
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.actor import current_actor
from projections import funnel_query, leads_query, scorecard_query
from projections.leads_query import LeadQuery
from smarketing.bootstrap import Services


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    token = current_actor.set(actor)
    try:
        yield
    finally:
        current_actor.reset(token)


MKT, LUCIA, JAVIER, MARTA, DANIEL = (
    "carmen.ruiz",
    "lucia.romero",
    "javier.ortega",
    "marta.gil",
    "daniel.vidal",
)


def _history(services: Services) -> dict[str, str]:
    app = services.app
    ids: dict[str, str] = {}

    def capture(key: str, when: datetime, **fields: str) -> str:
        with acting_as(MKT):
            ids[key] = app.capture_lead(occurred_at=when, **fields)
        return ids[key]

    a = capture(
        "A",
        at(10, 1, 8),
        name="Ana Alonso",
        email="ana.alonso@acme.test",
        company="Acme Corp",
        source="paid_search",
        campaign="google-ads-crm",
    )
    with acting_as(MKT):
        app.record_interaction(a, kind="email_opened", channel="email", occurred_at=at(10, 1, 9))
        app.change_stage(a, to_stage="MQL", occurred_at=at(10, 2, 8))
    with acting_as(LUCIA):
        app.assign_owner(a, owner=LUCIA, team="sales", occurred_at=at(10, 2, 9))
        app.log_contact_attempt(a, channel="phone", outcome="no_answer", occurred_at=at(10, 2, 12))
        app.log_contact_attempt(a, channel="phone", outcome="connected", occurred_at=at(10, 3, 8))
        app.change_stage(a, to_stage="SQL", occurred_at=at(10, 4, 8))
        app.change_stage(a, to_stage="Opportunity", occurred_at=at(10, 6, 8))
        app.mark_won(a, amount="10000.00", currency="EUR", occurred_at=at(10, 11, 8))

    b = capture(
        "B",
        at(10, 5, 10),
        name="Bruno Blanco",
        email="bruno@bodegas.test",
        company="Bodegas Ebro",
        source="outbound",
        campaign="prospeccion-q",
    )
    with acting_as(JAVIER):
        app.assign_owner(b, owner=JAVIER, team="sales", occurred_at=at(10, 5, 11))
        app.change_stage(b, to_stage="SQL", reason="Clear need on the first call", occurred_at=at(10, 5, 12))
        app.change_stage(b, to_stage="Opportunity", occurred_at=at(10, 7, 12))
        app.mark_won(b, amount="5000.50", occurred_at=at(10, 20, 12))

    c = capture(
        "C",
        at(9, 30, 23, 30),
        name="Carla Castro",
        email="carla@clinica.test",
        company="Clínica Sol",
        source="organic_search",
        campaign="blog-seo",
    )
    with acting_as(MKT):
        app.change_stage(c, to_stage="MQL", occurred_at=at(10, 1, 10, 30))
    with acting_as(MARTA):
        app.assign_owner(c, owner=MARTA, team="sales", occurred_at=at(10, 1, 11))
        app.log_contact_attempt(c, channel="email", outcome="left_message", occurred_at=at(10, 1, 12, 30))
        app.reject_mql(c, reason="No budget this year", occurred_at=at(10, 2, 10, 30))
    with acting_as(MKT):
        app.change_stage(c, to_stage="MQL", occurred_at=at(10, 10, 10, 30))
    with acting_as(MARTA):
        app.log_contact_attempt(c, channel="phone", outcome="connected", occurred_at=at(10, 10, 20, 30))
        app.change_stage(c, to_stage="SQL", occurred_at=at(10, 12, 10, 30))
        app.mark_lost(c, reason="Price", occurred_at=at(10, 15, 10, 30))

    d = capture(
        "D",
        at(10, 2, 10),
        name="Diego Díaz",
        email="diego@talleres.test",
        company="Talleres Norte",
        source="email",
        campaign="newsletter",
    )
    with acting_as(MKT):
        app.change_stage(d, to_stage="MQL", occurred_at=at(10, 3, 10))
        app.change_stage(d, to_stage="Disqualified", reason="Fake contact data", occurred_at=at(10, 4, 10))
        app.change_stage(d, to_stage="Recycled", occurred_at=at(10, 6, 10))
        app.change_stage(d, to_stage="Lead", occurred_at=at(10, 7, 10))

    e = capture(
        "E",
        at(10, 30, 12),
        name="Elena Esteban",
        email="elena@optica.test",
        company="Óptica Plaza",
        source="referral",
        campaign="partners",
    )
    with acting_as(MKT):
        app.change_stage(e, to_stage="MQL", occurred_at=at(10, 30, 14))

    capture(
        "F",
        at(10, 31, 23, 30),
        name="Fernando Fuentes",
        email="fer@atlas.test",
        company="Grupo Atlas",
        source="paid_search",
        campaign="google-ads-sla",
    )

    g = capture(
        "G",
        at(9, 15, 10),
        name="Gloria Gil",
        email="gloria@nova.test",
        company="Academia Nova",
        source="email",
        campaign="newsletter",
    )
    with acting_as(MKT):
        app.change_stage(g, to_stage="MQL", occurred_at=at(9, 20, 10))
    with acting_as(DANIEL):
        app.assign_owner(g, owner=DANIEL, team="sales", occurred_at=at(9, 20, 11))
        app.log_contact_attempt(g, channel="phone", outcome="connected", occurred_at=at(9, 20, 16))
    return ids


@pytest.fixture
def history(services: Services) -> dict[str, str]:
    ids = _history(services)
    assert services.projector.catch_up() > 0
    assert all(s.lag == 0 for s in services.projector.status())
    return ids


def _key(lead_id: str) -> str:
    return lead_id.replace("-", "")


# --- funnel -----------------------------------------------------------------


def test_funnel_october_cohort(services: Services, history: dict[str, str]) -> None:
    with services.read_engine.connect() as conn:
        result = funnel_query.funnel(conn, "2026-10")
    # Cohort: A, B, C (Madrid time), D, E; not F (November) nor G (September).
    assert [(s["stage"], s["count"]) for s in result["stages"]] == [
        ("Lead", 5),
        ("MQL", 5),  # B skipped MQL: counted as reached
        ("SQL", 3),
        ("Opportunity", 2),
        ("Customer", 2),
    ]
    conversions = [s["conversion"] for s in result["stages"]]
    assert conversions[0] is None
    assert conversions[1:] == pytest.approx([1.0, 0.6, 2 / 3, 1.0])
    assert result["lead_to_customer"] == pytest.approx(0.4)
    assert result["disqualified"] == 2  # C lost, D disqualified
    assert result["recycled"] == 1  # D
    assert result["rejected"] == 1  # C
    assert result["skips"] == 1  # B
    # Lead: A 1d, B 2h, C 11h, C 8d, D 1d, E 2h -> (11/24 + 1) / 2
    # MQL: A 2d, C 1d, C 2d, D 1d (none for B: it skipped MQL)
    # SQL: A 2d, B 2d, C 3d;  Opportunity: A 5d, B 13d
    assert result["median_days_in_stage"] == pytest.approx(
        {"Lead": 35 / 48, "MQL": 1.5, "SQL": 2.0, "Opportunity": 9.0}
    )


def test_funnel_month_boundaries_and_filters(services: Services, history: dict[str, str]) -> None:
    with services.read_engine.connect() as conn:
        september = funnel_query.funnel(conn, "2026-09")
        november = funnel_query.funnel(conn, "2026-11")
        paid = funnel_query.funnel(conn, "2026-10", source="paid_search")
        everything = funnel_query.funnel(conn)
        months = funnel_query.cohort_months(conn)
        by_source = funnel_query.funnel_breakdown(conn, "source", "2026-10")
        owners = funnel_query.dimension_values(conn, "owner")
    assert months == ["2026-09", "2026-10", "2026-11"]
    assert [s["count"] for s in september["stages"]] == [1, 1, 0, 0, 0]  # G only: not C
    assert [s["conversion"] for s in september["stages"]] == [None, 1.0, 0.0, None, None]
    assert september["lead_to_customer"] == 0.0
    assert september["median_days_in_stage"] == pytest.approx(
        {"Lead": 5.0, "MQL": None, "SQL": None, "Opportunity": None}
    )
    assert [s["count"] for s in november["stages"]] == [1, 0, 0, 0, 0]  # F
    assert [s["count"] for s in paid["stages"]] == [1, 1, 1, 1, 1]  # A (F is November)
    assert paid["filters"] == {"source": "paid_search"}
    assert [s["count"] for s in everything["stages"]] == [7, 6, 3, 2, 2]
    assert everything["recycled"] == 1
    assert everything["rejected"] == 1
    assert {row["value"]: row["counts"]["Lead"] for row in by_source} == {
        "paid_search": 1,
        "outbound": 1,
        "organic_search": 1,
        "email": 1,
        "referral": 1,
    }
    assert owners == [DANIEL, JAVIER, LUCIA, MARTA]


# --- scorecard --------------------------------------------------------------


def test_scorecard_october(services: Services, history: dict[str, str]) -> None:
    with services.read_engine.connect() as conn:
        actuals = scorecard_query.scorecard_actuals(conn, "2026-10")
    assert actuals["leads"] == 5  # A, B, C, D, E
    assert actuals["mqls"] == 4  # A, C (twice, once per lead), D, E; B skipped MQL
    assert actuals["sqls"] == 3
    assert actuals["opportunities"] == 2
    assert actuals["won"] == 2
    assert actuals["lost"] == 1
    assert actuals["rejected"] == 1
    assert actuals["revenue"] == Decimal("15000.50")
    assert actuals["marketing_revenue"] == Decimal("10000.00")  # B is outbound: sales-sourced
    assert actuals["avg_deal_per_opportunity"] == Decimal("5000.17")  # 15000.50 / 3 closed
    assert actuals["lead_to_customer"] == pytest.approx(0.4)
    assert actuals["sales_conversion"] == pytest.approx(0.5)
    # First follow-up after the first MQL entry: A 4h, C 2h; D and E never contacted.
    assert actuals["follow_up_delays_hours"] == pytest.approx([2.0, 4.0])
    assert actuals["follow_up_median_hours"] == pytest.approx(3.0)
    assert actuals["follow_up_p95_hours"] == pytest.approx(4.0)
    assert actuals["follow_up_within_target"] == pytest.approx(0.5)
    assert actuals["mqls_never_contacted"] == 2
    # Attempts within 7 days of the MQL: A 2, C 1 (its second is 9 days later), D 0, E 0.
    assert actuals["attempts_per_mql"] == pytest.approx(0.75)


def test_scorecard_month_boundaries_and_filters(services: Services, history: dict[str, str]) -> None:
    with services.read_engine.connect() as conn:
        september = scorecard_query.scorecard_actuals(conn, "2026-09")
        november = scorecard_query.scorecard_actuals(conn, "2026-11")
        marketing = scorecard_query.scorecard_actuals(conn, "2026-10", sourced_by="marketing")
        lucia = scorecard_query.scorecard_actuals(conn, "2026-10", owner=LUCIA)
        tight = scorecard_query.scorecard_actuals(
            conn, "2026-10", follow_up_hours=3, attempts_window_days=0.5
        )
    assert (september["leads"], september["mqls"], september["won"]) == (1, 1, 0)  # G only, not C
    assert september["follow_up_median_hours"] == pytest.approx(6.0)
    assert september["attempts_per_mql"] == pytest.approx(1.0)
    assert september["revenue"] == Decimal("0.00")
    assert september["avg_deal_per_opportunity"] is None
    assert (november["leads"], november["mqls"]) == (1, 0)  # F
    assert november["follow_up_median_hours"] is None
    assert november["attempts_per_mql"] is None

    assert (marketing["leads"], marketing["mqls"], marketing["won"]) == (4, 4, 1)
    assert marketing["revenue"] == Decimal("10000.00")
    assert marketing["marketing_revenue"] == Decimal("10000.00")

    # Facts carry the owner at the moment: A's capture and MQL had no owner yet.
    assert (lucia["leads"], lucia["mqls"], lucia["sqls"], lucia["won"]) == (0, 0, 1, 1)
    assert lucia["revenue"] == Decimal("10000.00")

    assert tight["follow_up_within_target"] == pytest.approx(0.25)  # only C's 2h
    assert tight["attempts_per_mql"] == pytest.approx(0.5)  # A: 1 (its second is 24 h later), C: 1


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
        row = leads_query.get_summary(conn, _key(history["A"]))
        c_row = leads_query.get_summary(conn, _key(history["C"]))
        f_row = leads_query.get_summary(conn, _key(history["F"]))
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
        entries = leads_query.timeline(conn, _key(history["A"]))
        oldest_first = leads_query.timeline(conn, _key(history["A"]), newest_first=False)
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
        b = leads_query.timeline(conn, _key(history["B"]))
    skip = next(e for e in b if e["version"] == 3)
    assert skip["data"]["skipped"] == ["MQL"]
    assert skip["data"]["reason"] == "Clear need on the first call"
    assert skip["actor"] == JAVIER


def test_catch_up_is_idempotent(services: Services, history: dict[str, str]) -> None:
    assert services.projector.catch_up() == 0
    with services.read_engine.connect() as conn:
        assert leads_query.count_leads(conn) == 7
        assert funnel_query.funnel(conn, "2026-10")["stages"][0]["count"] == 5
        assert scorecard_query.scorecard_actuals(conn, "2026-10")["leads"] == 5
