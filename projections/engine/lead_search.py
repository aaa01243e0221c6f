"""SQLite only: an FTS5 trigram index over ``lead_summary.search_text``.

``LIKE '%q%'`` walks the captured_at index and stops after a page of matches,
so a rare or absent term reads every row of the table. The
``trigram`` tokenizer (SQLite ≥ 3.34) answers substring queries of ≥ 3
characters from an index; PostgreSQL has its pg_trgm GIN index instead
(``smarketing.bootstrap``).

``case_sensitive 1``: search_text and the query are both lower-cased in
Python already, so matching is plain substring matching on the same strings
LIKE compared, and the results stay the same.

The row's rowid is the notification position of the lead's ``Captured`` event:
replaying the log (a rebuild, which does not empty this table) replaces rows
instead of duplicating them. Only ``Captured`` and ``PersonalDataErased``
change search_text, so only they write here, in the lead_summary
projection's transaction.
"""

import sqlite3

from sqlalchemy import Column, Connection, Engine, MetaData, String, Table, bindparam, select, text

from projections.engine.rows import chunks
from projections.engine.tracking import ensure_position_row, lock_position

MIN_CHARS = 3  # a trigram index cannot answer shorter terms: those keep LIKE
# Above this many matches a term is common enough for LIKE's early stop (see ``matching``).
CAP = 1000

# Its own MetaData: create_all must not create it as a plain table; DDL is below.
lead_search = Table(
    "lead_search",
    MetaData(),
    Column("lead_id", String(32)),
    Column("search_text", String(700)),
)

_DDL = (
    "CREATE VIRTUAL TABLE lead_search USING fts5("
    "lead_id UNINDEXED, search_text, tokenize = 'trigram case_sensitive 1')"
)


def supported() -> bool:
    return sqlite3.sqlite_version_info >= (3, 34, 0)


def exists(conn: Connection) -> bool:
    if conn.dialect.name != "sqlite":
        return False
    found = conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lead_search'"))
    return found.first() is not None


def create(engine: Engine) -> None:
    """Create and fill the index on an SQLite store (idempotent; no-op elsewhere)."""
    if engine.dialect.name != "sqlite" or not supported():
        return
    with engine.begin() as conn:
        if exists(conn):
            return
        # Hold the lead_summary projection still while copying its rows, so none
        # is written between the copy and the projector's next batch.
        ensure_position_row(conn, "lead_summary")  # a new store: no row yet
        lock_position(conn, "lead_summary")
        conn.execute(text(_DDL))
        # An existing store: the rowid is the Captured position, which the timeline
        # keeps as version 1; a lead missing there (timeline behind) gets a negative
        # rowid that no replay will reuse.
        conn.execute(
            text(
                "INSERT INTO lead_search (rowid, lead_id, search_text) "
                "SELECT coalesce(t.position, -s.rowid), s.lead_id, s.search_text "
                "FROM lead_summary s LEFT JOIN lead_timeline t ON t.lead_id = s.lead_id AND t.version = 1"
            )
        )


def write(conn: Connection, captured: dict[str, tuple[int, str]], erased: dict[str, str]) -> None:
    """``captured``: lead -> (Captured position, text); ``erased``: lead -> blanked text."""
    if not (captured or erased) or not exists(conn):
        return
    if captured:
        conn.execute(
            text(
                "INSERT OR REPLACE INTO lead_search (rowid, lead_id, search_text) "
                "VALUES (:rowid, :lead_id, :text)"
            ),
            [
                {"rowid": rowid, "lead_id": lead_id, "text": value}
                for lead_id, (rowid, value) in captured.items()
            ],
        )
    if erased:
        # lead_id is not indexed: one scan per 500 erasures, which are rare (GDPR requests).
        for chunk in chunks(sorted(erased)):
            found = conn.execute(
                select(text("rowid"), lead_search.c.lead_id).where(lead_search.c.lead_id.in_(chunk))
            ).all()
            if found:
                conn.execute(
                    text("UPDATE lead_search SET search_text = :text WHERE rowid = :rowid"),
                    [{"rowid": rowid, "text": erased[lead_id]} for rowid, lead_id in found],
                )


def phrase(term: str) -> str:
    """An FTS5 query matching ``term`` as a substring (quoted: no query syntax applies)."""
    return '"' + term.replace('"', '""') + '"'


def matching(conn: Connection, term: str) -> list[str] | None:
    """The leads whose search_text contains ``term``, or None when LIKE should answer.

    LIKE walks the captured_at index and stops after a page of matches, which is
    quick for a common term (one row in 20 matches "garc") and slow only for rare
    ones; the index is the reverse: a term in every row ("@example") came back as
    an IN-list of 100k ids, slower than LIKE. So ask the index for at most CAP + 1 ids and keep
    LIKE when it has more. Both ways give exactly LIKE's rows.
    """
    if len(term) < MIN_CHARS or not exists(conn):
        return None
    match = text("lead_search MATCH :phrase").bindparams(bindparam("phrase", phrase(term)))
    found = conn.execute(select(lead_search.c.lead_id).where(match).limit(CAP + 1)).scalars().all()
    return None if len(found) > CAP else list(found)
