"""Service commands for the agreement's standing terms, the shared vocabulary,
the joint meetings and the lead-scoring rule; mixed into ``SmarketingApplication``."""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.actor import current_actor
from domain.agreement import AgreementConflict, SLAAgreement, agreement_id
from domain.agreement_terms import SCORING, scoring_config, section_values
from domain.errors import N_, InvalidInput
from domain.lead import Lead
from domain.meeting import Meeting, clean_period, meeting_id
from domain.scoring import AUTO_PROMOTE, RULE_ACTOR, is_ready, score
from domain.sources import SourceResolver
from domain.vocabulary import Stage
from domain.vocabulary_book import Vocabulary, vocabulary_id

if TYPE_CHECKING:
    from smarketing.store.application import StoredApplication

    _Base = StoredApplication
else:
    _Base = object

A = TypeVar("A", bound=Aggregate)


class TermsCommands(_Base):
    # --- the agreement's standing terms ---------------------------------

    def set_terms(
        self, section: str, values: dict[str, Any], reason: str = "", occurred_at: datetime | None = None
    ) -> int:
        return self._change(
            agreement_id(),
            lambda: SLAAgreement.start(occurred_at),
            lambda a: a.set_terms(section, values, reason, occurred_at),
        )

    def agreement_terms(self) -> dict[str, dict[str, Any]]:
        """The sections set so far, from the write model (always current)."""
        # Read only: no deep copy of the whole agreement (targets and all) from the
        # cache, which every recorded interaction would pay for; sections are copied.
        agreement = self.peek(agreement_id())
        return {section: dict(values) for section, values in (getattr(agreement, "terms", {}) or {}).items()}

    # --- the shared vocabulary --------------------------------------------

    def save_persona(
        self, name: str, reason: str = "", occurred_at: datetime | None = None, **text: Any
    ) -> int:
        return self._change(
            vocabulary_id(),
            lambda: Vocabulary.start(occurred_at),
            lambda v: v.save_persona(name, reason, occurred_at, **text),
        )

    def remove_persona(self, name: str, reason: str) -> int:
        return self._change(vocabulary_id(), Vocabulary.start, lambda v: v.remove_persona(name, reason))

    def set_criteria(
        self, stage: str, text: str, reason: str = "", occurred_at: datetime | None = None
    ) -> int:
        return self._change(
            vocabulary_id(),
            lambda: Vocabulary.start(occurred_at),
            lambda v: v.set_criteria(stage, text, reason, occurred_at),
        )

    def accept_source(
        self, key: str, labels: dict[str, str], sourced_by: str = "marketing", reason: str = ""
    ) -> int:
        return self._change(
            vocabulary_id(),
            Vocabulary.start,
            lambda v: v.accept_source(key, dict(labels), sourced_by, reason),
        )

    def merge_source(self, key: str, into: str, reason: str = "") -> int:
        return self._change(vocabulary_id(), Vocabulary.start, lambda v: v.merge_source(key, into, reason))

    def label_campaign(self, name: str, labels: dict[str, str], reason: str = "") -> int:
        return self._change(
            vocabulary_id(), Vocabulary.start, lambda v: v.label_campaign(name, dict(labels), reason)
        )

    def source_resolver(self, campaigns: Iterable[str] = ()) -> SourceResolver:
        """Typed sources and campaigns to the vocabulary's words, as it reads now (write model).

        ``campaigns``: those the leads already carry (the caller reads them), matched
        like sources so "Feria Digital" is written as the existing "feria-digital"."""
        book = self.peek(vocabulary_id())
        accepted = getattr(book, "sources", {}) or {}
        merged = getattr(book, "merged", {}) or {}
        labelled = list(getattr(book, "campaigns", {}) or {})
        return SourceResolver(accepted, merged, [*labelled, *campaigns])

    # --- joint meetings ----------------------------------------------------

    def record_meeting(self, kind: str, period: str, **entry: Any) -> int:
        period = clean_period(kind, period)
        return self._change(
            meeting_id(kind, period), lambda: Meeting.hold(kind, period), lambda m: m.record(**entry)
        )

    def mark_action_done(self, meeting: UUID, number: int, note: str = "") -> int:
        found = self._get(meeting)
        if not isinstance(found, Meeting):
            raise InvalidInput("meeting", N_("there is no such meeting"))
        return self._change(meeting, lambda: found, lambda m: m.mark_done(number, note))

    # --- lead scoring --------------------------------------------------------

    def promote_if_scored(
        self, lead_id: str, now: datetime | None = None, terms: dict[str, dict[str, Any]] | None = None
    ) -> float | None:
        """In auto-promote mode, move a Lead whose score reached the threshold to MQL.

        Scored from the write model (the lead's own events), so it is exact right
        after an interaction is saved; returns the score when it promoted. ``terms``:
        the agreement's terms if the caller knows them current (else read here).
        """
        if terms is None:
            terms = self.agreement_terms()
        config = scoring_config(section_values(terms, SCORING))
        if config.mode != AUTO_PROMOTE:
            return None
        lead = self._get(UUID(str(lead_id)))
        if not isinstance(lead, Lead) or lead.stage != Stage.LEAD:
            return None
        # Only now the whole stream: the score needs every interaction's time.
        events = list(self.repository.event_store.get(UUID(str(lead_id))))
        value = score(scored_interactions(events), now or datetime.now(UTC), config)
        if not is_ready(value, config):
            return None
        self.promote_by_rule(lead_id, value, config.threshold)
        return value

    def promote_by_rule(self, lead_id: str, value: float, threshold: float) -> int:
        token = current_actor.set(RULE_ACTOR)
        try:
            reason = f"Lead score {value:g} reached the MQL threshold {threshold:g} (lead-scoring rule)"
            return self.change_stage(lead_id, to_stage=Stage.MQL.value, reason=reason)  # type: ignore[attr-defined]
        finally:
            current_actor.reset(token)

    # --- internals -------------------------------------------------------------

    def _get(self, aggregate_id: UUID) -> Any:
        """The aggregate or None (for reading only, ``peek``)."""
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def _change(self, aggregate_id: UUID, create: Callable[[], A], change: Callable[[A], None]) -> int:
        # One retry: the expected conflicts are two first writes racing to create
        # the aggregate, or two edits at once; the rules then run on fresh state.
        for attempt in range(2):
            aggregate = self._get(aggregate_id) or create()
            change(aggregate)
            try:
                self.save(aggregate)
            except IntegrityError:
                if attempt:
                    raise AgreementConflict(
                        N_(
                            "Someone else changed this at the same moment; nothing of yours was saved. "
                            "Reload and try again."
                        )
                    ) from None
                continue
            return aggregate.version
        raise AssertionError("unreachable")


def scored_interactions(events: list[Any]) -> list[tuple[str, datetime]]:
    """The interactions that count toward a lead's score.

    After a lead has been an MQL and come back to Lead (rejected or recycled),
    only interactions since its return count: the earlier ones already bought
    it one MQL hand-over.
    """
    since: datetime | None = None
    for e in events:
        if (
            isinstance(e, Lead.Event)
            and getattr(e, "to_stage", None) == Stage.LEAD
            and hasattr(e, "from_stage")
        ):
            since = e.occurred_at
    return [
        (e.kind, e.occurred_at)
        for e in events
        if isinstance(e, Lead.InteractionRecorded) and (since is None or e.occurred_at >= since)
    ]
