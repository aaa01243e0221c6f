"""Service commands for the SLA agreement, mixed into ``SmarketingApplication``."""

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.agreement import AgreementConflict, SLAAgreement, agreement_id, target_change
from domain.errors import N_

if TYPE_CHECKING:
    from eventsourcing.application import Application

    _Base = Application[UUID]
else:
    _Base = object


class AgreementCommands(_Base):
    def set_target(
        self,
        month: str,
        metric: str,
        value: object,
        reason: str = "",
        occurred_at: datetime | None = None,
        slice_by: str = "",
        slice_value: str = "",
    ) -> int:
        """Record one change of one monthly target (of the whole company, or of one source's
        or owner's slice); return the agreement's new version."""
        # One retry: the only expected conflict is two first targets racing to create
        # the agreement, or two edits at once; the rules then run on fresh state.
        for attempt in range(2):
            agreement = self._agreement() or SLAAgreement.start(occurred_at)
            agreement.set_target(month, metric, value, reason, occurred_at, slice_by, slice_value)
            try:
                self.save(agreement)
            except IntegrityError:
                if attempt:
                    raise AgreementConflict(
                        N_(
                            "Someone else changed the SLA agreement at the same moment; "
                            "nothing of yours was saved. Reload and try again."
                        )
                    ) from None
                continue
            return agreement.version
        raise AssertionError("unreachable")

    def agreement_history(self) -> list[dict[str, Any]]:
        """Every target change, oldest first."""
        events = self.repository.event_store.get(agreement_id())
        return [target_change(e) for e in events if isinstance(e, SLAAgreement.TargetSet)]

    def _agreement(self) -> SLAAgreement | None:
        try:
            return self.repository.get(agreement_id())
        except AggregateNotFoundError:
            return None
