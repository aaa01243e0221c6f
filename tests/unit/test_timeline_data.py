"""The timeline's stored JSON: the encoder's own handling of plain values plus
``plain`` for the rest must write exactly what encoding ``plain`` of every field did."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from uuid import UUID

import pytest

from projections.engine.plain import plain
from projections.models.timeline import data_text
from tests.unit.lead_builders import capture, full_history

BOOKKEEPING = {"originator_id", "originator_version", "timestamp", "actor", "occurred_at", "originator_topic"}


def as_before(event: object) -> str:
    """The definition this replaced: plain() of each field, then sorted JSON."""
    fields = {k: plain(v) for k, v in vars(event).items() if k not in BOOKKEEPING}
    return json.dumps(fields, sort_keys=True, ensure_ascii=False)


def test_same_text_for_every_kind_of_lead_event() -> None:
    lead = full_history(capture(name="Zoë Ñandú"), details='said "hola"\\n', note="")
    lead.erase_personal_data("asked to be forgotten")
    for event in lead.collect_events():
        assert data_text(event) == as_before(event)


def test_same_text_for_values_plain_converts() -> None:
    event = SimpleNamespace(
        originator_id=UUID(int=1),
        actor="x",
        at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        day=date(2026, 1, 2),
        amount=Decimal("10.50"),
        ref=UUID(int=7),
        tags={"b"},
        pair=("a", 1),
        nested={"when": [datetime(2026, 5, 6), Decimal("1")], "n": None, "f": 1.5, "ok": True},
    )
    assert data_text(event) == as_before(event)
    assert '"amount": "10.50"' in data_text(event)


def test_a_value_json_cannot_hold_is_still_an_error() -> None:
    with pytest.raises((TypeError, ValueError)):
        data_text(SimpleNamespace(thing=object()))
