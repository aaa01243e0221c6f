"""The Lead aggregate refuses input it cannot store or that makes no sense, before
any event exists: text, business times, amounts and currencies."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.errors import InvalidInput
from domain.validation import EMAIL_MAX, MAX_AMOUNT, NAME_MAX, TEXT_MAX
from tests.unit.lead_builders import capture, now, opportunity

# --- validation of text ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "   "),
        ("name", "x" * (NAME_MAX + 1)),
        ("email", ""),
        ("email", "zelda"),
        ("email", "zelda@example"),
        ("email", "zelda@@example.org"),
        ("email", "zel da@example.org"),
        ("email", "@example.org"),
        ("email", "a" * EMAIL_MAX + "@example.org"),
        ("phone", "1" * 41),
        ("company", "c" * (NAME_MAX + 1)),
        ("source", ""),
        ("source", "s" * 101),
        ("campaign", "c" * 101),
    ],
)
def test_capturing_with_a_missing_or_malformed_field_is_refused_naming_the_field(field, value):
    with pytest.raises(InvalidInput) as refused:
        capture(**{field: value})
    assert refused.value.field == field
    assert field in str(refused.value)


@pytest.mark.parametrize("field", ["name", "email", "phone", "company", "source", "campaign", "persona"])
@pytest.mark.parametrize("bad", ["\ud800", "\x00"], ids=["lone-surrogate", "nul"])
def test_text_a_database_cannot_store_is_refused_naming_the_field(field, bad):
    value = f"zelda{bad}@example.org" if field == "email" else f"abc{bad}def"
    with pytest.raises(InvalidInput) as refused:
        capture(**{field: value})
    assert refused.value.field == field


@pytest.mark.parametrize("bad", ["\ud800", "\udfff", "\x00"], ids=["high-surrogate", "low-surrogate", "nul"])
@pytest.mark.parametrize(
    ("command", "field"),
    [
        (lambda lead, text: lead.record_interaction("note", "other", text), "details"),
        (lambda lead, text: lead.attempt_contact("phone", "no_answer", text), "note"),
        (lambda lead, text: lead.assign_owner(text, "sales"), "owner"),
        (lambda lead, text: lead.change_stage("Disqualified", reason=text), "reason"),
        (lambda lead, text: lead.reject_mql(text), "reason"),
    ],
    ids=["details", "note", "owner", "stage-reason", "reject-reason"],
)
def test_later_commands_refuse_unstorable_text_and_record_nothing(command, field, bad):
    lead = capture()
    lead.change_stage("MQL")
    lead.collect_events()
    before = lead.as_dict()
    with pytest.raises(InvalidInput) as refused:
        command(lead, f"text {bad} here")
    assert refused.value.field == field
    assert lead.collect_events() == []
    assert lead.as_dict() == before


def test_oversized_free_text_is_refused():
    lead = capture()
    lead.collect_events()
    with pytest.raises(InvalidInput) as refused:
        lead.record_interaction("note", details="x" * (TEXT_MAX + 1))
    assert refused.value.field == "details"
    assert lead.collect_events() == []


def test_the_longest_allowed_name_is_kept_whole():
    assert capture(name="n" * NAME_MAX).personal["name"] == "n" * NAME_MAX


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (lambda lead: lead.record_interaction("telepathy"), "kind"),
        (lambda lead: lead.record_interaction("call", channel="pigeon"), "channel"),
        (lambda lead: lead.attempt_contact("phone", "ghosted"), "outcome"),
        (lambda lead: lead.assign_owner("mia", "finance"), "team"),
    ],
)
def test_a_choice_outside_the_vocabulary_is_refused(command, field):
    lead = capture()
    lead.collect_events()
    with pytest.raises(InvalidInput) as refused:
        command(lead)
    assert refused.value.field == field
    assert lead.collect_events() == []


def test_assigning_the_same_owner_twice_is_refused():
    lead = capture()
    lead.assign_owner("mia", "sales")
    lead.collect_events()
    with pytest.raises(InvalidInput):
        lead.assign_owner("mia", "sales")
    assert lead.collect_events() == []
    lead.assign_owner("mia", "marketing")
    [reassigned] = lead.collect_events()
    assert (reassigned.previous_owner, reassigned.owner, reassigned.team) == ("mia", "mia", "marketing")


# --- business time (occurred_at) ---------------------------------------------------


def test_a_capture_in_the_future_is_refused():
    with pytest.raises(InvalidInput) as refused:
        capture(occurred_at=now() + timedelta(hours=1))
    assert refused.value.field == "occurred_at"


def test_a_naive_datetime_is_refused():
    with pytest.raises(InvalidInput) as refused:
        capture(occurred_at=datetime(2024, 5, 1, 9, 30))
    assert refused.value.field == "occurred_at"


def test_a_later_command_in_the_future_or_without_time_zone_records_nothing():
    lead = capture()
    lead.collect_events()
    for when in (now() + timedelta(days=1), datetime(2024, 5, 1, 9, 30)):
        with pytest.raises(InvalidInput) as refused:
            lead.change_stage("MQL", occurred_at=when)
        assert refused.value.field == "occurred_at"
    assert lead.collect_events() == []
    assert lead.stage == "Lead"


def test_a_past_occurred_at_is_kept_as_business_time_in_utc():
    berlin = datetime(2024, 3, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    lead = capture(occurred_at=berlin)
    [captured] = lead.collect_events()
    assert captured.occurred_at == berlin
    assert captured.occurred_at.utcoffset() == timedelta(0)
    assert lead.captured_at == berlin
    assert captured.timestamp > berlin, "recording time stays separate from business time"


def test_a_few_minutes_of_clock_skew_are_tolerated():
    lead = capture(occurred_at=now() + timedelta(minutes=1))
    assert lead.captured_at > now()


def test_importing_older_history_does_not_move_last_activity_backwards():
    lead = capture(occurred_at=datetime(2024, 6, 1, tzinfo=UTC))
    lead.record_interaction("call", occurred_at=datetime(2024, 6, 10, tzinfo=UTC))
    lead.record_interaction("call", occurred_at=datetime(2024, 6, 5, tzinfo=UTC))
    assert lead.last_activity_at == datetime(2024, 6, 10, tzinfo=UTC)
    assert lead.interactions == 2


# --- amounts and currencies when winning ---------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        "-1",
        "-0.01",
        "0",
        "0.00",
        "-0",
        "abc",
        "",
        "   ",
        None,
        "1.234",
        "0.001",
        "12,50",
        "NaN",
        "Infinity",
        "-Infinity",
        "sNaN",
        "1e400",
        str(MAX_AMOUNT + Decimal("0.01")),
        "9" * 40,
        float("nan"),
        True,
        [100],
    ],
)
def test_a_win_with_an_unusable_amount_is_refused(amount):
    lead = opportunity()
    with pytest.raises(InvalidInput) as refused:
        lead.win_deal(amount, "EUR")
    assert refused.value.field == "amount"
    assert lead.collect_events() == []
    assert lead.stage == "Opportunity"


@pytest.mark.parametrize(
    ("amount", "kept"),
    [
        ("12.5", "12.50"),
        (100, "100.00"),
        (Decimal("0.01"), "0.01"),
        ("1.230", "1.23"),
        (" 42 ", "42.00"),
        (str(MAX_AMOUNT), "1000000000.00"),
        ("1E+2", "100.00"),
    ],
)
def test_a_win_keeps_the_amount_with_two_decimals(amount, kept):
    lead = opportunity()
    lead.win_deal(amount, "EUR")
    [won] = lead.collect_events()
    assert won.amount == Decimal(kept)
    assert str(won.amount) == kept
    assert lead.won_amount == Decimal(kept)


@pytest.mark.parametrize("currency", ["", "EU", "EURO", "E1R", "€€€", "12 ", None, "e u"])
def test_a_win_with_a_malformed_currency_is_refused(currency):
    lead = opportunity()
    with pytest.raises(InvalidInput) as refused:
        lead.win_deal("10", currency)
    assert refused.value.field == "currency"
    assert lead.collect_events() == []


def test_a_currency_is_kept_in_upper_case():
    lead = opportunity()
    lead.win_deal("10", " chf ")
    assert lead.currency == "CHF"
