"""A command decides on the lead as its process last saw it, without reading the log.

What must still hold: nothing is saved from a decision made on old state (another
process's write between two commands here is never lost or overwritten, and the
decision made again sees it), a race after the log is read is still a clear
``StaleLead``, and a decision thrown away leaves nothing behind (no key, no event,
no snapshot, the cached lead untouched)."""

import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from domain.errors import IllegalTransition, InvalidInput, StaleLead
from smarketing.bootstrap import Services
from smarketing.service.application import SmarketingApplication
from smarketing.store.key_store import lead_keys


@pytest.fixture(autouse=True)
def _needs_the_cache(services: Services) -> None:
    if services.app.repository.cache is None:
        pytest.skip("aggregate cache turned off: every command reads the log first")


def _mql(services: Services, second: Services) -> str:
    """A lead at MQL (version 2) that both processes have seen."""
    lead_id = services.app.capture_lead(name="Ana Alonso", email="ana@example.com", source="webinar")
    services.app.change_stage(lead_id, to_stage="MQL")
    assert services.app.get_lead(lead_id)["version"] == second.app.get_lead(lead_id)["version"] == 2
    return lead_id


def _log_reads(app: SmarketingApplication) -> list[str]:
    """Count the command's reads of the lead from the log."""
    reads: list[str] = []
    original = app._load

    def counting(lead_id: Any, version: int | None = None) -> Any:
        reads.append(str(lead_id))
        return original(lead_id, version)

    app._load = counting  # type: ignore[method-assign]
    return reads


def _kinds(app: SmarketingApplication, lead_id: str) -> list[str]:
    return [type(e).__name__ for e in app.lead_events(lead_id)]


def test_a_command_on_a_lead_seen_here_reads_nothing_from_the_log(
    services: Services, second: Services
) -> None:
    lead_id = _mql(services, second)
    reads = _log_reads(second.app)
    assert second.app.log_contact_attempt(lead_id, channel="phone", outcome="connected") == 3
    assert reads == []


def test_another_process_write_since_is_kept_and_seen(services: Services, second: Services) -> None:
    lead_id = _mql(services, second)
    services.app.change_stage(lead_id, to_stage="SQL")  # app2 still has the lead at MQL
    reads = _log_reads(second.app)
    assert second.app.log_contact_attempt(lead_id, channel="phone", outcome="connected") == 4
    assert len(reads) == 1  # the cached decision was refused by the log and made again
    assert _kinds(services.app, lead_id) == ["Captured", "StageChanged", "StageChanged", "ContactAttempted"]
    lead = services.app.get_lead(lead_id)
    assert (lead["stage"], lead["attempts"]) == ("SQL", 1)
    assert second.app.get_lead(lead_id) == lead


def test_a_stage_change_is_refused_after_another_process_moved_the_lead(
    services: Services, second: Services
) -> None:
    lead_id = _mql(services, second)
    services.app.change_stage(lead_id, to_stage="SQL")
    with pytest.raises(IllegalTransition):
        second.app.change_stage(lead_id, to_stage="SQL")  # allowed from MQL, as app2 last saw it
    assert _kinds(services.app, lead_id) == ["Captured", "StageChanged", "StageChanged"]
    # And a refusal made on the old state is not the answer: from SQL this move is allowed.
    assert second.app.change_stage(lead_id, to_stage="Opportunity") == 4


def test_a_note_is_refused_after_another_process_erased_the_lead(
    services: Services, second: Services
) -> None:
    lead_id = _mql(services, second)
    second.app.record_interaction(lead_id, kind="call", details="first words")  # key cached in app2
    services.app.erase_personal_data(lead_id, reason="asked to")
    with pytest.raises(InvalidInput):
        second.app.record_interaction(lead_id, kind="call", details="late words")
    assert _kinds(services.app, lead_id)[-1] == "PersonalDataErased"
    # The thrown-away decision sealed with the key app2 still held and created none.
    with services.key_engine.connect() as conn:
        assert conn.execute(select(lead_keys).where(lead_keys.c.lead_id == UUID(lead_id).hex)).first() is None
    assert second.app.record_interaction(lead_id, kind="call") == 5  # without a note: fine


def test_a_command_without_the_key_at_hand_reads_the_log_first(services: Services, second: Services) -> None:
    """Sealing would have to fetch, or for an erased lead create, the key: decide on the log's state."""
    lead_id = _mql(services, second)
    second.app.get_lead(lead_id)
    second.app.mapper._key_store_base()._forget(UUID(lead_id).hex)  # type: ignore[attr-defined]
    services.app.erase_personal_data(lead_id, reason="asked to")
    reads = _log_reads(second.app)
    with pytest.raises(InvalidInput):
        second.app.record_interaction(lead_id, kind="call", details="late words")
    assert len(reads) == 1
    with services.key_engine.connect() as conn:
        assert conn.execute(select(lead_keys).where(lead_keys.c.lead_id == UUID(lead_id).hex)).first() is None


