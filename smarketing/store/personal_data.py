"""Crypto-shredding: personal data in the event log is encrypted per lead, and
erasing a person means deleting one key, never rewriting the (immutable,
hash-chained) log.

Each event keeps its business facts in clear and its ``personal`` mapping sealed
with AES-GCM under the lead's own key, held apart from the events in the key
store (smarketing.store.key_store). The sealed form keeps the field names (not personal) so a
decoded event has the same shape whether or not the key still exists: after
erasure the values come back as "" and the event carries ``personal_erased``.
Lead snapshots hold the aggregate's ``personal`` too, so they are sealed alike.

Key cache consistency: keys are cached per process (bounded LRU) for at most
``CACHE_SECONDS``. Erasure evicts the key here at once; another process may
still decrypt for up to that long. That is safe for the read models because
``PersonalDataErased`` is recorded *before* the key is deleted: any projection
that applies an older event decrypted from a stale cache applies the erasure
event after it and blanks the columns again.
"""

import base64
import json
import os
import threading
import time
from collections import OrderedDict
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Cipher, Compressor, Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from smarketing.store.event_encoding import sorted_dumps, state_encoder
from smarketing.store.key_store import forget_deleted, lead_keys

SEALED_PREFIX = "aesgcm-v1:"
CACHE_SECONDS = 2.0
CACHE_SIZE = 4096


class LeadKeys:
    """The per-lead keys, with a small time-bounded cache (see module docstring)."""

    def __init__(
        self,
        read_engine: Engine,
        write_engine: Engine,
        *,
        max_age: float = CACHE_SECONDS,
        maxsize: int = CACHE_SIZE,
    ) -> None:
        self.read_engine = read_engine
        self.write_engine = write_engine
        self.max_age = max_age
        self.maxsize = maxsize
        self._cache: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, lead_id: str) -> bytes | None:
        cached = self._cached(lead_id)
        if cached is not None:
            return cached
        with self.read_engine.connect() as conn:
            key = conn.execute(select(lead_keys.c.key).where(lead_keys.c.lead_id == lead_id)).scalar()
        if key is None:
            self._forget(lead_id)
            return None
        self._remember(lead_id, bytes(key))
        return bytes(key)

    def get_or_create(self, lead_id: str) -> bytes:
        key = self.get(lead_id)
        if key is not None:
            return key
        new_key = AESGCM.generate_key(bit_length=256)
        try:
            with self.write_engine.begin() as conn:
                conn.execute(insert(lead_keys).values(lead_id=lead_id, key=new_key))
        except IntegrityError:
            # Another writer created it first: use theirs, or one of us loses data.
            key = self.get(lead_id)
            if key is None:
                raise
            return key
        self._remember(lead_id, new_key)
        return new_key

    def delete(self, lead_id: str) -> bool:
        self._forget(lead_id)
        with self.write_engine.begin() as conn:
            deleted = conn.execute(delete(lead_keys).where(lead_keys.c.lead_id == lead_id)).rowcount
        if deleted:
            forget_deleted(self.write_engine)
        return bool(deleted)

    def sealing_key(self, lead_id: str) -> bytes | None:
        """The cached key of a lead at any age, to seal its new events; None if not cached.

        The age bound is for reading: it limits how long another process's erasure
        goes unseen. Sealing never needs it. A lead's key never changes (created once,
        deleted once, never re-created: an erased lead takes no new personal data), and
        a save is refused unless it extends the lead's latest version, so an event
        sealed here is the next one after whatever the saver saw, erasure included.
        """
        return self._cached(lead_id, any_age=True)

    def _cached(self, lead_id: str, *, any_age: bool = False) -> bytes | None:
        with self._lock:
            entry = self._cache.get(lead_id)
            if entry is None:
                return None
            if not any_age and time.monotonic() - entry[1] > self.max_age:
                return None  # too old to read with; kept for sealing (the LRU bounds it)
            self._cache.move_to_end(lead_id)
            return entry[0]

    def _remember(self, lead_id: str, key: bytes) -> None:
        with self._lock:
            self._cache[lead_id] = (key, time.monotonic())
            self._cache.move_to_end(lead_id)
            while len(self._cache) > self.maxsize:
                self._cache.popitem(last=False)

    def _forget(self, lead_id: str) -> None:
        with self._lock:
            self._cache.pop(lead_id, None)


def _aad(originator_id: UUID | str, version: int) -> bytes:
    # Binds a ciphertext to its event: copied into another row it will not open.
    ident = originator_id.hex if isinstance(originator_id, UUID) else str(originator_id)
    return f"{ident}:{version}".encode()


