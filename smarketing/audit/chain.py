"""Proving the log is intact: walk the stored events and the log chain together
(see ``projections.log_chain`` for the chain itself and why it is a tracked
projection), locate the first break, and take monthly seals from the chain.

Diagnosis at the first break, position P:
- the chain has P but the log has not: an event was deleted;
- the log has P (at or below the chain head) but the chain has not: a forged
  extra row;
- P holds another event's identity, or another position's content, whose digest
  fits elsewhere in the chain: events were reordered;
- otherwise the row's topic or state bytes were changed.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Mapper, Notification
from sqlalchemy import Connection, func, insert, select

from projections.log_chain import GENESIS, PAGE, audit_seals, ident, link, log_chain, raw_notifications
from smarketing.bootstrap import Services

# How far ahead a changed row's content is looked for, to tell "reordered" from "changed".
REORDER_WINDOW = 10_000


@dataclass
class VerifyResult:
    intact: bool
    position: int  # last position proven intact
    checked: int  # events hashed
    pending: int  # events recorded after the chain head (not chained yet)
    seconds: float
    broken_at: int | None = None
    problem: str = ""
    seals_checked: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        if self.intact:
            tail = f"; {self.pending} newer events not chained yet" if self.pending else ""
            return f"Log intact up to position {self.position} ({self.checked} events{tail})."
        return f"Log broken at position {self.broken_at}: {self.problem}"

    @property
    def events_per_second(self) -> float:
        return self.checked / self.seconds if self.seconds else 0.0


def _chain_rows(conn: Connection, head: int) -> Iterator[Any]:
    after = 0
    while True:
        rows = conn.execute(
            select(log_chain)
            .where(log_chain.c.position > after, log_chain.c.position <= head)
            .order_by(log_chain.c.position)
            .limit(PAGE)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].position


def _content_fits_elsewhere(conn: Connection, n: Notification, head: int) -> int | None:
    """A later position whose chained digest matches ``n``'s topic and state there."""
    rows = conn.execute(
        select(log_chain)
        .where(log_chain.c.position >= n.id, log_chain.c.position <= head)
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


def _diagnose(conn: Connection, n: Notification, chained: Any, head: int) -> str:
    if (ident(n.originator_id), n.originator_version) != (chained.originator_id, chained.originator_version):
        elsewhere = conn.execute(
            select(log_chain.c.position).where(
                log_chain.c.originator_id == ident(n.originator_id),
                log_chain.c.originator_version == n.originator_version,
            )
        ).scalar()
        if elsewhere is not None:
            return (
                f"reordered: event {ident(n.originator_id)} v{n.originator_version} was chained at "
                f"position {elsewhere}, the chain expects {chained.originator_id} "
                f"v{chained.originator_version} here"
            )
        return (
            f"replaced: the chain expects {chained.originator_id} v{chained.originator_version}, "
            f"the log holds {ident(n.originator_id)} v{n.originator_version}"
        )
    moved_from = _content_fits_elsewhere(conn, n, head)
    if moved_from is not None and moved_from != n.id:
        return f"reordered: the topic and state stored here belong to position {moved_from}"
    return (
        f"changed content: event {chained.originator_id} v{chained.originator_version} "
        "no longer matches its digest (topic or state bytes altered)"
    )


def verify(services: Services) -> VerifyResult:
    """Walk the stored events and the chain side by side; stop at the first break."""
    started = time.perf_counter()
    recorder = services.app.recorder
    with services.read_engine.connect() as conn:
        head = conn.execute(select(func.max(log_chain.c.position))).scalar() or 0
        seals = {int(r.position): r for r in conn.execute(select(audit_seals))}
        log_max = recorder.max_notification_id() or 0
        events = raw_notifications(recorder, 0, None)
        chain = _chain_rows(conn, head)
        previous, proven, checked, seals_checked = GENESIS, 0, 0, 0
        n, c = next(events, None), next(chain, None)

        def broken(position: int, problem: str) -> VerifyResult:
            return VerifyResult(
                False, proven, checked, 0, time.perf_counter() - started, position, problem, seals_checked
            )

        while c is not None:
            if n is None or n.id > c.position:
                return broken(
                    c.position,
                    f"missing event: {c.originator_id} v{c.originator_version} was deleted from the log",
                )
            if n.id < c.position:
                return broken(
                    n.id,
                    f"unexpected extra event: {ident(n.originator_id)} v{n.originator_version} "
                    "is in the log but was never chained (forged insert)",
                )
            digest = link(previous, n)
            checked += 1
            if digest.hex() != c.digest:
                return broken(n.id, _diagnose(conn, n, c, head))
            seal = seals.get(n.id)
            if seal is not None:
                if seal.digest != c.digest:
                    return broken(n.id, f"the {seal.month} seal does not match the chain")
                seals_checked += 1
            previous, proven = digest, n.id
            n, c = next(events, None), next(chain, None)
    pending = max(log_max - head, 0)
    elapsed = time.perf_counter() - started
    return VerifyResult(True, proven, checked, pending, elapsed, None, "", seals_checked)


# --- finding a position by recorded time --------------------------------------


def recorded_at(services: Services, n: Notification) -> datetime:
    # The base mapper's decoding: no key look-ups just to read a timestamp.
    return Mapper.to_domain_event(services.app.mapper, n).timestamp


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
            raise SealError(f"The chain has not reached position {position}: run projections catch-up.")
        if existing is not None:
            if (existing.position, existing.digest) != (position, chained):
                raise SealError(f"{month} is already sealed with another digest: run `flask audit verify`.")
            return existing
        sealed_at = now.astimezone(UTC).replace(tzinfo=None)
        conn.execute(
            insert(audit_seals).values(month=month, position=position, digest=chained, sealed_at=sealed_at)
        )
    return Seal(month, position, chained, sealed_at)
