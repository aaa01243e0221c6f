"""Running a plan against the store: skip what exists, save in atomic chunks.

Each chunk is one ``app.save(*aggregates)``, i.e. one transaction; a lead's
events are never split across two. If a chunk is refused (someone else wrote
one of those leads or e-mails meanwhile), its leads are retried one by one, so
one conflict rejects one row, not the whole chunk.

Imports never run the daily loop (no rule assigns an imported MQL, no follow-up task,
no e-mail): the rows are history another system recorded, owners and follow-ups
included. Their MQLs entered days or years ago, so a rule's assignment and a task due
at a deadline long past would be made up now and announce thousands of "overdue"
reminders at once; even a recent one was handled (or not) in the old tool, whose
owner the row carries. The leads are saved as built aggregates (``capture_many``),
never through the commands that run the loop (``use_after_lead_change``); an MQL that
needs an owner is assigned on its page or by the API, which runs the loop from then on.
"""

import copy
import csv
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, PersistenceError
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError

from domain.email_index import legacy_email_index_id
from domain.errors import N_, DomainError
from domain.lead import Lead
from domain.lifecycle import funnel_rank
from domain.sources import SourceResolver
from projections.models.data_quality import STAGE_BEFORE_FIRST_CONTACT, WON_BEFORE_FIRST_CONTACT
from smarketing.importing.mapping import Mapping
from smarketing.importing.messages import Message, say
from smarketing.importing.parse import CsvData, RowError, RowWarning
from smarketing.importing.plan import Plan, PlannedRow, build_lead, make_plan, new_seen
from smarketing.present.exporting import BOM, MACHINE, CsvStyle, safe_cell
from smarketing.store.private_files import open_private_text

CHUNK = 500
# The store refused to write (read-only, locked past its timeout, gone): the import stops
# with a message; what was saved stays saved, and importing the file again skips it.
STORE_ERRORS = (PersistenceError, DBAPIError, sqlite3.Error, psycopg.Error)
IMPORTED_DEAL_REASON = "Imported closed deal"
IMPORTED_STAGE_REASON = "Imported history"
CHANGED_MEANWHILE = N_("the lead was changed by someone else during the import; import the file again")


@dataclass
class ImportResult:
    kind: str
    total: int
    imported: int = 0
    skipped: int = 0
    events: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.total,
            "imported": self.imported,
            "skipped": self.skipped,
            "rejected": len(self.errors),
            "warnings": len(self.warnings),
            "warnings_by_kind": self.warning_counts(),
            "events": self.events,
            "dry_run": self.dry_run,
        }

    def add(self, part: "ImportResult") -> None:
        """Count in the result of the file's next batch."""
        self.total += part.total
        self.imported += part.imported
        self.skipped += part.skipped
        self.events += part.events
        self.errors += part.errors
        self.warnings += part.warnings

    def warning_counts(self) -> dict[str, int]:
        """Warnings per kind, the most frequent first (ties by kind)."""
        counted = Counter(w.kind for w in self.warnings)
        return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))

    def warnings_of(self, kind: str) -> list[RowWarning]:
        return [w for w in self.warnings if w.kind == kind]


def _exists(app: Any, aggregate_id: UUID) -> bool:
    # One indexed row read; cheaper than rebuilding the aggregate to find out.
    return bool(app.recorder.select_events(aggregate_id, limit=1))


