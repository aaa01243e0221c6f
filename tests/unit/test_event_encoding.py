"""The reused encoders (smarketing.store.event_encoding) and the mapper that uses them write
exactly the bytes the library writes, for every kind of event and snapshot, so stores
written before and after read the same."""

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.compressor import ZlibCompressor
from eventsourcing.domain import DomainEventProtocol, Snapshot
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent

from domain.agreement import SLAAgreement
from domain.agreement_terms import CALENDAR, DEFAULTS
from domain.email_index import LeadEmailIndex
from smarketing.service.application import SmarketingApplication
from smarketing.store import event_encoding, personal_data
from smarketing.store.event_encoding import sorted_dumps, state_encoder
from smarketing.store.personal_data import PersonalDataMapper, _aad, _holder, is_sealed, seal
from tests.unit.lead_builders import capture, full_history

KEY = bytes(range(32))
NONCE = b"\x07" * 12
CEST = timezone(timedelta(hours=2))


class _OneKey:
    """A key store holding one key for every lead (no database in unit tests)."""

    def get(self, lead_id: str) -> bytes:
        return KEY

    def get_or_create(self, lead_id: str) -> bytes:
        return KEY


@pytest.fixture
def transcoder() -> JSONTranscoder:
    """The application's own transcoder, with every transcoding it registers."""
    transcoder = SmarketingApplication().mapper.transcoder
    assert type(transcoder) is JSONTranscoder
    return transcoder


@pytest.fixture
def fixed_nonce(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sealing with a fixed nonce, so a sealed event's bytes can be compared."""
    monkeypatch.setattr(personal_data, "os", SimpleNamespace(urandom=lambda n: NONCE[:n]))


def _every_kind() -> list[DomainEventProtocol[UUID]]:
    """Every kind of event of every aggregate, odd text included, and Lead snapshots."""
    lead = full_history(
        capture(name='Zoë "Ñandú"\t\\', occurred_at=datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=CEST))
    )
    lead.erase_personal_data("asked to be forgotten")
    unsealed = full_history(capture(occurred_at=datetime(2024, 1, 2, tzinfo=UTC)))
    index = LeadEmailIndex.register(uuid4(), lead.id)
    index.release()
    index.reassign(uuid4())
    agreement = SLAAgreement.start(datetime(2024, 3, 1, 9, tzinfo=UTC))
    agreement.set_target("2024-03", "revenue_goal", "150000.50")
    agreement.set_target("2024-03", "revenue_goal", 160000, "New product line")
    agreement.set_terms(CALENDAR, DEFAULTS[CALENDAR] | {"timezone": "Europe/Madrid"}, "Office hours")
    events = [*lead.collect_events(), *unsealed.collect_events(), *index.collect_events()]
    events += agreement.collect_events()
    events += [Snapshot.take(unsealed), Snapshot.take(capture()), Snapshot.take(agreement)]
    kinds = {type(e).__qualname__ for e in events}
    assert {"Lead.Captured", "Lead.DealWon", "Lead.PersonalDataErased", "Snapshot"} <= kinds
    return events


def _state(event: DomainEventProtocol[UUID]) -> dict[str, Any]:
    state = dict(vars(event))
    del state["originator_id"], state["originator_version"]
    return state


def test_state_encoder_writes_the_transcoders_bytes(transcoder: JSONTranscoder) -> None:
    encode = state_encoder(transcoder)
    assert encode is not transcoder.encode  # the reused encoder is the one under test
    odd = {"f": 1.5, "nan": float("nan"), "n": None, "t": (1, "ü"), "d": Decimal("-0.10"), "u": uuid4()}
    for state in [*map(_state, _every_kind()), odd]:
        assert encode(state) == transcoder.encode(state)


def test_a_type_without_a_transcoding_fails_as_the_library_does(transcoder: JSONTranscoder) -> None:
    with pytest.raises(TypeError, match="register"):
        state_encoder(transcoder)({"x": object()})


def test_a_transcoding_registered_later_is_used(transcoder: JSONTranscoder) -> None:
    encode = state_encoder(transcoder)

    class Point(tuple):
        pass

    class PointAsList:
        type, name = Point, "point"

        def encode(self, obj: Point) -> list[int]:
            return list(obj)

        def decode(self, data: list[int]) -> Point:
            return Point(data)

    transcoder.register(PointAsList())  # type: ignore[arg-type]
    assert encode({"p": Point((1, 2))}) == transcoder.encode({"p": Point((1, 2))})


def test_without_the_c_encoder_the_library_encodes(
    transcoder: JSONTranscoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_encoding.json_encoder, "c_make_encoder", None)
    assert state_encoder(transcoder) == transcoder.encode


def test_sorted_dumps_is_json_dumps() -> None:
    for personal in (
        {"name": 'Zoë "Ñandú"', "email": "a@b.c", "phone": "\x00\n\u2028"},
        {},
        {"b": "", "a": "1"},
    ):
        assert sorted_dumps(personal) == json.dumps(personal, sort_keys=True, ensure_ascii=False)


def _library_bytes(transcoder: JSONTranscoder, event: DomainEventProtocol[UUID]) -> StoredEvent:
    """What the library's Mapper stores for the event with its personal data sealed."""
    state = dict(vars(event))
    holder = _holder(state)
    if holder is not None and any(holder["personal"].values()):
        sealed = seal(KEY, holder["personal"], _aad(event.originator_id, event.originator_version))
        if holder is state:
            state["personal"] = sealed
        else:
            state["state"] = {**holder, "personal": sealed}
    clone = object.__new__(type(event))
    object.__setattr__(clone, "__dict__", state)
    return Mapper(transcoder=transcoder).to_stored_event(clone)


@pytest.mark.usefixtures("fixed_nonce")
def test_the_mapper_stores_what_the_library_stores(transcoder: JSONTranscoder) -> None:
    mapper = PersonalDataMapper(transcoder=transcoder)
    mapper.use_keys(_OneKey())  # type: ignore[arg-type]
    for event in _every_kind():
        before = dict(vars(event))
        assert mapper.to_stored_event(event) == _library_bytes(transcoder, event)
        assert vars(event) == before  # the event itself is left as it was


@pytest.mark.parametrize("compressed", [False, True])
def test_events_come_back_as_they_were(transcoder: JSONTranscoder, compressed: bool) -> None:
    """Both paths: the reused encoder, and the library's when a compressor is configured."""
    mapper = PersonalDataMapper(transcoder=transcoder, compressor=ZlibCompressor() if compressed else None)
    mapper.use_keys(_OneKey())  # type: ignore[arg-type]
    assert (mapper._encode is None) is compressed
    lead = full_history(capture())
    for event in [*lead.collect_events(), Snapshot.take(lead)]:
        stored = mapper.to_stored_event(event)
        state = json.loads(ZlibCompressor().decompress(stored.state) if compressed else stored.state)
        holder = _holder(state)
        if holder is not None and any(vars(event).get("personal", {}).values()):
            assert is_sealed(holder["personal"])
        assert vars(mapper.to_domain_event(stored)) == vars(event)
