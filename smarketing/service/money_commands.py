"""Service commands for money, mixed into ``SmarketingApplication``: the agreement's
base currency and exchange rates (``domain.money``); each an event on the agreement."""

from datetime import datetime
from typing import TYPE_CHECKING

from domain.agreement import SLAAgreement, agreement_id

if TYPE_CHECKING:
    from smarketing.service.terms_commands import TermsCommands

    _Base = TermsCommands
else:
    _Base = object


class MoneyCommands(_Base):
    def set_base_currency(self, currency: str, reason: str = "", occurred_at: datetime | None = None) -> int:
        return self._change(
            agreement_id(),
            lambda: SLAAgreement.start(occurred_at),
            lambda a: a.set_base_currency(currency, reason, occurred_at),
        )

    def set_exchange_rate(
        self,
        currency: str,
        rate: object,
        valid_from: object,
        reason: str = "",
        occurred_at: datetime | None = None,
    ) -> int:
        """One unit of ``currency`` is worth ``rate`` base units from ``valid_from`` (YYYY-MM-DD)."""
        return self._change(
            agreement_id(),
            lambda: SLAAgreement.start(occurred_at),
            lambda a: a.set_exchange_rate(currency, rate, valid_from, reason, occurred_at),
        )
