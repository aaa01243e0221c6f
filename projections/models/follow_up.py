"""Follow-up state of the leads now in stage MQL, for counts by index range.

The full definition of the follow-up rules (tests/integration/attention_reference.py)
lists the MQLs that need a move by reading every MQL and its attempts (seconds at 100k
leads); the dashboard needs only the two counts. The hours, the calendar, the attempts
and the window are terms that change with the month, so nothing here is precomputed against them; instead
each MQL keeps its entry time and each attempt since then its rank and its
delay after entry, which turn both rules into range conditions:

- overdue first contact: no attempt since entry, and the entry before
  ``latest_start(now)`` (the same cut-off as the lead list's overdue filter);
- under-contacted: entered at least D days ago, minus those whose N-th
  attempt since entry came within D days (N-th delay ≤ D ⇔ at least N in D).

Same definitions as ``projections.queries.attention`` (an attempt counts when it is
dated at or after the entry); rows exist only while the lead is in MQL, and
re-entering MQL starts afresh.
"""

from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    delete,
    func,
    select,
    update,
)

from domain.business_hours import ALWAYS, Calendar, latest_start
from domain.lead import Lead
from domain.vocabulary import Stage
from projections.engine.projector import Positioned, Projection
from projections.engine.rows import chunks, insert_rows, lead_batch
from projections.engine.schema import metadata, to_db

follow_up_mqls = Table(
    "follow_up_mqls",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("mql_at", DateTime, nullable=False),
    Column("first_attempt_at", DateTime),
    # The lead's owner now, kept here so "Needs attention" groups by owner on this
    # small table instead of joining thousands of MQLs to lead_summary.
    Column("owner", String(120), nullable=False),
    Index("ix_follow_up_mqls_uncontacted", "first_attempt_at", "mql_at"),
    Index("ix_follow_up_mqls_entered", "mql_at"),
    # Covering, in the lists' order: per owner, oldest entry first.
    Index("ix_follow_up_mqls_owner", "owner", "mql_at", "lead_id"),
)

# Every lead's owner (leads without one have no row), for the MQL rows above.
follow_up_owners = Table(
    "follow_up_owners",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("owner", String(120), nullable=False),
)

follow_up_attempts = Table(
    "follow_up_attempts",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("occurred_at", DateTime, nullable=False),
    Column("mql_at", DateTime, nullable=False),
    Column("rank", Integer, nullable=False),  # 1 = earliest attempt since entering MQL
    Column("delay_seconds", Float, nullable=False),
    # Covering for the counts and for the set of leads contacted often enough (lead_id).
    Index("ix_follow_up_attempts_rank", "rank", "mql_at", "delay_seconds", "lead_id"),
)


