"""The Lead aggregate's state as read and the changes its events share, and the cleaning
of a captured lead's fields: no events here (they stay on ``domain.lead.Lead``, whose
stored topics name them), so ``Lead`` reads as its commands and events."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self

from domain import lifecycle
from domain.aggregate_copy import deepcopy_state
from domain.errors import N_, InvalidInput
from domain.validation import (
    NAME_MAX,
    SHORT_MAX,
    TEXT_MAX,
    clean_choice,
    clean_email,
    clean_occurred_at,
    clean_text,
    utc_now,
)
from domain.vocabulary import Stage, Team
from domain.vocabulary import sourced_by as source_team


def captured_fields(
    *,
    name: str,
    email: str,
    phone: str,
    company: str,
    source: str,
    campaign: str,
    landing_page: str,
    persona: str,
    external_key: str,
    occurred_at: datetime | None,
    sourced_by: str | None,
) -> dict[str, Any]:
    """``Lead.capture``'s arguments, cleaned, as ``Lead.Captured`` takes them (bar the id)."""
    source = clean_text(source, "source", max_len=SHORT_MAX, required=True).lower()
    personal = {
        "name": clean_text(name, "name", max_len=NAME_MAX, required=True),
        "email": clean_email(email),
        "phone": clean_text(phone, "phone", max_len=40),
    }
    return {
        "occurred_at": clean_occurred_at(occurred_at, utc_now()),
        "personal": personal,
        "company": clean_text(company, "company", max_len=NAME_MAX),
        "source": source,
        "sourced_by": clean_choice(sourced_by, "sourced_by", Team)
        if sourced_by
        else source_team(source).value,
        "campaign": clean_text(campaign, "campaign", max_len=SHORT_MAX),
        "landing_page": clean_text(landing_page, "landing_page", max_len=SHORT_MAX),
        "persona": clean_text(persona, "persona", max_len=SHORT_MAX),
        "external_key": clean_text(external_key, "external_key", max_len=SHORT_MAX),
    }


class LeadState:
    """Mixed into ``Lead``: its state as read (``as_dict``, ``is_erased``, ``has_won``,
    ``last_reason``), the guards on personal data its commands share, and the state
    changes its events share (``_enter``, ``_touch``)."""

    if TYPE_CHECKING:  # set by Lead's events (domain.lead); declared here for the type checker
        id: Any
        version: int
        personal: dict[str, str]
        stage: str
        stage_entered_at: datetime
        last_activity_at: datetime
        won_amount: Decimal | None
        currency: str

    @property
    def has_won(self) -> bool:
        """A deal was won (its currency is set then, even when its amount is unknown)."""
        return bool(self.currency)

    @property
    def is_erased(self) -> bool:
        # Snapshots taken before ``erased`` existed still show it: a captured lead
        # always has an e-mail, so all-blank personal data means an erasure.
        return bool(getattr(self, "erased", False)) or not any(self.personal.values())

    def _personal_note(self, name: str, text: str) -> dict[str, str]:
        """A free-text note about the person, refused once the person asked to be forgotten:
        sealing it would need a new key, and the erased events would no longer open."""
        text = clean_text(text, name, max_len=TEXT_MAX)
        if text and self.is_erased:
            raise InvalidInput(
                name, N_("this person's data was erased: record the interaction without a note")
            )
        return {name: text}

    def _sealed_reason(self, reason: str) -> dict[str, str]:
        """A cleaned reason as the ``personal`` it travels in; refused once the person was
        erased, for the same cause as a note (``_personal_note``)."""
        if reason and self.is_erased:
            raise InvalidInput("reason", N_("this person's data was erased: a reason cannot be recorded"))
        return {"reason": reason}

    # --- helpers (state only, no rules) -----------------------------------

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        # Called by the library for every lead it hands out from its cache.
        return deepcopy_state(self, memo)

    def _start(self, occurred_at: datetime) -> None:
        """A captured lead's state besides what it was captured with."""
        self.stage = Stage.LEAD.value
        self.captured_at = occurred_at
        self.stage_entered_at = occurred_at
        self.last_activity_at = occurred_at
        self.owner = ""
        self.team = ""
        self.attempts = 0
        self.interactions = 0
        self.won_amount = None
        self.currency = ""

    def allowed_moves(self) -> list[str]:
        return lifecycle.allowed_moves(self.stage)

    def _business_time(self, occurred_at: datetime | None) -> datetime:
        return clean_occurred_at(occurred_at, utc_now())

    @property
    def last_reason(self) -> str:
        """The latest stage change's reason (personal data: blank after erasure)."""
        return self.personal.get("last_reason", "")

    def _enter(self, stage: str, occurred_at: datetime, personal: dict[str, str]) -> None:
        self.stage = stage
        self.stage_entered_at = occurred_at
        self.personal["last_reason"] = personal.get("reason", "")
        self._touch(occurred_at)

    def _touch(self, occurred_at: datetime) -> None:
        # Imports may add older history later; "last activity" is the latest business time.
        self.last_activity_at = max(self.last_activity_at, occurred_at)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "version": self.version,
            **{name: self.personal.get(name, "") for name in ("name", "email", "phone")},
            **{name: getattr(self, name) for name in _SHOWN},
            "allowed_moves": self.allowed_moves(),
        }


# The lead's state as ``as_dict`` gives it, after its id, version and personal data.
_SHOWN = (
    "company", "source", "sourced_by", "campaign", "landing_page", "persona", "stage", "owner", "team",
    "attempts", "interactions", "captured_at", "stage_entered_at", "last_activity_at", "won_amount",
    "currency", "is_erased",
)  # fmt: skip
