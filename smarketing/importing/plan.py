"""From CSV rows to a plan: per row, the lead id and the events it will cause.

Nothing here touches the store, so a dry run and the web preview show exactly
what a real import will try; checks that need the store (does the lead exist?
may it still win?) happen in run.py.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from domain.errors import N_, DomainError, InvalidInput
from domain.lead import Lead
from domain.sources import SourceResolver
from domain.validation import (
    SHORT_MAX,
    clean_amount,
    clean_choice,
    clean_currency,
    clean_occurred_at,
    clean_text,
)
from domain.vocabulary import Stage, Team
from smarketing.importing.mapping import HISTORY_STAGES, Mapping, fit_to_header
from smarketing.importing.messages import Message
from smarketing.importing.parse import (
    AMOUNT_UNKNOWN,
    CellError,
    CsvData,
    RowError,
    RowWarning,
    parse_amount,
    parse_datetime,
)

ALREADY_IN_ROW = N_("%(value)s already appears in row %(row)s")


def lead_id_for(source_system: str, key: str) -> UUID:
    """Stable id: the same source record always becomes the same lead."""
    return uuid5(NAMESPACE_URL, f"smarketing:import:{source_system.strip().lower()}:{key.strip()}")


@dataclass
class Step:
    action: str  # capture | stage | owner | win
    at: datetime | None  # business time (None: the moment of saving)
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlannedRow:
    row: int
    key: str
    lead_id: UUID
    values: dict[str, str]
    steps: list[Step]
    warnings: list[RowWarning] = field(default_factory=list)
    lead: Lead | None = None  # leads only: built while validating, saved as is on the first try


@dataclass
class Plan:
    mapping: Mapping
    tz: ZoneInfo
    header: list[str]
    rows: list[PlannedRow]
    errors: list[RowError]
    warnings: list[RowWarning]
    total: int


class _RowRejected(Exception):
    def __init__(self, column: str, why: Message | str, **params: Any) -> None:
        self.why = why if isinstance(why, Message) else Message(why, params)
        super().__init__(str(self.why))
        self.column = column


class _Row:
    """Cell access through the mapping, with errors naming the CSV column."""

    def __init__(
        self,
        mapping: Mapping,
        values: dict[str, str],
        tz: ZoneInfo,
        now: datetime,
        sources: SourceResolver | None = None,
        email_key: Callable[[str], str] | None = None,
    ) -> None:
        self.mapping, self.values, self.tz, self.now = mapping, values, tz, now
        self.sources = sources or SourceResolver()
        self.email_key = email_key

    def column(self, target: str) -> str:
        return self.mapping.column(target) or f"({target})"

    def text(self, target: str) -> str:
        column = self.mapping.column(target)
        value = self.values.get(column, "").strip() if column else ""
        return value or self.mapping.defaults.get(target, "")

    def time(self, target: str) -> datetime | None:
        raw = self.text(target)
        if not raw:
            return None
        try:
            return clean_occurred_at(parse_datetime(raw, self.tz), self.now)
        except CellError as error:
            raise _RowRejected(self.column(target), error.message) from None
        except InvalidInput as error:
            raise _RowRejected(self.column(target), Message.of_error(error)) from None


def build_lead(planned: PlannedRow) -> Lead:
    """The new lead with all its events, in memory (built again if a save must be retried)."""
    capture, *rest = planned.steps
    lead = Lead.capture(planned.lead_id, occurred_at=capture.at, **capture.args)
    for step in rest:
        lead.change_stage(step.args["to_stage"], occurred_at=step.at or lead.captured_at)
    return lead


def _email_key(row: _Row) -> str:
    """Without a key column the e-mail identifies the row, as a keyed hash (never the
    address: the key and the lead id derived from it outlive an erasure)."""
    email = row.text("email")
    if not email:
        return ""
    if row.email_key is None:
        raise ValueError("make_plan needs email_key to import rows keyed by their e-mail")
    return row.email_key(email)


def _lead_row(row: _Row, number: int, seen: dict[str, dict[str, int]]) -> PlannedRow:
    mapping = row.mapping
    key = row.text("key") or _email_key(row)
    if not key:
        raise _RowRejected(row.column("key"), N_("is empty: each row needs a key"))
    fill = {"key": key, "key8": key[:8]}
    args = {
        name: row.text(name)
        for name in (
            "name",
            "email",
            "phone",
            "company",
            "source",
            "campaign",
            "landing_page",
            "persona",
        )
    }
    args["name"] = args["name"] or mapping.name_template.format(**fill)
    args["email"] = args["email"] or mapping.email_template.format(**fill)
    args["external_key"] = key[:SHORT_MAX]
    if args["source"]:  # to the vocabulary's key ("Eventos" -> events), or kept as a new source
        resolved = row.sources.source(args["source"])
        args["source"], args["sourced_by"] = resolved.key or args["source"], resolved.sourced_by
    args["campaign"] = row.sources.campaign(args["campaign"])
    at = row.time("captured_at")
    steps = [Step("capture", at, args)]
    if mapping.initial_stage:
        steps.append(Step("stage", at, {"to_stage": mapping.initial_stage}))
    planned = PlannedRow(number, key, lead_id_for(mapping.source_system, key), row.values, steps)
    try:
        lead = planned.lead = build_lead(
            planned
        )  # every domain rule, exactly as the real import will apply them
    except InvalidInput as error:
        column = "captured_at" if error.field == "occurred_at" else error.field
        raise _RowRejected(row.column(column), Message.of_error(error)) from None
    except DomainError as error:
        raise _RowRejected(row.column("key"), Message.of_error(error)) from None
    for kind, value in (("key", key), ("email", lead.personal["email"])):
        first = seen[kind].setdefault(value, number)
        if first != number:
            raise _RowRejected(row.column(kind), ALREADY_IN_ROW, value=repr(value), row=first)
    return planned


def _amount(row: _Row, warnings: list[RowWarning], number: int) -> dict[str, Any]:
    """The win's amount arguments: a clean amount, or "not recorded by the source"."""
    raw = row.text("amount")
    try:
        amount = parse_amount(raw) if raw else Decimal(0)
    except CellError as error:
        raise _RowRejected(row.column("amount"), error.message) from None
    if amount == 0 and row.mapping.missing_amount == "unknown":
        warnings.append(
            RowWarning(
                number,
                row.column("amount"),
                Message(
                    N_("amount %(amount)s is not a deal value: deal recorded without an amount (unknown)"),
                    {"amount": raw} if raw else {"amount": Message(N_("empty"))},
                ),
                kind=AMOUNT_UNKNOWN,
            )
        )
        return {"amount": None, "amount_unknown": True}
    try:
        return {"amount": clean_amount(amount)}
    except InvalidInput as error:
        raise _RowRejected(row.column("amount"), Message.of_error(error)) from None


