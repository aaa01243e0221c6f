"""The store's interface (smarketing.store.application): with its machinery switched off
(``STORE_SHORTCUTS=n``, the library's own code paths) and on, the same commands store
the same events and leave the same leads; a decision refused or lost on old state is
made again on the log's; only the shortcuts skip the reads they promise to skip."""

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Repository

from domain.errors import DomainError, LostRace, StaleLead
from domain.lead import Lead
from smarketing.bootstrap import Services, bootstrap, init_schema
from smarketing.service.application import SmarketingApplication
from smarketing.settings import Settings
from smarketing.store.key_batch import BatchingPersonalDataMapper
from smarketing.store.last_seen import LastSeenRepository
from smarketing.store.personal_data import PersonalDataMapper
from tests.conftest import drop_postgres_database, postgres_database

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
ANA = UUID("00000000-0000-4000-8000-00000000000a")
BO = UUID("00000000-0000-4000-8000-00000000000b")
CY = UUID("00000000-0000-4000-8000-00000000000c")
SWITCH = {True: "y", False: "n"}


@contextlib.contextmanager
def _store(settings: Settings, tmp_path: Path, shortcuts: bool, *, fresh: bool = False) -> Iterator[Services]:
    """A store on ``settings`` (or, ``fresh``, on a database of its own) with the switch set."""
    url = ""
    if fresh:
        if settings.is_postgres:
            url = postgres_database()
            settings = Settings(database_url=url, report_replica=str(tmp_path / "other-replica.sqlite3"))
        else:
            settings = Settings(database_url=f"sqlite:///{tmp_path / 'other.sqlite3'}")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STORE_SHORTCUTS", SWITCH[shortcuts])
        try:
            init_schema(settings)
            services = bootstrap(settings)
            try:
                yield services
            finally:
                services.close()
        finally:
            if url:
                drop_postgres_database(url)