def _after_each_read(app: SmarketingApplication, name: str, move: Callable[[], Any]) -> None:
    """Run ``move`` (another process's write) right after ``app`` reads the lead by ``name``, once."""
    original = getattr(app, name)

    def read_then_lose_the_race(*args: Any) -> Any:
        lead = original(*args)
        setattr(app, name, original)
        move()
        return lead

    setattr(app, name, read_then_lose_the_race)


def test_a_race_after_the_log_read_is_still_stale(services: Services, second: Services) -> None:
    """Another process writes after the cached copy is taken and again after the log is read."""
    lead_id = _mql(services, second)
    app1, app2 = services.app, second.app
    before = app1.recorder.max_notification_id()
    owner = "lucia.romero"
    _after_each_read(app2, "_last_seen", lambda: app1.assign_owner(lead_id, owner=owner, team="sales"))
    _after_each_read(app2, "_load", lambda: app1.change_stage(lead_id, to_stage="SQL"))
    with pytest.raises(StaleLead, match="nothing of yours was saved"):
        app2.assign_owner(lead_id, owner="javier.ortega", team="sales")
    assert _kinds(app1, lead_id) == ["Captured", "StageChanged", "OwnerAssigned", "StageChanged"]
    notifications = app1.recorder.select_notifications(start=before, limit=100, inclusive_of_start=False)
    # The lead's own stream (the daily loop adds its follow-up task's events beside it).
    assert [n.originator_version for n in notifications if n.originator_id == UUID(lead_id)] == [3, 4]
    lead = app2.get_lead(lead_id)
    assert (lead["owner"], lead["stage"], lead["version"]) == ("lucia.romero", "SQL", 4)


def test_a_thrown_away_decision_leaves_the_cache_and_snapshots_alone(
    services: Services, second: Services
) -> None:
    app1, app2 = services.app, second.app
    lead_id = _mql(services, second)
    interval = SmarketingApplication.snapshotting_intervals[type(app2.repository.get(UUID(lead_id)))]
    while app2.get_lead(lead_id)["version"] < interval - 1:
        app2.record_interaction(lead_id, kind="call")
    taken = app2.repository.cache.get(UUID(lead_id))  # type: ignore[union-attr]
    app1.change_stage(lead_id, to_stage="SQL")  # takes version `interval`, and its snapshot
    app2.log_contact_attempt(lead_id, channel="phone", outcome="connected")
    # The command took the cached lead and decided on it (version `interval`, at MQL); the
    # log refused that save, so the lead was dropped with its object. The cache holds the
    # lead decided again on the log's state and saved, never the thrown-away decision.
    assert (taken.version, taken.stage, taken.attempts) == (interval, "MQL", 1)
    cached = app2.repository.cache.get(UUID(lead_id))  # type: ignore[union-attr]
    assert cached is not taken
    assert (cached.version, cached.stage, cached.attempts) == (interval + 1, "SQL", 1)
    snapshots = list(app2.snapshots.get(UUID(lead_id)))  # type: ignore[union-attr]
    assert [s.originator_version for s in snapshots] == [interval]
    assert snapshots[0].state["stage"] == "SQL"
    assert app2.get_lead(lead_id) == app1.get_lead(lead_id)
    assert app2.get_lead(lead_id)["attempts"] == 1


def test_threads_deciding_on_one_cached_lead_lose_no_update(services: Services) -> None:
    """Threads of one process copy the same cached lead at once: every command is either
    saved on top of the others (decided again after a refused save) or told StaleLead
    with nothing saved; none overwrites another."""
    app = services.app
    lead_id = app.capture_lead(name="Ana Alonso", email="ana@example.com", source="webinar")
    saved: list[int] = []
    refused: list[StaleLead] = []

    def work() -> None:
        for _ in range(10):
            try:
                saved.append(app.record_interaction(lead_id, kind="call"))
            except StaleLead as error:
                refused.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(saved) + len(refused) == 40
    assert sorted(saved) == list(range(2, len(saved) + 2))  # each saved version once
    lead = app.get_lead(lead_id)
    assert (lead["interactions"], lead["version"]) == (len(saved), len(saved) + 1)
    assert _kinds(app, lead_id).count("InteractionRecorded") == len(saved)
