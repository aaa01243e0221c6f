"""The words both teams agreed to use, written down and versioned as events:
buyer personas and the criteria a lead must meet to become an MQL or an SQL.

One book per company (a fixed uuid5 id, like the agreement). Each change is
one event carrying the previous text, so the history is the log itself and a
page can show "who changed the MQL criteria, when, from what, and why".
"""

from dataclasses import field
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import current_actor
from domain.errors import N_, InvalidInput
from domain.sources import BUILT_IN, LANGUAGES, normalise
from domain.validation import SHORT_MAX, TEXT_MAX, clean_occurred_at, clean_text, utc_now
from domain.vocabulary import Stage, Team

# The stages whose entry the teams defined in words.
CRITERIA_STAGES = (Stage.MQL.value, Stage.SQL.value)
PERSONA_FIELDS = ("description", "pains", "signals")


def vocabulary_id() -> UUID:
    return uuid5(NAMESPACE_URL, "smarketing:vocabulary")


class Vocabulary(Aggregate):
    class Event(Aggregate.Event):
        class_version = 1
        actor: str = field(default_factory=current_actor.get, init=False)
        occurred_at: datetime

    class Created(Event, Aggregate.Created):
        pass

    @classmethod
    def start(cls, occurred_at: datetime | None = None) -> "Vocabulary":
        return cls(id=vocabulary_id(), occurred_at=clean_occurred_at(occurred_at, utc_now()))

    @event(Created)
    def __init__(self, id: UUID, occurred_at: datetime) -> None:  # noqa: A002 - library's name
        self.personas: dict[str, dict[str, str]] = {}
        self.criteria: dict[str, str] = {}
        self.sources: dict[str, dict[str, str]] = {}  # accepted: key -> es, en, sourced_by
        self.merged: dict[str, str] = {}  # new source key -> the known source it counts as
        self.campaigns: dict[str, dict[str, str]] = {}  # campaign -> es, en

    def save_persona(
        self, name: object, reason: object = "", occurred_at: datetime | None = None, **text: object
    ) -> None:
        name = clean_text(name, "name", max_len=SHORT_MAX, required=True)
        values = {f: clean_text(text.get(f), f, max_len=TEXT_MAX) for f in PERSONA_FIELDS}
        previous = self.personas.get(name)
        if previous == values:
            raise InvalidInput("name", N_("persona %(name)s already reads like this"), name=name)
        self._persona_saved(
            occurred_at=clean_occurred_at(occurred_at, utc_now()),
            name=name,
            values=values,
            previous_values=previous,
            reason=clean_text(reason, "reason", max_len=TEXT_MAX),
        )

    class PersonaSaved(Event):
        name: str
        values: dict[str, str]
        previous_values: dict[str, str] | None
        reason: str

    @event(PersonaSaved)
    def _persona_saved(
        self,
        occurred_at: datetime,
        name: str,
        values: dict[str, str],
        previous_values: dict[str, str] | None,
        reason: str,
    ) -> None:
        self.personas[name] = dict(values)

    def remove_persona(self, name: object, reason: object, occurred_at: datetime | None = None) -> None:
        name = clean_text(name, "name", max_len=SHORT_MAX, required=True)
        if name not in self.personas:
            raise InvalidInput("name", N_("there is no persona called %(name)s"), name=name)
        self._persona_removed(
            occurred_at=clean_occurred_at(occurred_at, utc_now()),
            name=name,
            previous_values=self.personas[name],
            reason=clean_text(reason, "reason", max_len=TEXT_MAX, required=True),
        )

    class PersonaRemoved(Event):
        name: str
        previous_values: dict[str, str]
        reason: str

    @event(PersonaRemoved)
    def _persona_removed(
        self, occurred_at: datetime, name: str, previous_values: dict[str, str], reason: str
    ) -> None:
        del self.personas[name]

    def set_criteria(
        self, stage: object, text: object, reason: object = "", occurred_at: datetime | None = None
    ) -> None:
        stage = str(stage or "").strip()
        if stage not in CRITERIA_STAGES:
            raise InvalidInput("stage", N_("must be one of %(stages)s"), stages=", ".join(CRITERIA_STAGES))
        text = clean_text(text, "text", max_len=TEXT_MAX, required=True)
        previous = self.criteria.get(stage)
        if previous == text:
            raise InvalidInput("text", N_("the %(stage)s criteria already read like this"), stage=stage)
        reason = clean_text(reason, "reason", max_len=TEXT_MAX)
        if previous is not None and not reason:
            raise InvalidInput("reason", N_("is required to revise the %(stage)s criteria"), stage=stage)
        self._criteria_set(
            occurred_at=clean_occurred_at(occurred_at, utc_now()),
            stage=stage,
            text=text,
            previous_text=previous,
            reason=reason,
        )

    class CriteriaSet(Event):
        stage: str
        text: str
        previous_text: str | None
        reason: str

    @event(CriteriaSet)
    def _criteria_set(
        self, occurred_at: datetime, stage: str, text: str, previous_text: str | None, reason: str
    ) -> None:
        self.criteria[stage] = text

    # --- sources and campaigns (domain.sources) ---------------------------------

    def known_source(self, key: str) -> bool:
        return key in BUILT_IN or key in self.sources

    def accept_source(
        self,
        key: object,
        labels: dict[str, object],
        sourced_by: object = Team.MARKETING.value,
        reason: object = "",
        occurred_at: datetime | None = None,
    ) -> None:
        """A new source becomes known, with its labels and the team it credits."""
        key = normalise(clean_text(key, "source", max_len=SHORT_MAX, required=True))
        if not key or self.known_source(key):
            raise InvalidInput("source", N_("%(source)s is already a known source"), source=key)
        if key in self.merged:
            raise InvalidInput(
                "source", N_("%(source)s was merged into %(into)s"), source=key, into=self.merged[key]
            )
        words = {
            lang: clean_text(labels.get(lang), f"label_{lang}", max_len=SHORT_MAX, required=True)
            for lang in LANGUAGES
        }
        team = str(sourced_by or "").strip()
        if team not in (Team.MARKETING.value, Team.SALES.value):
            raise InvalidInput("sourced_by", N_("must be marketing or sales"))
        self._source_accepted(
            occurred_at=clean_occurred_at(occurred_at, utc_now()),
            key=key,
            labels=words,
            sourced_by=team,
            reason=clean_text(reason, "reason", max_len=TEXT_MAX),
        )

    class SourceAccepted(Event):
        key: str
        labels: dict[str, str]
        sourced_by: str
        reason: str

    @event(SourceAccepted)
    def _source_accepted(
        self, occurred_at: datetime, key: str, labels: dict[str, str], sourced_by: str, reason: str
    ) -> None:
        self.sources[key] = dict(labels) | {"sourced_by": sourced_by}

    def merge_source(
        self, key: object, into: object, reason: object = "", occurred_at: datetime | None = None
    ) -> None:
        """A new source's leads count, from now on, as the known source ``into``'s."""
        key = normalise(clean_text(key, "source", max_len=SHORT_MAX, required=True))
        into = normalise(clean_text(into, "into", max_len=SHORT_MAX, required=True))
        if key in BUILT_IN or key in self.sources:
            raise InvalidInput(
                "source", N_("%(source)s is a known source; only new ones are merged"), source=key
            )
        if key in self.merged:
            raise InvalidInput(
                "source", N_("%(source)s was merged into %(into)s"), source=key, into=self.merged[key]
            )
        if not self.known_source(into):
            raise InvalidInput("into", N_("%(source)s is not a known source"), source=into)
        self._source_merged(
            occurred_at=clean_occurred_at(occurred_at, utc_now()),
            key=key,
            into=into,
            reason=clean_text(reason, "reason", max_len=TEXT_MAX),
        )

    class SourceMerged(Event):
        key: str
        into: str
        reason: str

    @event(SourceMerged)
    def _source_merged(self, occurred_at: datetime, key: str, into: str, reason: str) -> None:
        self.merged[key] = into

    def label_campaign(
        self,
        name: object,
        labels: dict[str, object],
        reason: object = "",
        occurred_at: datetime | None = None,
    ) -> None:
        """The words a campaign is shown with (the campaign itself stays as the leads carry it)."""
        name = clean_text(name, "campaign", max_len=SHORT_MAX, required=True)
        words = {
            lang: clean_text(labels.get(lang), f"label_{lang}", max_len=SHORT_MAX, required=True)
            for lang in LANGUAGES
        }
        if self.campaigns.get(name) == words:
            raise InvalidInput("campaign", N_("%(campaign)s already reads like this"), campaign=name)
        self._campaign_labelled(
            occurred_at=clean_occurred_at(occurred_at, utc_now()),
            name=name,
            labels=words,
            previous_labels=self.campaigns.get(name),
            reason=clean_text(reason, "reason", max_len=TEXT_MAX),
        )

    class CampaignLabelled(Event):
        name: str
        labels: dict[str, str]
        previous_labels: dict[str, str] | None
        reason: str

    @event(CampaignLabelled)
    def _campaign_labelled(
        self,
        occurred_at: datetime,
        name: str,
        labels: dict[str, str],
        previous_labels: dict[str, str] | None,
        reason: str,
    ) -> None:
        self.campaigns[name] = dict(labels)


def vocabulary_change(event: Any) -> dict[str, Any] | None:
    """One change as (kind, key, value, previous), for the history read model."""
    if isinstance(event, Vocabulary.PersonaSaved):
        return {
            "kind": "persona",
            "key": event.name,
            "value": event.values,
            "previous": event.previous_values,
        }
    if isinstance(event, Vocabulary.PersonaRemoved):
        return {"kind": "persona", "key": event.name, "value": None, "previous": event.previous_values}
    if isinstance(event, Vocabulary.CriteriaSet):
        return {"kind": "criteria", "key": event.stage, "value": event.text, "previous": event.previous_text}
    if isinstance(event, Vocabulary.SourceAccepted):
        value = dict(event.labels) | {"sourced_by": event.sourced_by}
        return {"kind": "source", "key": event.key, "value": value, "previous": None}
    if isinstance(event, Vocabulary.SourceMerged):
        return {"kind": "source_merge", "key": event.key, "value": {"into": event.into}, "previous": None}
    if isinstance(event, Vocabulary.CampaignLabelled):
        return {
            "kind": "campaign",
            "key": event.name,
            "value": event.labels,
            "previous": event.previous_labels,
        }
    return None