@pytest.fixture(params=[True, False], ids=["shortcuts", "library"])
def shortcuts(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def two(settings: Settings, tmp_path: Path, shortcuts: bool) -> Iterator[tuple[Services, Services]]:
    """Two processes on one store, both with the switch set as ``shortcuts``."""
    with _store(settings, tmp_path, shortcuts) as one, _store(settings, tmp_path, shortcuts) as other:
        yield one, other


def _at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def _commands(app: SmarketingApplication) -> None:
    """Every lead command, refusals among them, and a stream long enough for a snapshot."""
    app.capture_lead(
        lead_id=ANA, name="Ana Alonso", email="ana@example.com", source="webinar", occurred_at=_at(0)
    )
    a = str(ANA)
    app.record_interaction(a, kind="call", details="first words", occurred_at=_at(1))
    app.log_contact_attempt(a, channel="phone", outcome="connected", occurred_at=_at(2))
    app.assign_owner(a, owner="ana", team="sales", occurred_at=_at(3))
    with pytest.raises(DomainError):
        app.assign_owner(a, owner="ana", team="sales", occurred_at=_at(3))  # already hers
    app.change_stage(a, to_stage="MQL", occurred_at=_at(4))
    app.reject_mql(a, reason="No budget", occurred_at=_at(5))
    with pytest.raises(StaleLead):
        app.change_stage(a, expected_version=4, to_stage="MQL", occurred_at=_at(6))
    app.change_stage(a, expected_version=6, to_stage="MQL", occurred_at=_at(6))
    app.change_stage(a, to_stage="SQL", occurred_at=_at(7))
    app.change_stage(a, to_stage="Opportunity", occurred_at=_at(8))
    app.mark_won(a, amount="1000", currency="EUR", occurred_at=_at(9))
    app.correct_amount(a, amount="1200", currency="EUR", reason="typo", occurred_at=_at(10))

    app.capture_lead(lead_id=BO, name="Bo Berg", email="bo@example.com", source="ads", occurred_at=_at(0))
    app.change_stage(str(BO), to_stage="SQL", reason="asked for a demo", occurred_at=_at(1))
    app.mark_lost(str(BO), reason="went elsewhere", occurred_at=_at(2))
    app.erase_personal_data(str(BO), reason="asked to")

    app.capture_lead(lead_id=CY, name="Cy Cole", email="cy@example.com", source="webinar", occurred_at=_at(0))
    for n in range(55):
        app.record_interaction(str(CY), kind="note", details=f"note {n}", occurred_at=_at(1 + n))


def _events(app: SmarketingApplication, lead_id: UUID) -> list[tuple[str, dict[str, Any]]]:
    """The lead's events as stored, decoded, without the wall clock's times (the library's
    timestamp, and an erasure's time, which a command does not take)."""
    clock = {"timestamp"}
    return [
        (type(e).__qualname__, {k: v for k, v in vars(e).items() if k not in clock | _erased_at(e)})
        for e in app.lead_events(lead_id)
    ]


def _erased_at(event: object) -> set[str]:
    return {"occurred_at"} if isinstance(event, Lead.PersonalDataErased) else set()


def _snapshots(app: SmarketingApplication, lead_id: UUID) -> list[tuple[int, dict[str, Any]]]:
    assert app.snapshots is not None
    return [
        (s.originator_version, {k: v for k, v in s.state.items() if k not in ("_created_on", "_modified_on")})
        for s in app.snapshots.get(lead_id)
    ]


def test_the_switch_chooses_the_library_classes(settings: Settings, tmp_path: Path, shortcuts: bool) -> None:
    with _store(settings, tmp_path, shortcuts) as services:
        app = services.app
        assert app.shortcuts is shortcuts
        if shortcuts:
            assert isinstance(app.repository, LastSeenRepository)
            assert isinstance(app.mapper, BatchingPersonalDataMapper)
        else:
            assert type(app.repository) is Repository
            assert type(app.mapper) is PersonalDataMapper  # sealing is the log's format, not a shortcut


def test_the_same_commands_store_the_same_events_with_and_without_the_shortcuts(
    settings: Settings, tmp_path: Path
) -> None:
    with _store(settings, tmp_path, True) as fast, _store(settings, tmp_path, False, fresh=True) as plain:
        for services in (fast, plain):
            _commands(services.app)
        for lead_id in (ANA, BO, CY):
            assert _events(fast.app, lead_id) == _events(plain.app, lead_id)
            assert fast.app.get_lead(lead_id) == plain.app.get_lead(lead_id)
        assert [v for v, _ in _snapshots(fast.app, CY)] == [50]
        assert _snapshots(fast.app, CY) == _snapshots(plain.app, CY)
        assert fast.app.get_lead(BO)["is_erased"] and fast.app.lead_id_for_email("bo@example.com") is None


def test_a_decision_refused_on_an_old_lead_is_made_again_on_the_logs(two: tuple[Services, Services]) -> None:
    one, other = (s.app for s in two)
    lead_id = one.capture_lead(name="Ana Alonso", email="ana@example.com", source="webinar")
    assert other.get_lead(lead_id)["stage"] == "Lead"  # seen (cached) by the other process at Lead
    one.change_stage(lead_id, to_stage="MQL")
    # Refused on the Lead the other process saw (only an MQL is rejected); the log's is an MQL.
    assert other.reject_mql(lead_id, reason="No budget") == 3
    assert one.get_lead(lead_id) == other.get_lead(lead_id)
    assert one.get_lead(lead_id)["stage"] == "Lead" and one.get_lead(lead_id)["version"] == 3


def test_a_decision_that_loses_the_race_on_an_old_lead_is_made_again(two: tuple[Services, Services]) -> None:
    one, other = (s.app for s in two)
    lead_id = one.capture_lead(name="Ana Alonso", email="ana@example.com", source="webinar")
    assert other.get_lead(lead_id)["version"] == 1
    one.change_stage(lead_id, to_stage="MQL")  # version 2, which the other process has not seen
    assert other.change_stage(lead_id, to_stage="SQL") == 3
    moved = other.lead_events(lead_id)[-1]
    assert isinstance(moved, Lead.StageChanged) and (moved.from_stage, moved.to_stage) == ("MQL", "SQL")


def test_a_race_lost_after_reading_the_log_is_the_users_answer(two: tuple[Services, Services]) -> None:
    one, other = (s.app for s in two)
    lead_id = one.capture_lead(name="Ana Alonso", email="ana@example.com", source="webinar")
    original = other._load

    def load_then_lose_the_race(lead_id: Any, version: int | None = None) -> Lead:
        lead = original(lead_id, version)
        other._load = original  # type: ignore[method-assign]
        one.change_stage(str(lead_id), to_stage="MQL")
        return lead

    other._last_seen = lambda uuid: None  # type: ignore[method-assign]
    other._load = load_then_lose_the_race  # type: ignore[method-assign]
    with pytest.raises(LostRace):
        other.assign_owner(lead_id, owner="ana", team="sales")
    assert other.get_lead(lead_id)["owner"] in ("", None) and other.get_lead(lead_id)["version"] == 2


def test_only_the_shortcuts_decide_without_reading_the_log(
    settings: Settings, tmp_path: Path, shortcuts: bool
) -> None:
    with _store(settings, tmp_path, shortcuts) as services:
        app = services.app
        lead_id = app.capture_lead(name="Ana Alonso", email="ana@example.com", source="webinar")
        app.get_lead(lead_id)  # seen by this process
        reads: list[str] = []
        original = app._load

        def counting(lead_id: Any, version: int | None = None) -> Lead:
            reads.append(str(lead_id))
            return original(lead_id, version)

        app._load = counting  # type: ignore[method-assign]
        terms_reads: list[int] = []
        read_terms = app.agreement_terms
        app.agreement_terms = lambda: terms_reads.append(1) or read_terms()  # type: ignore[method-assign]
        for _ in range(3):
            app.record_interaction(lead_id, kind="note")
        if shortcuts and app.repository.cache is not None:
            assert reads == [] and terms_reads == [1]
        elif not shortcuts:
            assert reads == [lead_id] * 3 and terms_reads == [1, 1, 1]
        assert app.get_lead(lead_id)["version"] == 4


def test_peek_reads_without_handing_out_the_cached_object(
    settings: Settings, tmp_path: Path, shortcuts: bool
) -> None:
    with _store(settings, tmp_path, shortcuts) as services:
        app = services.app
        assert app.peek(UUID(int=7)) is None
        lead_id = UUID(app.capture_lead(name="Ana Alonso", email="ana@example.com", source="webinar"))
        peeked = app.peek(lead_id)
        assert isinstance(peeked, Lead) and peeked.version == 1
        if not shortcuts and app.repository.cache is not None:
            assert peeked is not app.repository.cache.get(lead_id)  # the library's copy