class FollowUpProjection(Projection):
    name = "follow_up"
    tables = (follow_up_mqls, follow_up_attempts, follow_up_owners)

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        batch = lead_batch(events)
        stored = batch.stored
        keys = sorted(batch.keys)
        entered: dict[str, datetime | None] = dict.fromkeys(keys)
        for chunk in chunks(sorted(stored)):
            for lead_id, mql_at in conn.execute(
                select(follow_up_mqls.c.lead_id, follow_up_mqls.c.mql_at).where(
                    follow_up_mqls.c.lead_id.in_(chunk)
                )
            ):
                entered[lead_id] = mql_at
        reset: set[str] = set()  # stored rows of these leads go
        owners: dict[str, str] = {}  # owner changes in this batch
        pending: dict[str, list[tuple[datetime, int]]] = {}
        for _, key, e, at in batch.without_interactions:
            stage = getattr(e, "to_stage", None)
            if stage is not None:
                reset.add(key)
                pending[key] = []
                entered[key] = at if stage == Stage.MQL else None
            elif isinstance(e, Lead.ContactAttempted):
                start = entered[key]
                if start is not None and at >= start:
                    pending.setdefault(key, []).append((at, e.originator_version))
            elif isinstance(e, Lead.OwnerAssigned):
                owners[key] = e.owner
        for chunk in chunks(sorted(reset & stored)):
            conn.execute(delete(follow_up_attempts).where(follow_up_attempts.c.lead_id.in_(chunk)))
            conn.execute(delete(follow_up_mqls).where(follow_up_mqls.c.lead_id.in_(chunk)))
        touched = [k for k in keys if entered[k] is not None and (k in reset or pending.get(k))]
        self._save_owners(conn, owners, stored, untouched=set(keys) - set(touched))
        self._rewrite(conn, touched, entered, pending, stored, owners)

    def _save_owners(
        self, conn: Connection, owners: dict[str, str], stored: set[str], untouched: set[str]
    ) -> None:
        """Record the batch's owner changes, and carry them to MQL rows not rewritten below."""
        changed = sorted(owners)
        for chunk in chunks([k for k in changed if k in stored]):
            conn.execute(delete(follow_up_owners).where(follow_up_owners.c.lead_id.in_(chunk)))
        insert_rows(conn, follow_up_owners, [{"lead_id": k, "owner": owners[k]} for k in changed])
        for lead_id in sorted(untouched & stored & owners.keys()):
            conn.execute(
                update(follow_up_mqls)
                .where(follow_up_mqls.c.lead_id == lead_id)
                .values(owner=owners[lead_id])
            )

    def _rewrite(
        self,
        conn: Connection,
        lead_ids: list[str],
        entered: dict[str, datetime | None],
        pending: dict[str, list[tuple[datetime, int]]],
        stored: set[str],
        owners: dict[str, str],
    ) -> None:
        """Re-rank every attempt of these MQLs: a late-recorded, earlier-dated attempt shifts the ranks."""
        attempts = {lead_id: list(pending.get(lead_id, [])) for lead_id in lead_ids}
        owner_of = dict(owners)
        for chunk in chunks([k for k in lead_ids if k in stored and k not in owners]):
            owner_of.update(
                conn.execute(
                    select(follow_up_owners.c.lead_id, follow_up_owners.c.owner).where(
                        follow_up_owners.c.lead_id.in_(chunk)
                    )
                ).all()
            )
        for chunk in chunks([k for k in lead_ids if k in stored]):  # the others have no rows yet
            for lead_id, at, version in conn.execute(
                select(
                    follow_up_attempts.c.lead_id,
                    follow_up_attempts.c.occurred_at,
                    follow_up_attempts.c.version,
                ).where(follow_up_attempts.c.lead_id.in_(chunk))
            ):
                attempts[lead_id].append((at, version))
            conn.execute(delete(follow_up_attempts).where(follow_up_attempts.c.lead_id.in_(chunk)))
            conn.execute(delete(follow_up_mqls).where(follow_up_mqls.c.lead_id.in_(chunk)))
        mqls, rows = [], []
        for lead_id in lead_ids:
            start = entered[lead_id]
            assert start is not None
            ordered = sorted(attempts[lead_id])
            mqls.append(
                {
                    "lead_id": lead_id,
                    "mql_at": start,
                    "first_attempt_at": ordered[0][0] if ordered else None,
                    "owner": owner_of.get(lead_id, ""),
                }
            )
            rows += [
                {
                    "lead_id": lead_id,
                    "version": version,
                    "occurred_at": at,
                    "mql_at": start,
                    "rank": rank,
                    "delay_seconds": (at - start).total_seconds(),
                }
                for rank, (at, version) in enumerate(ordered, start=1)
            ]
        insert_rows(conn, follow_up_mqls, mqls)
        insert_rows(conn, follow_up_attempts, rows)


def count_follow_up(
    conn: Connection,
    now: datetime,
    *,
    follow_up_hours: float,
    attempts_per_mql: int,
    window_days: float,
    calendar: Calendar = ALWAYS,
) -> dict[str, int]:
    """``{"overdue", "under_contacted"}`` as the full definition counts them
    (tests/integration/attention_reference.py)."""
    cutoff = to_db(latest_start(now, follow_up_hours, calendar))
    overdue = conn.execute(
        select(func.count()).where(
            follow_up_mqls.c.first_attempt_at.is_(None), follow_up_mqls.c.mql_at < cutoff
        )
    ).scalar_one()
    window_over = to_db(now - timedelta(days=window_days))
    due = conn.execute(select(func.count()).where(follow_up_mqls.c.mql_at <= window_over)).scalar_one()
    if attempts_per_mql <= 0:  # nothing agreed: nobody is under-contacted
        return {"overdue": int(overdue), "under_contacted": 0}
    enough = conn.execute(
        select(func.count()).where(
            follow_up_attempts.c.rank == attempts_per_mql,
            follow_up_attempts.c.mql_at <= window_over,
            follow_up_attempts.c.delay_seconds <= window_days * 86400,
        )
    ).scalar_one()
    return {"overdue": int(overdue), "under_contacted": int(due - enough)}
