"""Per-lead keys in bulk: one transaction creates the keys of every new lead in a
saved batch, and one query fetches the keys of a batch of notifications.

Why: ``LeadKeys.get_or_create`` is one transaction per new lead (most of an
import's time) and ``LeadKeys.get`` one SELECT per lead not in the small
shared cache, so decoding 1M events of 100k leads did ~100k single SELECTs.

Pinned keys: the keys a batch needs are held per thread beside the shared LRU
(which is too small for a 10k-lead batch and would evict them before use). Pins
obey the same age bound as the shared cache (``LeadKeys.max_age``) and are
replaced wholesale by the next batch, so erasure semantics are unchanged: an
erasure drops the pin in this process at once, other processes see it within
``max_age`` (see smarketing.store.personal_data's docstring for why that is safe).
"""

import threading
import time
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from smarketing.store.key_store import lead_keys
from smarketing.store.personal_data import LeadKeys, PersonalDataMapper, _holder, is_sealed

_CHUNK = 500  # bound parameters per statement, under every backend's limit


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def fetch_keys(engine: Engine, lead_ids: Iterable[str]) -> dict[str, bytes]:
    """The stored keys of these leads (absent ones are missing from the result)."""
    wanted = sorted(set(lead_ids))
    found: dict[str, bytes] = {}
    if not wanted:
        return found
    with engine.connect() as conn:
        for chunk in _chunks(wanted):
            rows = conn.execute(
                select(lead_keys.c.lead_id, lead_keys.c.key).where(lead_keys.c.lead_id.in_(chunk))
            )
            found.update((lead_id, bytes(key)) for lead_id, key in rows)
    return found


def create_keys(keys: LeadKeys, lead_ids: Iterable[str]) -> dict[str, bytes]:
    """Every lead's key, creating the missing ones in ONE transaction.

    Insert-or-ignore, returning the rows it inserted; the keys it did not insert are
    read back: when another writer created a key first we use theirs (as
    ``get_or_create`` does), or one of the two would lose data. Returning the inserted
    rows spares reading back every new key (about a fifth of an import's key time).
    """
    wanted = sorted(set(lead_ids))
    have = fetch_keys(keys.read_engine, wanted)
    missing = [lead_id for lead_id in wanted if lead_id not in have]
    if missing:
        dialect = postgresql if keys.write_engine.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(lead_keys).on_conflict_do_nothing().returning(lead_keys.c.lead_id, lead_keys.c.key)
        )
        with keys.write_engine.begin() as conn:
            for chunk in _chunks(missing):
                rows = [{"lead_id": lead_id, "key": AESGCM.generate_key(bit_length=256)} for lead_id in chunk]
                have.update((lead_id, bytes(key)) for lead_id, key in conn.execute(statement, rows))
        taken = [lead_id for lead_id in missing if lead_id not in have]  # by another writer
        have.update(fetch_keys(keys.write_engine, taken))
    for lead_id, key in have.items():  # as get_or_create does: the next command seals with it
        keys._remember(lead_id, key)
    return have


class _PinnedKeys:
    """``LeadKeys`` as the mapper sees it: this thread's pinned keys first."""

    def __init__(self, keys: LeadKeys, pins: dict[str, bytes | None]) -> None:
        self.keys, self.pins = keys, pins

    def get(self, lead_id: str) -> bytes | None:
        if lead_id in self.pins:
            return self.pins[lead_id]
        return self.keys.get(lead_id)

    def get_or_create(self, lead_id: str) -> bytes:
        """The key to seal with: pinned, else cached at any age (LeadKeys.sealing_key)."""
        key = self.pins.get(lead_id)
        if key is None:
            key = self.keys.sealing_key(lead_id)
        return key if key is not None else self.keys.get_or_create(lead_id)

    def delete(self, lead_id: str) -> bool:
        self.pins.pop(lead_id, None)
        return self.keys.delete(lead_id)


class BatchingPersonalDataMapper(PersonalDataMapper):
    """``PersonalDataMapper`` that can fetch or create a whole batch's keys at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()

    def _pins(self) -> dict[str, bytes | None]:
        pins: dict[str, bytes | None] | None = getattr(self._local, "pins", None)
        born: float = getattr(self._local, "born", 0.0)
        if pins is None or time.monotonic() - born > self._key_store_base().max_age:
            pins = self._pin({})
        return pins

    def _pin(self, pins: dict[str, bytes | None]) -> dict[str, bytes | None]:
        self._local.pins, self._local.born = pins, time.monotonic()
        return pins

    def _key_store_base(self) -> LeadKeys:
        return super()._key_store()

    def _key_store(self) -> Any:  # a _PinnedKeys, duck-typed as LeadKeys
        return _PinnedKeys(self._key_store_base(), self._pins())

    def prefetch(self, originator_ids: Iterable[UUID | str]) -> None:
        """Pin the keys (or their absence, after erasure) of these originators: one query."""
        ids = {i.hex if isinstance(i, UUID) else str(i).replace("-", "") for i in originator_ids}
        found = fetch_keys(self._key_store_base().read_engine, ids)
        self._pin({lead_id: found.get(lead_id) for lead_id in ids})

    def prepare_keys(self, events: Iterable[DomainEventProtocol[UUID]]) -> None:
        """Create (one transaction) and pin the keys that encoding these events needs."""
        needed: set[UUID] = set()
        for event in events:
            if event.originator_id in needed:
                continue  # an import's lead has a dozen events: its key is needed once
            holder = _holder(vars(event))  # read only: no copy of every event's state
            if holder is not None and any(holder["personal"].values()) and not is_sealed(holder["personal"]):
                needed.add(event.originator_id)
        if not needed:
            return
        ids = {originator_id.hex for originator_id in needed}
        # Keys already pinned, or in the shared cache at any age (a single command on a
        # lead seen before): no query at all. Why any age is safe: LeadKeys.sealing_key.
        # Not pinned from there: pins also serve reads, which keep the age bound.
        pins, keys = self._pins(), self._key_store_base()
        if all(pins.get(lead_id) is not None or keys.sealing_key(lead_id) is not None for lead_id in ids):
            return
        self._pin(dict(create_keys(keys, ids)))

    def can_seal_without_a_query(self, lead_id: UUID) -> bool:
        """Whether this process holds the lead's key for sealing (so nothing is created).

        A command deciding on its cached lead asks first: if another process erased the
        lead since, sealing with no key at hand would create one for an erased lead
        before the save is refused, a side effect of a decision that is thrown away.
        """
        return self._key_store_base().sealing_key(lead_id.hex) is not None

    def release(self) -> None:
        """Drop this thread's pins (the shared LRU still bounds what stays cached)."""
        self._pin({})
