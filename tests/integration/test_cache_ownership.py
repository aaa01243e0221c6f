"""A command takes its lead out of the aggregate cache instead of copying it
(smarketing.store.last_seen): only a saved lead, or one a refusal left unchanged, goes back;
readers only ever see whole leads."""

import contextlib
import threading
from uuid import UUID

import pytest

from domain.errors import IllegalTransition, StaleLead
from smarketing.bootstrap import Services
from smarketing.store.last_seen import LastSeenRepository


@pytest.fixture(autouse=True)
def _needs_the_cache(services: Services) -> None:
    if services.app.repository.cache is None:
        pytest.skip("aggregate cache turned off: every command reads the log first")


def _lead(services: Services) -> UUID:
    lead_id = services.app.capture_lead(name="Ana Alonso", email="ana@example.com", source="webinar")
    services.app.get_lead(lead_id)  # cached
    return UUID(lead_id)


def _cached(services: Services, lead_id: UUID) -> object | None:
    try:
        return services.app.repository.cache.get(lead_id)  # type: ignore[union-attr]
    except KeyError:
        return None


def test_take_hands_out_the_cached_object_and_leaves_the_cache_without_it(services: Services) -> None:
    repository = services.app.repository
    assert isinstance(repository, LastSeenRepository)
    lead_id = _lead(services)
    cached = _cached(services, lead_id)
    assert repository.take(lead_id) is cached
    assert _cached(services, lead_id) is None
    assert repository.take(lead_id) is None
    # A get meanwhile reads the lead from the log into the cache: another object.
    assert services.app.get_lead(lead_id)["version"] == 1
    reread = _cached(services, lead_id)
    assert reread is not None and reread is not cached


def test_a_saved_command_puts_its_lead_back(services: Services) -> None:
    lead_id = _lead(services)
    before = _cached(services, lead_id)
    assert services.app.record_interaction(str(lead_id), kind="call") == 2
    after = _cached(services, lead_id)
    assert after is before  # decided on in place, no copy
    assert (after.version, after.interactions) == (2, 1)  # type: ignore[attr-defined]


def test_a_refusal_that_changed_nothing_keeps_the_lead_cached(services: Services) -> None:
    lead_id = _lead(services)
    before = _cached(services, lead_id)
    with pytest.raises(IllegalTransition):
        services.app.change_stage(str(lead_id), to_stage="Customer")
    assert _cached(services, lead_id) is before
    assert before.version == 1  # type: ignore[attr-defined]


def test_a_decision_the_log_refused_is_dropped_with_its_object(services: Services, second: Services) -> None:
    lead_id = _lead(services)
    second.app.get_lead(lead_id)
    taken = _cached(second, lead_id)
    services.app.record_interaction(str(lead_id), kind="call")  # version 2, unseen by app2
    assert second.app.log_contact_attempt(str(lead_id), channel="phone", outcome="connected") == 3
    # app2 decided version 2 on its cached lead; the log refused it, so that object is gone.
    assert (taken.version, taken.attempts, taken.interactions) == (2, 1, 0)  # type: ignore[attr-defined]
    cached = _cached(second, lead_id)
    assert cached is not taken
    assert (cached.version, cached.attempts, cached.interactions) == (3, 1, 1)  # type: ignore[attr-defined]


def test_get_with_fastforward_skipping_does_not_wait_for_a_busy_lead(services: Services) -> None:
    repository = services.app.repository
    assert isinstance(repository, LastSeenRepository)
    lead_id = _lead(services)
    cached = _cached(services, lead_id)
    with repository._lock(lead_id):  # another thread fast-forwarding or taking it
        read = repository.get(lead_id, fastforward_skipping=True)
    assert read is not cached and read.version == 1
    assert _cached(services, lead_id) is cached


def test_a_get_waits_while_the_lead_is_taken_or_fast_forwarded(services: Services) -> None:
    """The cached object is looked up, fast-forwarded and copied under its lock, the one a
    command takes it under: a reader never holds it while a command decides on it."""
    repository = services.app.repository
    assert isinstance(repository, LastSeenRepository)
    lead_id = _lead(services)
    read: list[int] = []
    reader = threading.Thread(target=lambda: read.append(repository.get(lead_id).version))
    with repository._lock(lead_id):
        reader.start()
        reader.join(timeout=0.3)
        assert reader.is_alive() and read == []
    reader.join()
    assert read == [1]


def test_threads_reading_and_deciding_on_one_lead(services: Services) -> None:
    """Writers take and put back the one cached lead; readers copy it meanwhile: every
    saved version once, every read a whole lead."""
    app = services.app
    lead_id = str(_lead(services))
    torn: list[dict[str, object]] = []
    saved: list[int] = []
    done = threading.Event()

    def write() -> None:
        for _ in range(25):
            with contextlib.suppress(StaleLead):  # a fine answer to a race; nothing saved
                saved.append(app.record_interaction(lead_id, kind="call"))

    def read() -> None:
        while not done.is_set():
            lead = app.get_lead(lead_id)
            if lead["interactions"] != lead["version"] - 1:
                torn.append(lead)

    writers = [threading.Thread(target=write) for _ in range(3)]
    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in writers + readers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    for thread in readers:
        thread.join()
    assert torn == []
    lead = app.get_lead(lead_id)
    assert sorted(saved) == list(range(2, len(saved) + 2))
    assert lead["interactions"] == lead["version"] - 1 == len(saved)