def _chunks(rows: list[PlannedRow], size: int) -> Iterator[list[PlannedRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def run_plan(
    app: Any,
    plan: Plan,
    *,
    dry_run: bool = False,
    chunk_size: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    result = ImportResult(plan.mapping.kind, plan.total, dry_run=dry_run)
    result.errors = list(plan.errors)
    # Planning warnings (such as amounts the source never recorded) count only for rows imported.
    if progress:
        progress(len(plan.errors))  # rejected while planning: done already
    runner = _run_leads if plan.mapping.kind == "leads" else _run_deals
    for chunk in _chunks(plan.rows, chunk_size):
        runner(app, plan, chunk, result, dry_run)
        if progress:
            progress(len(chunk))
    result.errors.sort(key=lambda e: e.row)
    result.warnings.sort(key=lambda w: w.row)
    return result


def store_refused(error: BaseException) -> Message:
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    return Message(
        N_(
            "The database cannot be written now (read-only, or locked by another process): %(error)s. "
            "Rows imported before this are kept; import the same file again later to finish "
            "(rows already imported are skipped)."
        ),
        {"error": first_line},
    )


def import_batches(
    app: Any,
    batches: Iterable[CsvData],
    mapping: Mapping,
    tz: ZoneInfo,
    *,
    sources: SourceResolver | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Plan and run a file one batch at a time (``parse.csv_batches``), so memory holds one
    batch, not the file; keys and e-mails are checked for repeats across the whole file.
    ``progress`` advances by one per row (rejected or imported), as ``run_plan``'s."""
    result = ImportResult(mapping.kind, 0, dry_run=dry_run)
    seen = new_seen()
    for batch in batches:
        plan = make_plan(batch, mapping, tz, sources=sources, seen=seen, email_key=app.email_key)
        result.add(run_plan(app, plan, dry_run=dry_run, progress=progress))
    result.errors.sort(key=lambda e: e.row)
    result.warnings.sort(key=lambda w: w.row)
    return result


# --- leads ----------------------------------------------------------------


def _run_leads(app: Any, plan: Plan, chunk: list[PlannedRow], result: ImportResult, dry_run: bool) -> None:
    new: list[PlannedRow] = []
    for planned in chunk:
        if _exists(app, planned.lead_id):
            result.skipped += 1
            continue
        email = planned.steps[0].args["email"].strip().lower()
        if _exists(app, app.email_index_id(email)) or _exists(app, legacy_email_index_id(email)):
            result.errors.append(
                RowError(
                    planned.row,
                    _col(plan, "email"),
                    Message(N_("%(email)s already belongs to another lead"), {"email": email}),
                    planned.values,
                )
            )
            continue
        new.append(planned)
    if dry_run:
        result.imported += len(new)
        return
    leads = [p.lead or build_lead(p) for p in new]
    try:
        app.capture_many(leads)
    except IntegrityError:
        for planned in new:
            _save_one_lead(app, plan, planned, result)
    else:
        result.imported += len(leads)
        result.events += sum(len(p.steps) + 1 for p in new)  # + the e-mail index
    for planned in new:
        planned.lead = None  # let memory go; a rerun rebuilds from the steps


def _save_one_lead(app: Any, plan: Plan, planned: PlannedRow, result: ImportResult) -> None:
    if _exists(app, planned.lead_id):
        result.skipped += 1
        return
    try:
        app.capture_many([build_lead(planned)])  # pending events were used up by the failed chunk
    except IntegrityError:
        result.errors.append(
            RowError(
                planned.row,
                _col(plan, "email"),
                Message(N_("the e-mail was taken by another lead meanwhile")),
                planned.values,
            )
        )
        return
    result.imported += 1
    result.events += len(planned.steps) + 1


def _col(plan: Plan, target: str) -> str:
    return plan.mapping.column(target) or f"({target})"


# --- deals and other history --------------------------------------------


def _already_done(lead: Lead, planned: PlannedRow) -> bool:
    """Idempotency: a deal already won, or history the lead already went past."""
    actions = {s.action: s for s in planned.steps}
    if "win" in actions:
        return lead.has_won
    stage = actions.get("stage")
    owner = actions.get("owner")
    stage_done = stage is None or funnel_rank(lead.stage) >= funnel_rank(stage.args["to_stage"])
    owner_done = owner is None or lead.owner == owner.args["owner"]
    return stage_done and owner_done


def _apply(lead: Lead, planned: PlannedRow, plan: Plan) -> list[RowWarning]:
    warnings: list[RowWarning] = []
    wins = any(s.action == "win" for s in planned.steps)
    for step in planned.steps:
        if step.at is not None and step.at < lead.captured_at and not warnings:  # once per row
            column = {"win": "won_at", "stage": "stage_at"}.get(step.action, "won_at")
            warnings.append(
                RowWarning(
                    planned.row,
                    _col(plan, column),
                    Message(
                        N_("%(at)s is before the lead's capture (%(captured)s); imported as recorded"),
                        {"at": step.at.astimezone(plan.tz), "captured": lead.captured_at.astimezone(plan.tz)},
                    ),
                    kind=WON_BEFORE_FIRST_CONTACT if wins else STAGE_BEFORE_FIRST_CONTACT,
                )
            )
        if step.action == "owner":
            if (lead.owner, lead.team) != (step.args["owner"], step.args["team"]):
                lead.assign_owner(occurred_at=step.at, **step.args)
        elif step.action == "stage":
            if funnel_rank(lead.stage) < funnel_rank(step.args["to_stage"]):
                lead.change_stage(step.args["to_stage"], IMPORTED_STAGE_REASON, occurred_at=step.at)
        else:
            reason = plan.mapping.deal_reason or IMPORTED_DEAL_REASON
            lead.win_deal(reason=reason, occurred_at=step.at, **step.args)
    return warnings


def _load(app: Any, lead_id: UUID) -> Lead | None:
    try:
        lead = app.repository.get(lead_id)
    except AggregateNotFoundError:
        return None
    return lead if isinstance(lead, Lead) else None


def _run_deals(app: Any, plan: Plan, chunk: list[PlannedRow], result: ImportResult, dry_run: bool) -> None:
    touched: dict[UUID, Lead] = {}
    applied: dict[UUID, list[PlannedRow]] = {}
    for planned in chunk:
        lead = touched.get(planned.lead_id) or _load(app, planned.lead_id)
        if lead is None:
            system = plan.mapping.source_system
            reason = Message(
                N_("no lead with key %(key)s from %(system)s; import the leads first"),
                {"key": repr(planned.key), "system": system},
            )
            result.errors.append(RowError(planned.row, _col(plan, "key"), reason, planned.values))
            continue
        if _already_done(lead, planned):
            result.skipped += 1
            continue
        trial = copy.deepcopy(lead)  # a refused row must leave no half-applied events behind
        try:
            warnings = _apply(trial, planned, plan)
        except DomainError as error:
            column = _col(plan, "won_at" if any(s.action == "win" for s in planned.steps) else "stage")
            result.errors.append(RowError(planned.row, column, Message.of_error(error), planned.values))
            continue
        touched[planned.lead_id] = trial
        applied.setdefault(planned.lead_id, []).append(planned)
        result.warnings += planned.warnings + warnings
    rows = sum(len(v) for v in applied.values())
    if dry_run or not touched:
        result.imported += rows
        return
    events = sum(len(lead.pending_events) for lead in touched.values())
    try:
        app.save(*touched.values())
    except IntegrityError:
        for lead_id, planned_rows in applied.items():
            _save_one_lead_history(app, plan, lead_id, planned_rows, result)
        return
    result.imported += rows
    result.events += events


def _save_one_lead_history(
    app: Any, plan: Plan, lead_id: UUID, planned_rows: list[PlannedRow], result: ImportResult
) -> None:
    """Retry after a conflict: reload the lead as it is now and apply its rows again."""
    lead = _load(app, lead_id)
    done = 0
    for planned in planned_rows:
        if lead is None or _already_done(lead, planned):
            result.skipped += 1
            continue
        try:
            _apply(lead, planned, plan)
            done += 1
        except DomainError as error:
            why = Message.of_error(error)
            result.errors.append(RowError(planned.row, _col(plan, "won_at"), why, planned.values))
            lead = _load(app, lead_id)
    if lead is None or not done:
        return
    events = len(lead.pending_events)
    try:
        app.save(lead)
    except IntegrityError:
        for planned in planned_rows:
            reason = Message(CHANGED_MEANWHILE)
            result.errors.append(RowError(planned.row, _col(plan, "key"), reason, planned.values))
        return
    result.imported += done
    result.events += events


# --- rejects ----------------------------------------------------------------


# The files' own columns, in the reader's language (English outside a request or a
# command that forces a locale); the row's cells follow under the file's own header.
REJECTS_HEADER = (N_("row"), N_("column"), N_("reason"))
WARNINGS_HEADER = (N_("kind"), N_("row"), N_("column"), N_("warning"))


def _writer(out: TextIO, header: list[str], style: CsvStyle) -> Any:
    if style.bom:
        out.write(BOM)
    writer = csv.writer(out, delimiter=style.delimiter, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    return writer


def write_rejects(out: TextIO, header: list[str], errors: list[RowError], style: CsvStyle = MACHINE) -> None:
    """The rejected rows as they were, plus where and why (in the reader's language and
    spreadsheet convention), ready to fix and re-import."""
    writer = _writer(out, [_(h) for h in REJECTS_HEADER] + header, style)
    for error in errors:
        cells = [error.row, error.column, say(error.why), *(error.values.get(h, "") for h in header)]
        writer.writerow([safe_cell(c, style=style) for c in cells])


def save_rejects(path: Path, header: list[str], errors: list[RowError], style: CsvStyle = MACHINE) -> None:
    with open_private_text(path) as out:  # rows of personal data
        write_rejects(out, header, errors, style)


def write_warnings(out: TextIO, warnings: list[RowWarning], style: CsvStyle = MACHINE) -> None:
    """Every warning, grouped by kind (the most frequent kind first), by row within a kind."""
    counted = Counter(w.kind for w in warnings)
    ranked = {kind: i for i, kind in enumerate(sorted(counted, key=lambda k: (-counted[k], k)))}
    writer = _writer(out, [_(h) for h in WARNINGS_HEADER], style)
    for w in sorted(warnings, key=lambda w: (ranked[w.kind], w.row)):
        writer.writerow([safe_cell(c, style=style) for c in (w.kind, w.row, w.column, say(w.why))])


def save_warnings(path: Path, warnings: list[RowWarning], style: CsvStyle = MACHINE) -> None:
    with open_private_text(path) as out:
        write_warnings(out, warnings, style)
