"""The "import finished" notification, written where an import completes.

One outbox row for whoever started the import, its id derived from the import job's
id: the web job and a CLI run each add it once, and a second ``add`` of the same job
(a retried thread, a replay) inserts nothing, so the sender mails it once.
"""

from datetime import UTC, datetime

from sqlalchemy import Engine

from projections.engine.schema import to_db
from smarketing.importing.run import ImportResult
from smarketing.notifications import outbox


def detail(result: ImportResult) -> str:
    """The counts, without words: the e-mail is in the recipient's language, and this
    text is stored once for every language (``imported/rows``, then rejected ✗)."""
    counts = f"{result.imported}/{result.total}"
    return f"{counts}, {len(result.errors)} ✗" if result.errors else counts


def import_finished(
    engine: Engine, recipient: str, job_id: str, result: ImportResult, at: datetime | None = None
) -> int:
    """Add the notification (1) or nothing when this job's was added already (0).

    ``engine`` is the outbox's (``services.projector.engine``); dry runs save nothing
    and announce nothing."""
    if result.dry_run or not recipient:
        return 0
    when = to_db(at or datetime.now(UTC))
    id_ = outbox.notification_id("import", job_id, recipient)
    row = outbox.row(id_, outbox.IMPORT_DONE, recipient, when, detail=detail(result))
    with engine.begin() as conn:
        return outbox.add(conn, [row])
