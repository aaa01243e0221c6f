"""Proving the log is intact: walk every stored event and the log chain the
recorders wrote with it (``smarketing.store.log_chain``), in one read-only snapshot,
locate the first break, and take monthly seals from the chain.

Verifying reads, never writes: nothing is chained or caught up first, so an event
without its link is a break like any other, up to the newest event.

Diagnosis at the first break, position P:
- the chain has P but the log has not: an event was deleted;
- the log has P but the chain has not: a row inserted or appended with SQL
  (the recorders never store an event without its link);
- P holds another event's identity, or another position's content, whose digest
  fits elsewhere in the chain: events were reordered;
- otherwise the row's topic or state bytes (or the link itself) were changed.

Only stored bytes are hashed: an event the application cannot decode is checked
like any other, and one appended with SQL is named by its position.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Mapper, Notification
from sqlalchemy import Connection, insert, select

from domain.errors import N_
from smarketing.bootstrap import Services
from smarketing.store.log_chain import (
    GENESIS,
    PAGE,
    StoredRow,
    audit_seals,
    digest,
    events_source,
    link,
    log_chain,
    stored_rows,
)

# How far ahead a changed row's content is looked for, to tell "reordered" from "changed".
REORDER_WINDOW = 10_000

DELETED = N_("missing event: %(event)s was deleted from the log (its chain link remains)")
UNLINKED = N_(
    "unexpected extra event: %(event)s is in the log without a chain link "
    "(not stored by the application: inserted with SQL)"
)
REORDERED = N_(
    "reordered: event %(event)s was chained at position %(elsewhere)s, the chain expects %(expected)s here"
)
REPLACED = N_("replaced: the chain expects %(expected)s, the log holds %(event)s")
MOVED = N_("reordered: the topic and state stored here belong to position %(source)s")
CHANGED = N_(
    "changed content: event %(event)s no longer matches its chain link (topic, state or link altered)"
)
SEAL_DIFFERS = N_("the %(month)s seal does not match the chain")
ANCHOR_MISSING = N_("the anchored position %(position)s is no longer in the log")
ANCHOR_DIFFERS = N_(
    "the log was rewritten up to the anchored head: "
    "the digest at position %(position)s is not the anchored one"
)


@dataclass(frozen=True)
class Head:
    """A chain head: the digest the log had reached at a position (an anchor's content)."""

    position: int
    digest: str


@dataclass
class VerifyResult:
    intact: bool
    position: int  # last position proven intact
    checked: int  # events hashed
    seconds: float
    broken_at: int | None = None
    template: str = ""  # the problem, a catalog template (``problem``: in English)
    params: dict[str, Any] = field(default_factory=dict)
    seals_checked: int = 0
    head: Head | None = None  # the newest link proven, for anchors

    @property
    def problem(self) -> str:
        return self.template % self.params if self.template else ""

    @property
    def message(self) -> str:
        if self.intact:
            return f"Log intact up to position {self.position} ({self.checked} events)."
        return f"Log broken at position {self.broken_at}: {self.problem}"

    @property
    def events_per_second(self) -> float:
        return self.checked / self.seconds if self.seconds else 0.0


def _chain_rows(conn: Connection) -> Iterator[Any]:
    after = 0
    while rows := conn.execute(
        select(log_chain).where(log_chain.c.position > after).order_by(log_chain.c.position).limit(PAGE)
    ).all():
        yield from rows
        after = rows[-1].position


def _notification(row: StoredRow) -> Notification:
    position, originator, version, topic, state = row
    return Notification(
        id=position, originator_id=originator, originator_version=version, topic=topic, state=state
    )


def _name(originator: str, version: int) -> str:
    return f"{originator} v{version}"


def _content_fits_elsewhere(conn: Connection, n: Notification) -> int | None:
    """A later position whose chained digest matches ``n``'s topic and state there."""
    rows = conn.execute(
        select(log_chain)
        .where(log_chain.c.position >= n.id)
        .order_by(log_chain.c.position)
        .limit(REORDER_WINDOW + 1)
    ).all()
    for before, row in pairwise(rows):
        candidate = Notification(
            id=row.position,
            originator_id=row.originator_id,
            originator_version=row.originator_version,
            topic=n.topic,
            state=n.state,
        )
        if link(bytes.fromhex(before.digest), candidate).hex() == row.digest:
            return int(row.position)
    return None


def _diagnose(conn: Connection, n: Notification, chained: Any) -> tuple[str, dict[str, Any]]:
    event = _name(str(n.originator_id), n.originator_version)
    expected = _name(chained.originator_id, chained.originator_version)
    if event != expected:
        elsewhere = conn.execute(
            select(log_chain.c.position).where(
                log_chain.c.originator_id == str(n.originator_id),
                log_chain.c.originator_version == n.originator_version,
            )
        ).scalar()
        if elsewhere is not None:
            return REORDERED, {"event": event, "elsewhere": elsewhere, "expected": expected}
        return REPLACED, {"event": event, "expected": expected}
    moved_from = _content_fits_elsewhere(conn, n)
    if moved_from is not None and moved_from != n.id:
        return MOVED, {"source": moved_from}
    return CHANGED, {"event": event}


def _snapshot(conn: Connection) -> Connection:
    """One consistent view of the log and the chain for the whole walk: a save that
    commits meanwhile is not half seen (SQLite: a read transaction is a snapshot)."""
    if conn.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return conn


def verify(services: Services, anchor: Head | None = None) -> VerifyResult:
    """Walk every stored event and its link side by side; stop at the first break.
    ``anchor``: a head taken earlier that the log must still extend."""
    started = time.perf_counter()
    with services.read_engine.connect() as plain, _snapshot(plain).begin() as transaction:
        conn = transaction.connection
        seals = {int(r.position): r for r in conn.execute(select(audit_seals))}
        events = stored_rows(conn, events_source(services.app.recorder, conn.dialect.name))
        chain = _chain_rows(conn)
        previous, proven, checked, seals_checked = GENESIS, 0, 0, 0
        anchor_seen = anchor is None
        row, c = next(events, None), next(chain, None)

        def broken(at: int, template: str, /, **params: Any) -> VerifyResult:
            seconds = time.perf_counter() - started
            return VerifyResult(False, proven, checked, seconds, at, template, params, seals_checked)

        while row is not None or c is not None:
            if row is not None and (c is None or row[0] < c.position):
                position = row[0]
            else:
                assert c is not None  # the loop runs while one of them is left
                position = c.position
            if anchor is not None and not anchor_seen and position > anchor.position:
                return broken(anchor.position, ANCHOR_MISSING, position=anchor.position)
            if row is None or row[0] > position:
                assert c is not None  # the position is the chain's, ahead of the events
                return broken(position, DELETED, event=_name(c.originator_id, c.originator_version))
            if c is None or c.position > position:
                return broken(position, UNLINKED, event=_name(row[1], row[2]))
            linked = digest(previous, *row)
            checked += 1
            if linked.hex() != c.digest:
                template, params = _diagnose(conn, _notification(row), c)
                return broken(position, template, **params)
            seal = seals.get(position)
            if seal is not None:
                if seal.digest != c.digest:
                    return broken(position, SEAL_DIFFERS, month=seal.month)
                seals_checked += 1
            if anchor is not None and position == anchor.position:
                if anchor.digest != c.digest:
                    return broken(position, ANCHOR_DIFFERS, position=position)
                anchor_seen = True
            previous, proven = linked, position
            row, c = next(events, None), next(chain, None)
        if anchor is not None and not anchor_seen:
            return broken(anchor.position, ANCHOR_MISSING, position=anchor.position)
    elapsed = time.perf_counter() - started
    head = Head(proven, previous.hex()) if proven else None
    return VerifyResult(True, proven, checked, elapsed, seals_checked=seals_checked, head=head)


# --- finding a position by recorded time --------------------------------------


def recorded_at(services: Services, n: Notification) -> datetime:
    # The base mapper's decoding: no key look-ups just to read a timestamp.
    event = Mapper.to_domain_event(services.app.mapper, n)
    if not isinstance(event, DomainEvent):  # the log holds aggregate events only
        raise TypeError(f"not a domain event: {n.topic}")
    return event.timestamp


def position_at(services: Services, at: datetime) -> int:
    """Last notification id recorded at or before ``at`` (0 if none).

    Binary search over the id range, decoding one event per probe: events are
    recorded in timestamp order, and ids may have gaps, so each probe reads the
    first event at or after the midpoint.
    """
    recorder = services.app.recorder
    lo, hi, best = 1, recorder.max_notification_id() or 0, 0
    while lo <= hi:
        mid = (lo + hi) // 2
        found = recorder.select_notifications(start=mid, limit=1, stop=hi)
        if not found:
            hi = mid - 1
            continue
        n = found[0]
        if recorded_at(services, n) <= at:
            best, lo = n.id, n.id + 1
        else:
            hi = mid - 1
    return best


# --- monthly seals ------------------------------------------------------------


@dataclass(frozen=True)
class Seal:
    month: str
    position: int
    digest: str
    sealed_at: datetime


def month_end(month: str, tz: ZoneInfo) -> datetime:
    year, number = (int(part) for part in month.split("-"))
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return datetime(year, number, 1, tzinfo=tz).astimezone(UTC)


def seal_for(conn: Connection, month: str) -> Seal | None:
    """The seal of ``month`` (YYYY-MM), for pages and the PDF report."""
    row = conn.execute(select(audit_seals).where(audit_seals.c.month == month)).first()
    return None if row is None else Seal(row.month, int(row.position), row.digest, row.sealed_at)


def all_seals(conn: Connection) -> list[Seal]:
    rows = conn.execute(select(audit_seals).order_by(audit_seals.c.month.desc())).all()
    return [Seal(r.month, int(r.position), r.digest, r.sealed_at) for r in rows]


class SealError(ValueError):
    """A seal cannot be taken; the message is for people."""


def seal_month(services: Services, month: str, now: datetime | None = None) -> Seal:
    """Seal ``month`` with the chain digest of the last event recorded before it ended."""
    now = now or datetime.now(UTC)
    end = month_end(month, services.settings.tz)
    if end > now:
        raise SealError(f"{month} has not ended yet; seal it once it has.")
    position = position_at(services, end - timedelta(microseconds=1))
    if position == 0:
        raise SealError(f"No events were recorded up to the end of {month}.")
    with services.write_engine.begin() as conn:
        existing = seal_for(conn, month)
        chained = conn.execute(select(log_chain.c.digest).where(log_chain.c.position == position)).scalar()
        if chained is None:
            raise SealError(f"The event at position {position} has no chain link: run `flask audit verify`.")
        if existing is not None:
            if (existing.position, existing.digest) != (position, chained):
                raise SealError(f"{month} is already sealed with another digest: run `flask audit verify`.")
            return existing
        sealed_at = now.astimezone(UTC).replace(tzinfo=None)
        conn.execute(
            insert(audit_seals).values(month=month, position=position, digest=chained, sealed_at=sealed_at)
        )
    return Seal(month, position, chained, sealed_at)