def _deal_row(row: _Row, number: int, seen: dict[str, dict[str, int]]) -> PlannedRow:
    mapping = row.mapping
    key = row.text("key")
    if not key:
        raise _RowRejected(row.column("key"), N_("is empty: each row needs the lead's key"))
    warnings: list[RowWarning] = []
    stage = row.text("stage")
    canonical = {s.lower(): s for s in HISTORY_STAGES}
    if stage and stage.lower() not in canonical:
        choices = ", ".join(HISTORY_STAGES)
        raise _RowRejected(row.column("stage"), N_("must be one of %(choices)s"), choices=choices)
    stage = canonical.get(stage.lower(), "")
    stage_at, won_at = row.time("stage_at"), row.time("won_at")
    if stage == Stage.CUSTOMER and not won_at:
        raise _RowRejected(row.column("won_at"), N_("is required when the stage is Customer"))
    owner = row.text("owner")
    steps: list[Step] = []
    if owner:
        try:
            owner = clean_text(owner, "owner", max_len=SHORT_MAX)
            team = clean_choice(row.text("team") or Team.SALES.value, "team", Team)
        except InvalidInput as error:
            raise _RowRejected(row.column(error.field), Message.of_error(error)) from None
        steps.append(Step("owner", won_at or stage_at, {"owner": owner, "team": team}))
    if stage and stage != Stage.CUSTOMER:
        steps.append(Step("stage", stage_at or won_at, {"to_stage": stage}))
    if won_at:
        amount_args = _amount(row, warnings, number)
        try:
            currency = clean_currency(row.text("currency") or mapping.currency)
        except InvalidInput as error:
            raise _RowRejected(row.column("currency"), Message.of_error(error)) from None
        steps.append(Step("win", won_at, amount_args | {"currency": currency}))
    if not steps:
        raise _RowRejected(row.column("won_at"), N_("the row has no owner, stage or won date to import"))
    first = seen["key"].setdefault(key, number)
    if first != number:
        raise _RowRejected(row.column("key"), ALREADY_IN_ROW, value=repr(key), row=first)
    return PlannedRow(number, key, lead_id_for(mapping.source_system, key), row.values, steps, warnings)


def new_seen() -> dict[str, dict[str, int]]:
    return {"key": {}, "email": {}}


def make_plan(
    data: CsvData,
    mapping: Mapping,
    tz: ZoneInfo,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    sources: SourceResolver | None = None,
    seen: dict[str, dict[str, int]] | None = None,
    email_key: Callable[[str], str] | None = None,
) -> Plan:
    """``sources``: the vocabulary's words (``app.source_resolver()``); built-in only by default.
    ``seen``: keys and e-mails of earlier batches of the same file, by first row (updated).
    ``email_key``: the key of a row without one (``app.email_key``), needed for such rows."""
    mapping = fit_to_header(mapping, data.header)
    now = now or datetime.now(UTC)
    plan = Plan(mapping, tz, data.header, [], list(data.errors), [], data.total)
    seen = seen if seen is not None else new_seen()
    planner = _lead_row if mapping.kind == "leads" else _deal_row
    for i, (number, values) in enumerate(data.rows, start=1):
        try:
            if values.pop("\0extra", None):
                raise _RowRejected("", N_("has more cells than the header has columns"))
            planned = planner(_Row(mapping, values, tz, now, sources, email_key), number, seen)
        except _RowRejected as rejected:
            plan.errors.append(RowError(number, rejected.column, rejected.why, values))
        else:
            plan.rows.append(planned)
            plan.warnings += planned.warnings
        if progress and i % 1000 == 0:
            progress(1000)
    if progress:
        progress(len(data.rows) % 1000)
    return plan
