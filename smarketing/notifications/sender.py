"""Delivery of the outbox: claim a row, send it, mark it sent; never from a request.

The guarantee, between "the SMTP server accepted" and "the row says sent":

1. claim: ``pending`` → ``sending`` with ``claimed_at``, one UPDATE that only one
   sender can win (the WHERE names the status), committed before anything is sent;
2. send, with ``Message-ID`` = the notification's id (the same on every attempt);
3. mark: ``sending`` → ``sent``, committed.

A crash after 1 and before 3 leaves the row ``sending``. After ``lease`` it is
claimed again and sent again: **at least once**. If the crash came before the
server accepted (the common case: it is down, or we died first) the recipient gets
exactly one e-mail; if it came in the instant between acceptance and the mark, a
second copy with the same Message-ID goes out, which mail clients and most servers
show as one. Nothing is lost: no row leaves ``sending`` except by being marked.
The mailbox transport writes ``<id>.eml``, so there the repeat replaces the file.

A refused or unreachable server returns the row to ``pending`` with exponential
backoff (``BACKOFF_BASE`` doubling up to ``BACKOFF_CAP``) and ends the round: the
next rows would meet the same server.
"""

import smtplib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select, update

from projections.engine.schema import to_db
from projections.models.lead_summary import lead_summary
from smarketing.notifications import mail, outbox
from smarketing.notifications.clock import Clock, utc_now
from smarketing.notifications.preferences import recipient
from smarketing.notifications.transport import Transport

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
LEASE = timedelta(minutes=5)

t = outbox.outbox


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s, 1 min, 2 min … at most an hour."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


@dataclass
class Round:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Sender:
    outbox_engine: Engine  # where the outbox is (the projector's engine)
    users_engine: Engine  # users and their preferences (the event store's database)
    read_engine: Engine  # lead names, looked up when sending (erased ones stay erased)
    transport: Transport
    mail_from: str
    base_url: str
    clock: Clock = utc_now
    lease: timedelta = LEASE
    batch: int = 50

    def run_once(self) -> Round:
        done = Round()
        now = to_db(self.clock())
        self._reclaim(now)
        with self.outbox_engine.connect() as conn:
            due = conn.execute(
                select(t.c.id)
                .where(t.c.status == outbox.PENDING, t.c.next_attempt_at <= now)
                .order_by(t.c.next_attempt_at, t.c.id)
                .limit(self.batch)
            ).all()
        for (id_,) in due:
            note = self.claim(id_)
            if note is None:
                continue  # another sender has it
            if not self._deliver(note, done):
                break
        return done

    def claim(self, id_: str) -> dict[str, Any] | None:
        now = to_db(self.clock())
        with self.outbox_engine.begin() as conn:
            won = conn.execute(
                update(t)
                .where(t.c.id == id_, t.c.status == outbox.PENDING)
                .values(status=outbox.SENDING, claimed_at=now)
            ).rowcount
            if not won:
                return None
            return dict(conn.execute(select(t).where(t.c.id == id_)).one()._mapping)

    def _reclaim(self, now: Any) -> None:
        """Rows a crashed sender left claimed go back to pending (at least once)."""
        with self.outbox_engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.status == outbox.SENDING, t.c.claimed_at < now - self.lease)
                .values(status=outbox.PENDING, next_attempt_at=now)
            )

    def _deliver(self, note: dict[str, Any], done: Round) -> bool:
        """Send one claimed row; False when the server failed (stop this round)."""
        who = recipient(self.users_engine, note["recipient"])
        if who is None or not who.wants(note["kind"]) or not who.email:
            status = (
                outbox.NOBODY
                if who is None
                else outbox.OFF
                if not who.wants(note["kind"])
                else outbox.NO_ADDRESS
            )
            self._finish(note["id"], status=status)
            done.skipped += 1
            return True
        message = mail.compose(
            note,
            who,
            lead_name=self._lead_name(note.get("lead_id")),
            base_url=self.base_url,
            sender=self.mail_from,
        )
        try:
            self.transport.send(message, note["id"])
        except (OSError, smtplib.SMTPException) as error:
            attempts = note["attempts"] + 1
            self._finish(
                note["id"],
                status=outbox.PENDING,
                attempts=attempts,
                next_attempt_at=to_db(self.clock() + backoff(attempts)),
                last_error=repr(error)[:300],
            )
            done.failed += 1
            done.errors.append(repr(error))
            return False
        self._finish(note["id"], status=outbox.SENT, sent_at=to_db(self.clock()), last_error="")
        done.sent += 1
        return True

    def _finish(self, id_: str, **values: Any) -> None:
        with self.outbox_engine.begin() as conn:
            conn.execute(update(t).where(t.c.id == id_, t.c.status == outbox.SENDING).values(**values))

    def _lead_name(self, lead_id: str | None) -> str | None:
        if not lead_id:
            return None
        with self.read_engine.connect() as conn:
            return conn.execute(select(lead_summary.c.name).where(lead_summary.c.lead_id == lead_id)).scalar()
