"""The time-driven notifications: a follow-up due within the hour, then overdue; and
the weekly meeting pack, ready each Monday morning.

Computed from the ``follow_up`` read model (MQLs with their entry time, owner and
first attempt since entry) and the SLA in force (hours and business calendar), the
same deadline the lead page shows (``smarketing.service.lead_vitals``). Each moment is a
row with id uuid5(lead, deadline, kind, owner): running the scheduler every few
seconds, in two processes, or after a restart writes each moment once. A new
deadline (the lead re-entered MQL, the SLA changed) is a new moment.

Only deadlines within ``LOOK_BACK`` of now are considered, so starting the scheduler
on an old store does not announce every MQL ever left uncontacted.
"""

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, bindparam, select, text

from domain.business_hours import deadline, latest_start
from projections.engine.schema import from_db, to_db
from projections.models.follow_up import follow_up_mqls
from smarketing.notifications import outbox
from smarketing.service.sla_terms import sla_in_force

WARN_BEFORE = timedelta(hours=1)
LOOK_BACK = timedelta(days=1)
# The weekly pack covers the week before (smarketing.service.meeting_pack): it is ready on
# Monday morning, in the team's time, for the people who meet.
PACK_READY_AT = time(8)
MEETING_ROLES = ("manager", "marketing", "sales")


def schedule(read_engine: Engine, outbox_engine: Engine, now: datetime, tz: ZoneInfo) -> int:
    """Write the moments reached at ``now`` (an aware datetime); return how many were new."""
    with read_engine.connect() as conn:
        sla = sla_in_force(conn, now, tz)
        hours, calendar = sla.follow_up_hours, sla.calendar
        # deadline(mql_at) is monotonic in mql_at: two cut-offs bound the candidates.
        newest = to_db(latest_start(now + WARN_BEFORE, hours, calendar))
        oldest = to_db(latest_start(now - LOOK_BACK, hours, calendar))
        candidates = conn.execute(
            select(follow_up_mqls.c.lead_id, follow_up_mqls.c.mql_at, follow_up_mqls.c.owner).where(
                follow_up_mqls.c.first_attempt_at.is_(None),
                follow_up_mqls.c.mql_at <= newest,
                follow_up_mqls.c.mql_at >= oldest - timedelta(seconds=1),
                follow_up_mqls.c.owner != "",
            )
        ).all()
    rows: list[dict[str, Any]] = []
    for lead_id, mql_at, owner in candidates:
        due = deadline(from_db(mql_at), hours, calendar)
        if now >= due:
            kind = outbox.OVERDUE
        elif now >= due - WARN_BEFORE:
            kind = outbox.DUE_SOON
        else:
            continue
        if now - due > LOOK_BACK:
            continue
        id_ = outbox.notification_id("deadline", lead_id, due.isoformat(), kind, owner)
        rows.append(outbox.row(id_, kind, owner, to_db(now), lead_id, detail=due.isoformat()))
    with outbox_engine.begin() as conn:
        return outbox.add(conn, rows)


def schedule_meeting_pack(read_engine: Engine, outbox_engine: Engine, now: datetime, tz: ZoneInfo) -> int:
    """This week's "the pack is ready" for every active manager, marketing and sales
    user, once the week's Monday 08:00 has passed (and until the week ends: a scheduler
    started on Wednesday still announces it). Ids per ISO week and person: written once."""
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    if local < datetime.combine(monday, PACK_READY_AT, tz):
        return 0
    year, week, _ = monday.isocalendar()
    period = f"{year}-W{week:02d}"
    with read_engine.connect() as conn:  # users: on SQLite the event store's file, attached
        people = conn.execute(
            text("SELECT username FROM users WHERE active AND role IN :roles ORDER BY username").bindparams(
                bindparam("roles", expanding=True)
            ),
            {"roles": list(MEETING_ROLES)},
        ).scalars()
        rows = [
            outbox.row(
                outbox.notification_id("meeting_pack", period, who),
                outbox.MEETING_PACK,
                who,
                to_db(now),
                detail=period,
            )
            for who in people
        ]
    with outbox_engine.begin() as conn:
        return outbox.add(conn, rows)
