"""The service layer against a real event store, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from domain.errors import DuplicateEmail, IllegalTransition, InvalidInput, LeadNotFound, StaleLead
from domain.lead import Lead
from smarketing.bootstrap import Services

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


def _log_size(services: Services) -> int:
    return services.app.recorder.max_notification_id() or 0


def _capture(services: Services, email: str = "ana@example.com", **extra: object) -> str:
    fields = {"name": "Ana Alonso", "email": email, "source": "paid_search", "occurred_at": T0} | extra
    return services.app.capture_lead(**fields)


def _replay(services: Services, lead_id: str, version: int | None = None) -> Lead:
    """The lead rebuilt from every one of its events (up to ``version``), no snapshot involved."""
    aggregate = None
    for event in services.app.lead_events(lead_id)[:version]:
        aggregate = event.mutate(aggregate)
    assert isinstance(aggregate, Lead)
    return aggregate


def test_full_lifecycle_through_the_service(services: Services) -> None:
    app = services.app
    lead_id = _capture(services, company="Acme", campaign="google-ads-crm", phone="+34 600 000 000")
    lead = app.get_lead(lead_id)
    assert lead["version"] == 1
    assert lead["stage"] == "Lead"
    assert lead["email"] == "ana@example.com"
    assert lead["sourced_by"] == "marketing"
    assert lead["captured_at"] == T0

    assert (
        app.record_interaction(
            lead_id, kind="email_opened", channel="email", occurred_at=T0 + timedelta(hours=1)
        )
        == 2
    )
    assert (
        app.change_stage(lead_id, expected_version=2, to_stage="MQL", occurred_at=T0 + timedelta(days=1)) == 3
    )
    assert (
        app.assign_owner(
            lead_id, owner="lucia.romero", team="sales", occurred_at=T0 + timedelta(days=1, hours=1)
        )
        == 4
    )
    assert (
        app.log_contact_attempt(
            lead_id, channel="phone", outcome="no_answer", occurred_at=T0 + timedelta(days=1, hours=2)
        )
        == 5
    )
    lead = app.get_lead(lead_id)
    assert (lead["stage"], lead["owner"], lead["team"], lead["attempts"], lead["interactions"]) == (
        "MQL",
        "lucia.romero",
        "sales",
        1,
        1,
    )

    # Sales hands it back, marketing re-qualifies it, then it goes all the way.
    assert app.reject_mql(lead_id, reason="Not the decision maker", occurred_at=T0 + timedelta(days=2)) == 6
    assert app.get_lead(lead_id)["stage"] == "Lead"
    app.change_stage(lead_id, to_stage="MQL", occurred_at=T0 + timedelta(days=3))
    app.change_stage(lead_id, to_stage="SQL", occurred_at=T0 + timedelta(days=4))
    app.change_stage(lead_id, to_stage="Opportunity", occurred_at=T0 + timedelta(days=5))
    version = app.mark_won(lead_id, amount="12500.50", currency="eur", occurred_at=T0 + timedelta(days=9))
    assert version == 10
    lead = app.get_lead(lead_id)
    assert lead["stage"] == "Customer"
    assert lead["won_amount"] == Decimal("12500.50")
    assert lead["currency"] == "EUR"
    assert lead["stage_entered_at"] == T0 + timedelta(days=9)
    assert lead["allowed_moves"] == []
    assert [type(e).__name__ for e in app.lead_events(lead_id)] == [
        "Captured",
        "InteractionRecorded",
        "StageChanged",
        "OwnerAssigned",
        "ContactAttempted",
        "MQLRejected",
        "StageChanged",
        "StageChanged",
        "StageChanged",
        "DealWon",
    ]

    # A second lead is lost, then recycled back into the funnel.
    other = _capture(services, email="bruno@example.com", source="outbound")
    assert app.get_lead(other)["sourced_by"] == "sales"
    app.change_stage(other, to_stage="SQL", reason="Direct contact", occurred_at=T0 + timedelta(hours=2))
    app.mark_lost(other, reason="Price", occurred_at=T0 + timedelta(days=3))
    assert app.get_lead(other)["stage"] == "Disqualified"
    app.change_stage(other, to_stage="Recycled", occurred_at=T0 + timedelta(days=4))
    app.change_stage(other, to_stage="Lead", occurred_at=T0 + timedelta(days=5))
    assert app.get_lead(other)["stage"] == "Lead"
    assert app.lead_id_for_email("BRUNO@example.com") == other


def test_duplicate_email_is_refused_case_insensitively(services: Services) -> None:
    app = services.app
    first = _capture(services, email="Ana.Alonso@Example.com")
    assert app.get_lead(first)["email"] == "ana.alonso@example.com"
    before = _log_size(services)
    second_id = uuid4()
    for email in ("ana.alonso@example.com", "  ANA.ALONSO@EXAMPLE.COM  "):
        with pytest.raises(DuplicateEmail, match="already exists"):
            _capture(services, email=email, lead_id=second_id, name="Someone Else")
    assert _log_size(services) == before
    assert not app.lead_exists(second_id)
    with pytest.raises(LeadNotFound):
        app.lead_events(second_id)
    assert app.lead_id_for_email("ana.alonso@example.com") == first


def test_duplicate_email_race_is_refused_by_the_index(services: Services) -> None:
    """Two writers passed the look-up; the index aggregate still lets only one in."""
    app = services.app
    _capture(services, email="race@example.com")
    before = _log_size(services)
    second_id = uuid4()
    app._refuse_duplicate = lambda email: None  # type: ignore[method-assign]  # the look-up raced
    with pytest.raises(DuplicateEmail):
        _capture(services, email="race@example.com", lead_id=second_id)
    assert _log_size(services) == before
    assert not app.lead_exists(second_id)


@pytest.mark.parametrize("lead_id", ["nonsense", "", "1234", "' OR 1=1 --", "x" * 500])
def test_malformed_lead_id_is_not_found(services: Services, lead_id: str) -> None:
    with pytest.raises(LeadNotFound):
        services.app.get_lead(lead_id)
    with pytest.raises(LeadNotFound):
        services.app.record_interaction(lead_id, kind="note")
    with pytest.raises(LeadNotFound):
        services.app.lead_events(lead_id)


def test_unknown_lead_id_is_not_found(services: Services) -> None:
    app = services.app
    with pytest.raises(LeadNotFound):
        app.get_lead(str(uuid4()))
    with pytest.raises(LeadNotFound):
        app.change_stage(str(uuid4()), to_stage="MQL")
    # The id of another kind of aggregate (the e-mail index) is not a lead either.
    _capture(services, email="index@example.com")
    before = _log_size(services)
    index_id = str(app.email_index_id("index@example.com"))
    with pytest.raises(LeadNotFound):
        app.get_lead(index_id)
    with pytest.raises(LeadNotFound):
        app.record_interaction(index_id, kind="note")
    assert _log_size(services) == before


def test_expected_version_mismatch_is_stale_and_stores_nothing(services: Services) -> None:
    app = services.app
    lead_id = _capture(services)
    app.record_interaction(lead_id, kind="web_visit", channel="web")
    before = _log_size(services)
    with pytest.raises(StaleLead, match=r"version 2, your form had 1"):
        app.change_stage(lead_id, expected_version=1, to_stage="MQL")
    with pytest.raises(StaleLead):
        app.record_interaction(lead_id, expected_version=3, kind="note")
    assert _log_size(services) == before
    assert app.get_lead(lead_id)["stage"] == "Lead"
    assert app.change_stage(lead_id, expected_version=2, to_stage="MQL") == 3


@pytest.mark.parametrize(
    ("command", "fields"),
    [
        ("change_stage", {"to_stage": "Customer"}),
        ("change_stage", {"to_stage": "Opportunity"}),  # a skip without a reason
        ("change_stage", {"to_stage": "Disqualified"}),  # no reason
        ("change_stage", {"to_stage": "Recycled"}),
        ("change_stage", {"to_stage": "Nonsense"}),
        ("mark_lost", {"reason": "Price"}),
        ("reject_mql", {"reason": "No budget"}),
        ("mark_won", {"amount": "100"}),  # before Opportunity without a reason
    ],
)
def test_illegal_transition_stores_nothing(services: Services, command: str, fields: dict) -> None:
    lead_id = _capture(services)
    before = _log_size(services)
    with pytest.raises(IllegalTransition):
        getattr(services.app, command)(lead_id, **fields)
    assert _log_size(services) == before
    assert services.app.get_lead(lead_id)["version"] == 1


def test_illegal_transition_from_a_closed_stage(services: Services) -> None:
    app = services.app
    lead_id = _capture(services)
    app.change_stage(lead_id, to_stage="SQL", reason="Inbound call")
    app.mark_won(lead_id, amount=10, reason="Signed on the first call")
    before = _log_size(services)
    for command, fields in [
        ("change_stage", {"to_stage": "Disqualified", "reason": "x"}),
        ("mark_lost", {"reason": "x"}),
        ("mark_won", {"amount": 5, "reason": "again"}),
    ]:
        with pytest.raises(IllegalTransition):
            getattr(app, command)(lead_id, **fields)
    assert _log_size(services) == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "x" * 201}, "name"),
        ({"name": "Ana \ud800"}, "name"),
        ({"name": "Ana\x00"}, "name"),
        ({"company": "\udfff" * 3}, "company"),
        ({"email": "a" * 250 + "@example.com"}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "ana\ud800@example.com"}, "email"),
        ({"source": ""}, "source"),
        ({"campaign": "c" * 101}, "campaign"),
        ({"occurred_at": datetime(2026, 10, 1, 8, 0)}, "occurred_at"),  # naive
        ({"occurred_at": datetime.now(UTC) + timedelta(days=1)}, "occurred_at"),
    ],
)
def test_invalid_capture_input_never_reaches_the_store(services: Services, fields: dict, field: str) -> None:
    before = _log_size(services)
    with pytest.raises(InvalidInput) as raised:
        _capture(services, **fields)
    assert raised.value.field == field
    assert _log_size(services) == before


@pytest.mark.parametrize(
    ("command", "fields", "field"),
    [
        ("record_interaction", {"kind": "note", "details": "d" * 2001}, "details"),
        ("record_interaction", {"kind": "note", "details": "bad \ud83d text"}, "details"),
        ("record_interaction", {"kind": "carrier_pigeon"}, "kind"),
        ("log_contact_attempt", {"channel": "phone", "outcome": "no_answer", "note": "\x00"}, "note"),
        ("assign_owner", {"owner": "o" * 101, "team": "sales"}, "owner"),
        ("assign_owner", {"owner": "lucia", "team": "finance"}, "team"),
        ("change_stage", {"to_stage": "MQL", "reason": "r" * 2001}, "reason"),
        ("mark_won", {"amount": "12.345", "reason": "x"}, "amount"),
        ("mark_won", {"amount": "NaN", "reason": "x"}, "amount"),
        ("mark_won", {"amount": "1e12", "reason": "x"}, "amount"),
        ("mark_won", {"amount": "10", "currency": "euro", "reason": "x"}, "currency"),
    ],
)
def test_invalid_command_input_never_reaches_the_store(
    services: Services, command: str, fields: dict, field: str
) -> None:
    lead_id = _capture(services)
    before = _log_size(services)
    with pytest.raises(InvalidInput) as raised:
        getattr(services.app, command)(lead_id, **fields)
    assert raised.value.field == field
    assert _log_size(services) == before


def test_unicode_text_round_trips(services: Services) -> None:
    lead_id = _capture(services, name="Álvaro Muñoz 🚀", company="Óptica Plaza — Núcleo")
    services.app.record_interaction(lead_id, kind="note", details="Llamó: «sí» 😀")
    lead = services.app.get_lead(lead_id)
    assert lead["name"] == "Álvaro Muñoz 🚀"
    assert lead["company"] == "Óptica Plaza — Núcleo"
    assert services.app.lead_events(lead_id)[-1].personal == {"details": "Llamó: «sí» 😀"}


def test_long_streams_are_snapshotted_and_load_like_a_full_replay(services: Services) -> None:
    app = services.app
    lead_id = _capture(services)
    app.change_stage(lead_id, to_stage="MQL", occurred_at=T0 + timedelta(hours=1))
    rebuilt_for_a_snapshot: list[object] = []  # the library's way: read the stream back
    app.take_snapshot = lambda *args, **kw: rebuilt_for_a_snapshot.append(args)  # type: ignore[method-assign]
    for i in range(60):
        app.record_interaction(
            lead_id, kind="web_visit", channel="web", occurred_at=T0 + timedelta(hours=2, minutes=i)
        )
    assert app.snapshots is not None
    snapshots = list(app.snapshots.get(UUID(lead_id)))
    assert [s.originator_version for s in snapshots] == [50] and rebuilt_for_a_snapshot == []
    # Taken of the lead in hand: the same state as the lead rebuilt from its 50 events.
    rebuilt = Lead.Snapshot.take(_replay(services, lead_id, version=50))
    assert snapshots[0].state == rebuilt.state and snapshots[0].topic == rebuilt.topic

    loaded = app.get_lead(lead_id)
    assert loaded["version"] == 62
    assert loaded["interactions"] == 60
    assert loaded == _replay(services, lead_id).as_dict()

    # Changes after the snapshot still apply on top of it.
    app.assign_owner(lead_id, owner="lucia.romero", team="sales")
    assert app.get_lead(lead_id) == _replay(services, lead_id).as_dict()
    assert app.get_lead(lead_id)["owner"] == "lucia.romero"


def test_time_travel_to_an_earlier_version(services: Services) -> None:
    app = services.app
    lead_id = _capture(services)
    app.record_interaction(lead_id, kind="email_opened", channel="email", occurred_at=T0 + timedelta(hours=1))
    app.change_stage(lead_id, to_stage="MQL", occurred_at=T0 + timedelta(days=1))
    app.assign_owner(lead_id, owner="lucia.romero", team="sales", occurred_at=T0 + timedelta(days=2))
    app.change_stage(lead_id, to_stage="SQL", occurred_at=T0 + timedelta(days=3))

    past = app.get_lead(lead_id, version=3)
    assert past["version"] == 3
    assert past["stage"] == "MQL"
    assert past["owner"] == ""
    assert past["interactions"] == 1
    assert past["stage_entered_at"] == T0 + timedelta(days=1)
    assert app.get_lead(lead_id, version=1)["stage"] == "Lead"
    assert app.get_lead(lead_id)["stage"] == "SQL"
    assert app.get_lead(lead_id)["version"] == 5
