"""The Lead aggregate: every change to a lead is one of these events.

Public commands check the rules; the private ``@event`` methods only change
state, so replaying the log never re-runs a rule (and never refuses history).

Personal data (name, e-mail, phone, free text about a person) travels in each
event's ``personal`` mapping, apart from the business facts, so that it can be
encrypted per lead and erased without touching a stage, a time or an amount.
"""

from dataclasses import field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import lifecycle
from domain.actor import current_actor
from domain.errors import N_, InvalidInput
from domain.lead_state import LeadState, captured_fields
from domain.sealed_reason import SealedReason, reason_into_personal
from domain.validation import (
    SHORT_MAX,
    TEXT_MAX,
    clean_amount,
    clean_choice,
    clean_currency,
    clean_text,
)
from domain.vocabulary import Channel, ContactOutcome, InteractionKind, Stage, Team


class Lead(Aggregate, LeadState):
    # v2: an unknown won amount is None (v1 snapshots held 0 for it, see upcast_v1_v2).
    # v3: the latest reason is personal data (``personal["last_reason"]``), sealed in snapshots.
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A v1 snapshot's won amount of 0 meant "unknown" (``DealWon.upcast_v1_v2``)."""
        amount = state.get("won_amount")
        if amount is not None and Decimal(amount) == 0:
            state["won_amount"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """A v2 snapshot held the latest reason in clear; its ``personal`` is still sealed
        here (the mapper opens it after upcasting), so that reason is dropped, not moved:
        nothing reads it but ``last_reason``, which the next reasoned event sets again."""
        state.pop("last_reason", None)

    class Event(Aggregate.Event):
        # Bump per event class and add an upcast_vN_vN+1 method when a schema changes.
        class_version = 1
        actor: str = field(default_factory=current_actor.get, init=False)
        occurred_at: datetime

    class Captured(Event, Aggregate.Created):
        personal: dict[str, str]
        company: str
        source: str
        sourced_by: str
        campaign: str
        landing_page: str
        persona: str
        external_key: str

    @staticmethod
    def capture(
        lead_id: UUID,
        *,
        name: str,
        email: str,
        phone: str = "",
        company: str = "",
        source: str,
        campaign: str = "",
        landing_page: str = "",
        persona: str = "",
        external_key: str = "",
        occurred_at: datetime | None = None,
        sourced_by: str | None = None,
    ) -> "Lead":
        """``sourced_by``: the team the vocabulary credits the source to (service layer,
        domain.sources); by default the built-in rule (domain.vocabulary.sourced_by)."""
        return Lead(
            id=lead_id,
            **captured_fields(
                name=name,
                email=email,
                phone=phone,
                company=company,
                source=source,
                campaign=campaign,
                landing_page=landing_page,
                persona=persona,
                external_key=external_key,
                occurred_at=occurred_at,
                sourced_by=sourced_by,
            ),
        )

    @event(Captured)
    def __init__(
        self,
        id: UUID,  # noqa: A002 - the library's name for a chosen aggregate id
        occurred_at: datetime,
        personal: dict[str, str],
        company: str,
        source: str,
        sourced_by: str,
        campaign: str,
        landing_page: str,
        persona: str,
        external_key: str,
    ) -> None:
        self.personal = dict(personal)
        self.company = company
        self.source = source
        self.sourced_by = sourced_by
        self.campaign = campaign
        self.landing_page = landing_page
        self.persona = persona
        self.external_key = external_key
        self._start(occurred_at)

    # --- interactions ---------------------------------------------------

    def record_interaction(
        self,
        kind: str,
        channel: str = Channel.OTHER.value,
        details: str = "",
        occurred_at: datetime | None = None,
    ) -> None:
        self._interaction_recorded(
            occurred_at=self._business_time(occurred_at),
            kind=clean_choice(kind, "kind", InteractionKind),
            channel=clean_choice(channel, "channel", Channel),
            personal=self._personal_note("details", details),
        )

    class InteractionRecorded(Event):
        kind: str
        channel: str
        personal: dict[str, str]

    @event(InteractionRecorded)
    def _interaction_recorded(
        self, occurred_at: datetime, kind: str, channel: str, personal: dict[str, str]
    ) -> None:
        self.interactions += 1
        self._touch(occurred_at)

    def attempt_contact(
        self,
        channel: str,
        outcome: str,
        note: str = "",
        occurred_at: datetime | None = None,
    ) -> None:
        self._contact_attempted(
            occurred_at=self._business_time(occurred_at),
            channel=clean_choice(channel, "channel", Channel),
            outcome=clean_choice(outcome, "outcome", ContactOutcome),
            personal=self._personal_note("note", note),
        )

    class ContactAttempted(Event):
        channel: str
        outcome: str
        personal: dict[str, str]

    @event(ContactAttempted)
    def _contact_attempted(
        self, occurred_at: datetime, channel: str, outcome: str, personal: dict[str, str]
    ) -> None:
        self.attempts += 1
        self._touch(occurred_at)

    # --- ownership ------------------------------------------------------

    def assign_owner(
        self, owner: str, team: str, occurred_at: datetime | None = None, rule: str = ""
    ) -> None:
        """``rule``: the assignment rule that chose the owner (domain.assignment), "" by hand."""
        owner = clean_text(owner, "owner", max_len=SHORT_MAX, required=True)
        team = clean_choice(team, "team", Team)
        if owner == self.owner and team == self.team:
            raise InvalidInput("owner", N_("%(owner)s already owns this lead"), owner=owner)
        self._owner_assigned(
            occurred_at=self._business_time(occurred_at),
            owner=owner,
            team=team,
            previous_owner=self.owner,
            rule=clean_text(rule, "rule", max_len=SHORT_MAX),
        )

    class OwnerAssigned(Event):
        class_version = 2  # v2: the assignment rule that decided ("" by hand, as every v1)
        owner: str
        team: str
        previous_owner: str
        rule: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["rule"] = ""

    @event(OwnerAssigned)
    def _owner_assigned(
        self, occurred_at: datetime, owner: str, team: str, previous_owner: str, rule: str
    ) -> None:
        self.owner = owner
        self.team = team
        self._touch(occurred_at)

    # --- lifecycle ------------------------------------------------------

    def change_stage(self, to_stage: str, reason: str = "", occurred_at: datetime | None = None) -> None:
        reason = clean_text(reason, "reason", max_len=TEXT_MAX)
        lifecycle.check_stage_change(self.stage, to_stage, reason)
        self._stage_changed(
            occurred_at=self._business_time(occurred_at),
            from_stage=self.stage,
            to_stage=to_stage,
            personal=self._sealed_reason(reason),
            skipped=lifecycle.skipped_stages(self.stage, to_stage),
        )

    class StageChanged(SealedReason, Event):
        class_version = 2  # v2: the reason moved into ``personal``
        from_stage: str
        to_stage: str
        personal: dict[str, str]
        skipped: list[str]
        upcast_v1_v2 = staticmethod(reason_into_personal)

    @event(StageChanged)
    def _stage_changed(
        self,
        occurred_at: datetime,
        from_stage: str,
        to_stage: str,
        personal: dict[str, str],
        skipped: list[str],
    ) -> None:
        self._enter(to_stage, occurred_at, personal)

    def reject_mql(self, reason: str, occurred_at: datetime | None = None) -> None:
        """Sales hands an MQL back to marketing, saying why (the feedback loop)."""
        reason = clean_text(reason, "reason", max_len=TEXT_MAX, required=True)
        lifecycle.check_can_reject(self.stage)
        self._mql_rejected(
            occurred_at=self._business_time(occurred_at),
            from_stage=self.stage,
            to_stage=Stage.LEAD.value,
            personal=self._sealed_reason(reason),
        )

    class MQLRejected(SealedReason, Event):
        class_version = 2  # v2: the reason moved into ``personal``
        from_stage: str
        to_stage: str
        personal: dict[str, str]
        upcast_v1_v2 = staticmethod(reason_into_personal)

    @event(MQLRejected)
    def _mql_rejected(
        self, occurred_at: datetime, from_stage: str, to_stage: str, personal: dict[str, str]
    ) -> None:
        self._enter(to_stage, occurred_at, personal)

    class DealWon(SealedReason, Event):
        """v2: ``amount`` is None when unknown (v1 stored 0 for it). v3: the reason moved
        into ``personal``."""

        class_version = 3
        from_stage: str
        to_stage: str
        amount: Decimal | None
        currency: str
        personal: dict[str, str]
        skipped: list[str]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Positive amounts are the only known ones (clean_amount refuses <= 0), so a
            # stored 0 was always the import's "amount unknown".
            if Decimal(state["amount"]) == 0:
                state["amount"] = None

        upcast_v2_v3 = staticmethod(reason_into_personal)

    def win_deal(
        self,
        amount: object,
        currency: str = "EUR",
        reason: str = "",
        occurred_at: datetime | None = None,
        amount_unknown: bool = False,
    ) -> None:
        """``amount_unknown``: the source never recorded one (imports); stored as None."""
        amount = None if amount_unknown else clean_amount(amount)
        currency = clean_currency(currency)
        reason = clean_text(reason, "reason", max_len=TEXT_MAX)
        lifecycle.check_can_win(self.stage, reason)
        self._deal_won(
            occurred_at=self._business_time(occurred_at),
            from_stage=self.stage,
            to_stage=Stage.CUSTOMER.value,
            amount=amount,
            currency=currency,
            personal=self._sealed_reason(reason),
            skipped=lifecycle.skipped_stages(self.stage, Stage.CUSTOMER),
        )

    @event(DealWon)
    def _deal_won(
        self,
        occurred_at: datetime,
        from_stage: str,
        to_stage: str,
        amount: Decimal | None,
        currency: str,
        personal: dict[str, str],
        skipped: list[str],
    ) -> None:
        self.won_amount = amount
        self.currency = currency
        self._enter(to_stage, occurred_at, personal)

    def correct_amount(
        self, amount: object, currency: str, reason: str, occurred_at: datetime | None = None
    ) -> None:
        """Correct the won deal's amount or currency (or set an amount that was unknown)."""
        if not self.has_won:
            raise InvalidInput("amount", N_("only a won deal's amount can be corrected"))
        amount = clean_amount(amount)
        currency = clean_currency(currency)
        reason = clean_text(reason, "reason", max_len=TEXT_MAX, required=True)
        if amount == self.won_amount and currency == self.currency:
            raise InvalidInput("amount", N_("the deal already has this amount and currency"))
        self._deal_amount_corrected(
            occurred_at=self._business_time(occurred_at),
            old_amount=self.won_amount,
            old_currency=self.currency,
            amount=amount,
            currency=currency,
            personal=self._sealed_reason(reason),
        )

    class DealAmountCorrected(SealedReason, Event):
        class_version = 2  # v2: the reason moved into ``personal``
        old_amount: Decimal | None
        old_currency: str
        amount: Decimal
        currency: str
        personal: dict[str, str]
        upcast_v1_v2 = staticmethod(reason_into_personal)

    @event(DealAmountCorrected)
    def _deal_amount_corrected(
        self,
        occurred_at: datetime,
        old_amount: Decimal | None,
        old_currency: str,
        amount: Decimal,
        currency: str,
        personal: dict[str, str],
    ) -> None:
        # Not a business activity of the lead: its stage and last activity stay as they were.
        self.won_amount = amount
        self.currency = currency

    def lose_deal(self, reason: str, occurred_at: datetime | None = None) -> None:
        reason = clean_text(reason, "reason", max_len=TEXT_MAX, required=True)
        lifecycle.check_can_lose(self.stage)
        self._deal_lost(
            occurred_at=self._business_time(occurred_at),
            from_stage=self.stage,
            to_stage=Stage.DISQUALIFIED.value,
            personal=self._sealed_reason(reason),
        )

    class DealLost(SealedReason, Event):
        class_version = 2  # v2: the reason moved into ``personal``
        from_stage: str
        to_stage: str
        personal: dict[str, str]
        upcast_v1_v2 = staticmethod(reason_into_personal)

    @event(DealLost)
    def _deal_lost(
        self, occurred_at: datetime, from_stage: str, to_stage: str, personal: dict[str, str]
    ) -> None:
        self._enter(to_stage, occurred_at, personal)

    # --- personal data ----------------------------------------------------

    def erase_personal_data(self, reason: str, occurred_at: datetime | None = None) -> None:
        """Record the erasure; the caller then deletes the lead's key (crypto-shredding)."""
        reason = clean_text(reason, "reason", max_len=TEXT_MAX, required=True)
        self._personal_data_erased(occurred_at=self._business_time(occurred_at), reason=reason)

    class PersonalDataErased(Event):
        reason: str

    @event(PersonalDataErased)
    def _personal_data_erased(self, occurred_at: datetime, reason: str) -> None:
        # Not a business activity: last_activity_at and the stage stay as they were.
        self.personal = dict.fromkeys(self.personal, "")
        self.erased = True