def is_sealed(value: object) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"sealed", "fields"}
        and str(value["sealed"]).startswith(SEALED_PREFIX)
    )


def seal(key: bytes, personal: dict[str, str], aad: bytes) -> dict[str, Any]:
    nonce = os.urandom(12)
    plaintext = sorted_dumps(personal).encode()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, aad)
    return {
        "sealed": SEALED_PREFIX + base64.b64encode(nonce + ciphertext).decode("ascii"),
        "fields": sorted(personal),
    }


def unseal(key: bytes, sealed: dict[str, Any], aad: bytes) -> dict[str, str]:
    blob = base64.b64decode(sealed["sealed"].removeprefix(SEALED_PREFIX))
    return json.loads(AESGCM(key).decrypt(blob[:12], blob[12:], aad))


def _holder(state: dict[str, Any]) -> dict[str, Any] | None:
    """The dict that holds ``personal``: the event itself, or a snapshot's aggregate state."""
    if isinstance(state.get("personal"), dict):
        return state
    nested = state.get("state")
    if isinstance(nested, dict) and isinstance(nested.get("personal"), dict):
        return nested
    return None


class PersonalDataMapper(Mapper[UUID]):
    """The library's mapper, sealing ``personal`` before encoding and opening it after decoding."""

    keys: LeadKeys | None = None

    def __init__(
        self, transcoder: Transcoder, compressor: Compressor | None = None, cipher: Cipher | None = None
    ) -> None:
        super().__init__(transcoder, compressor, cipher)
        # The library's bytes, faster (smarketing.store.event_encoding); a compressor or a
        # cipher would change them, so then the library's own path runs.
        self._encode = state_encoder(transcoder) if compressor is None and cipher is None else None

    def use_keys(self, keys: LeadKeys) -> None:
        self.keys = keys

    def _key_store(self) -> LeadKeys:
        if self.keys is None:
            raise RuntimeError("No lead key store: build the application with smarketing.bootstrap.")
        return self.keys

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """The library's ``Mapper.to_stored_event`` (9.5.6), sealing ``personal`` in the copy it encodes.

        Step for step as the library: the event's attributes less its id and version,
        ``class_version`` last when above 1; so the stored bytes are the library's
        (tests/unit/test_event_encoding.py).
        """
        if self._encode is None:
            return super().to_stored_event(self._sealed(domain_event))
        state = dict(vars(domain_event))  # the event itself stays as it is
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        self._seal_state(state, originator_id, originator_version)
        topic = get_topic(type(domain_event))
        return StoredEvent(originator_id, originator_version, topic, self._encode(state))

    def _sealed(self, domain_event: DomainEventProtocol[UUID]) -> DomainEventProtocol[UUID]:
        """A copy of the event with ``personal`` sealed (the event itself when nothing is to seal)."""
        state = dict(vars(domain_event))
        if not self._seal_state(state, domain_event.originator_id, domain_event.originator_version):
            return domain_event
        clone = object.__new__(type(domain_event))
        object.__setattr__(clone, "__dict__", state)
        return clone

    def _seal_state(self, state: dict[str, Any], originator_id: UUID, version: int) -> bool:
        """Seal the ``personal`` of this copied state in place; False when there is nothing to seal."""
        holder = _holder(state)
        # Nothing personal to protect (absent, or all blank after an erasure): no key needed.
        if holder is None or not any(holder["personal"].values()) or is_sealed(holder["personal"]):
            return False
        key = self._key_store().get_or_create(originator_id.hex)
        sealed = seal(key, holder["personal"], _aad(originator_id, version))
        if holder is state:
            state["personal"] = sealed
        else:  # a snapshot: a new aggregate state, the event's own stays as it is
            state["state"] = {**holder, "personal": sealed}
        return True

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        domain_event = super().to_domain_event(stored_event)
        state = domain_event.__dict__
        holder = _holder(state)
        if holder is None:
            return domain_event
        sealed = holder["personal"]
        if not is_sealed(sealed):
            if any(sealed.values()) and self._key_store().get(domain_event.originator_id.hex) is None:
                # Stored in clear before its field was sealed (a reason upcast into
                # ``personal``, domain.lead): the lead was erased, so it reads as erased.
                holder["personal"] = dict.fromkeys(sealed, "")
                state["personal_erased"] = True
            return domain_event
        key = self._key_store().get(domain_event.originator_id.hex)
        if key is None:
            holder["personal"] = dict.fromkeys(sealed["fields"], "")
            state["personal_erased"] = True
        else:
            aad = _aad(domain_event.originator_id, domain_event.originator_version)
            holder["personal"] = unseal(key, sealed, aad)
        return domain_event
