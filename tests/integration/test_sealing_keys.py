"""Sealing a lead's new events uses its cached key at any age; reading keeps the
age bound, so another process's erasure is still seen within ``max_age``."""

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import pytest
from sqlalchemy import Engine, event

from domain.errors import InvalidInput
from smarketing.bootstrap import Services
from smarketing.store import key_batch
from smarketing.store.key_batch import BatchingPersonalDataMapper


def _mapper(services: Services) -> BatchingPersonalDataMapper:
    assert isinstance(services.app.mapper, BatchingPersonalDataMapper)
    return services.app.mapper


@contextmanager
def _key_queries(*engines: Engine) -> Iterator[list[str]]:
    seen: list[str] = []
    engines = tuple(set(engines))  # PostgreSQL reads and writes through one engine

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if "lead_keys" in statement:
            seen.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def _lead(services: Services) -> str:
    return services.app.capture_lead(name="Ana Alonso", email="ana@example.com", source="webinar")


def test_a_command_seals_with_a_cached_key_older_than_the_read_bound(
    services: Services, second: Services
) -> None:
    app = services.app
    if app.repository.cache is None:
        pytest.skip("aggregate cache turned off: every command decodes, and reads keep the bound")
    lead_id = _lead(services)
    app.record_interaction(lead_id, kind="call", details="first words")
    keys = _mapper(services)._key_store_base()
    keys.max_age = 0.0  # every cached key is now too old to read with
    _mapper(services).release()
    with _key_queries(services.key_engine) as queries:
        app.record_interaction(lead_id, kind="call", details="private words")
    assert queries == []
    # Sealed under the lead's stored key: another process opens it.
    last = second.app.lead_events(lead_id)[-1]
    assert last.personal == {"details": "private words"} and not getattr(last, "personal_erased", False)


def test_reads_keep_the_age_bound_after_another_process_erases(services: Services, second: Services) -> None:
    lead_id = _lead(services)
    services.app.record_interaction(lead_id, kind="call", details="private words")
    keys = _mapper(services)._key_store_base()
    hex_id = UUID(lead_id).hex
    assert keys.get(hex_id) is not None  # cached here
    second.app.erase_personal_data(lead_id, reason="asked to")
    keys.max_age = 0.0
    _mapper(services).release()
    assert keys.get(hex_id) is None  # read from the table, not from the old cache entry
    assert keys.sealing_key(hex_id) is None  # and forgotten for sealing too
    events = services.app.lead_events(lead_id)
    assert all(e.personal.get("details", "") == "" for e in events if hasattr(e, "personal"))


def test_a_stale_cache_cannot_seal_after_another_process_erased(services: Services, second: Services) -> None:
    """The key survives in this process's cache, but the save must extend the lead's
    latest version, and the latest is the erasure, so nothing is sealed under it."""
    app = services.app
    lead_id = _lead(services)
    app.record_interaction(lead_id, kind="call", details="first words")
    # The erasure lands right after this process reads the lead from the log; it decides
    # on that read (not on its cached lead, whose refused save would be decided again:
    # tests/integration/test_last_seen_decisions.py, a note after an erasure elsewhere).
    app._last_seen = lambda uuid: None  # type: ignore[method-assign]
    original = app._load

    def load_then_erase_elsewhere(lead_id: str, version: int | None = None):  # type: ignore[no-untyped-def]
        lead = original(lead_id, version)
        app._load = original  # type: ignore[method-assign]
        second.app.erase_personal_data(lead_id, reason="asked to")
        return lead

    app._load = load_then_erase_elsewhere  # type: ignore[method-assign]
    before = len(app.lead_events(lead_id))
    # The save loses the race (StaleLead); a note is retried (smarketing.service.retrying), and the
    # retry decides again on the latest version, the erasure: refused, nothing sealed.
    with pytest.raises(InvalidInput, match="erased"):
        app.record_interaction(lead_id, kind="call", details="late words")
    events = app.lead_events(lead_id)
    assert len(events) == before + 1 and type(events[-1]).__name__ == "PersonalDataErased"


def test_a_batch_uses_the_key_another_writer_created_first(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """create_keys read before another writer committed a key: its insert skips that
    lead, and the key it returns (and seals with) is the stored one, not its own."""
    keys = _mapper(services)._key_store_base()
    theirs = {lead_id: keys.get_or_create(lead_id) for lead_id in ("a" * 32, "b" * 32)}
    keys._cache.clear()
    read_before = key_batch.fetch_keys
    reads = iter([lambda engine, ids: {}, read_before])  # the first read misses their keys
    monkeypatch.setattr(key_batch, "fetch_keys", lambda engine, ids: next(reads)(engine, ids))
    created = key_batch.create_keys(keys, ["a" * 32, "b" * 32, "c" * 32])
    assert {lead_id: created[lead_id] for lead_id in theirs} == theirs
    assert read_before(keys.read_engine, created) == created  # every key returned is stored
