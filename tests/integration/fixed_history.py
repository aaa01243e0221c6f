"""A small fixed history whose figures were worked out by hand, shared by the
read-model tests.

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

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from domain.actor import current_actor
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


def build_history(services: Services) -> dict[str, str]:
    """Record the history, catch the read models up, and return the lead ids."""
    ids = _history(services)
    assert services.projector.catch_up() > 0
    assert all(s.lag == 0 for s in services.projector.status())
    return ids


def key(lead_id: str) -> str:
    return lead_id.replace("-", "")
