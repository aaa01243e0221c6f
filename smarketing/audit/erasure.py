"""Erasing a person's data (GDPR art. 17), the same from the CLI and the lead page, and
erasing again after a restore.

``erase_person``: the lead goes into the erasure ledger, then the erasure event and
the key's deletion (``SmarketingApplication.erase_personal_data``), the read models
caught up, the monthly report's private copy told to forget the lead, and the SQLite
files' WAL emptied of the pages that still held the person (``scrub_sqlite``).

The erasure ledger is a file of its own (``Settings.erasure_ledger_path``), one JSON
line per erasure with the lead's id and the time, nothing personal. It is kept apart
from the event database and the key store on purpose: restoring either from a backup
taken before an erasure brings the person back, and ``reapply`` (``flask audit erase
--reapply``) then erases again every lead the ledger names. Keep the ledger out of
what a restore overwrites, and back it up with (at least) the same retention as the
event database's backups (docs/SECURITY.md, "Erasure").

A lead's tasks (domain.task) are their own streams with their own keys: their free
text (title, note, reason) may name the person too, so erasing the lead destroys
every one of its tasks' keys as well, found in the tasks read model once it has
caught up (``destroy_task_keys``); ``reapply`` does the same after a restore.
"""

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from sqlalchemy import select

from domain.lead import Lead
from domain.validation import TEXT_MAX, clean_text
from projections.models.tasks import lead_tasks
from smarketing.bootstrap import Services
from smarketing.reports.replica import open_replica
from smarketing.service.application import parse_lead_id
from smarketing.settings import Settings
from smarketing.store.key_store import scrub_sqlite

REAPPLIED = "erasure reapplied from the erasure ledger"


@dataclass(frozen=True)
class LedgerEntry:
    lead_id: str  # the lead's id as 32 hex digits
    erased_at: datetime


def record_erasure(settings: Settings, lead_id: str | UUID, at: datetime | None = None) -> None:
    """Append the lead to the erasure ledger (one line, flushed to disk)."""
    path = settings.erasure_ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    when = (at or datetime.now(UTC)).astimezone(UTC).isoformat()
    line = json.dumps({"lead_id": parse_lead_id(lead_id).hex, "erased_at": when}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())  # one write with O_APPEND: lines of two writers never mix
        os.fsync(fd)
    finally:
        os.close(fd)


def ledger(settings: Settings) -> list[LedgerEntry]:
    """Every erasure recorded, oldest first (a lead erased twice appears twice)."""
    path: Path = settings.erasure_ledger_path()
    if not path.exists():
        return []
    entries = []
    for line in path.read_text().splitlines():
        if line.strip():
            values = json.loads(line)
            entries.append(LedgerEntry(values["lead_id"], datetime.fromisoformat(values["erased_at"])))
    return entries


def erase_person(svc: Services, lead_id: str, reason: str) -> int:
    """Erase the lead's personal data; the version of the erasure event."""
    uuid = parse_lead_id(lead_id)
    # Refused before it reaches the ledger: an unknown lead, a missing reason.
    svc.app.get_lead(uuid)
    clean_text(reason, "reason", max_len=TEXT_MAX, required=True)
    record_erasure(svc.settings, uuid)  # first: a failure below is then finished by --reapply
    version = svc.app.erase_personal_data(str(uuid), reason)
    svc.projector.catch_up()  # the tasks read model knows every task of the lead
    destroy_task_keys(svc, [uuid.hex])
    _after_erasure(svc, [uuid.hex])
    return version


@dataclass(frozen=True)
class Reapplied:
    erased: list[str]  # leads whose log had no erasure (restored from before it): erased again
    keys_destroyed: list[str]  # erased in the log, but their key was back (a restored key store)
    unknown: list[str]  # not in the log (restored from before their capture): nothing to erase


def reapply(svc: Services) -> Reapplied:
    """Erase again every lead in the ledger that a restore brought back; idempotent."""
    erased, keys_destroyed, unknown = [], [], []
    key_store = svc.app.mapper._key_store()  # type: ignore[attr-defined]
    svc.projector.catch_up()  # the tasks read model, to find the tasks' keys below
    for lead_id in dict.fromkeys(entry.lead_id for entry in ledger(svc.settings)):
        uuid = UUID(lead_id)
        if not svc.app.lead_exists(uuid):
            key_store.delete(lead_id)  # in case the key store is newer than the restored log
            unknown.append(lead_id)
        elif not any(isinstance(e, Lead.PersonalDataErased) for e in svc.app.lead_events(uuid)):
            svc.app.erase_personal_data(str(uuid), REAPPLIED)
            destroy_task_keys(svc, [lead_id])
            erased.append(lead_id)
        elif key_store.delete(lead_id) | destroy_task_keys(svc, [lead_id]):  # both, whatever the first says
            keys_destroyed.append(lead_id)
    _after_erasure(svc, erased + keys_destroyed)
    return Reapplied(erased, keys_destroyed, unknown)


def destroy_task_keys(svc: Services, lead_ids: list[str]) -> bool:
    """Delete the keys of every task of these leads (by the tasks read model); True if any existed."""
    leads = [UUID(lead_id).hex for lead_id in lead_ids]
    with svc.read_engine.connect() as conn:
        task_ids = conn.execute(select(lead_tasks.c.task_id).where(lead_tasks.c.lead_id.in_(leads))).scalars()
        found = list(task_ids)
    key_store = svc.app.mapper._key_store()  # type: ignore[attr-defined]
    deleted = [key_store.delete(task_id) for task_id in found]
    return any(deleted)


def _after_erasure(svc: Services, lead_ids: list[str]) -> None:
    """Read models caught up, the report's copy told, the SQLite WAL files emptied."""
    if not lead_ids:
        return
    svc.projector.catch_up()
    replica = open_replica(svc.settings, svc.app.recorder, svc.app.mapper)
    try:
        for lead_id in lead_ids:
            replica.forget(str(UUID(lead_id)))  # the monthly report's private copy of the read models
        scrub_sqlite(replica.write_engine)
    finally:
        replica.close()
    scrub_sqlite(svc.write_engine)
    scrub_sqlite(svc.projector.engine)  # SQLite: the read models' own file
