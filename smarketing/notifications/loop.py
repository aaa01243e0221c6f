"""``flask notifications run``: the scheduler and the sender, every few seconds.

Its own process beside the web server (``make run``, ``make serve``), so no web
request ever waits on an SMTP server. Running two is safe: the scheduler's ids are
deterministic and a row is sent only by the sender that won its claim.
"""

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from smarketing.bootstrap import Services
from smarketing.notifications.clock import Clock, utc_now
from smarketing.notifications.scheduler import schedule, schedule_meeting_pack
from smarketing.notifications.sender import Round, Sender
from smarketing.notifications.transport import Transport, from_environment

DEFAULT_FROM = "smarketing@localhost"
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def build_sender(
    services: Services, mailbox: Path, *, transport: Transport | None = None, clock: Clock = utc_now
) -> Sender:
    return Sender(
        outbox_engine=services.projector.engine,
        users_engine=services.write_engine,
        read_engine=services.read_engine,
        transport=transport or from_environment(mailbox),
        mail_from=os.environ.get("SMARKETING_MAIL_FROM", DEFAULT_FROM),
        base_url=os.environ.get("SMARKETING_BASE_URL", DEFAULT_BASE_URL),
        clock=clock,
    )


def turn(services: Services, sender: Sender) -> tuple[int, Round]:
    """One scheduler pass and one delivery round."""
    now, tz = sender.clock(), services.settings.tz
    scheduled = schedule(services.read_engine, sender.outbox_engine, now, tz)
    scheduled += schedule_meeting_pack(services.read_engine, sender.outbox_engine, now, tz)
    return scheduled, sender.run_once()


def run_notifications(
    services: Services,
    sender: Sender,
    *,
    interval: float = 5.0,
    stop: threading.Event | None = None,
    report: Callable[[str], None] = print,
) -> None:
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():

        def _stop(signum: int, _frame: FrameType | None) -> None:
            report(f"notifications: signal {signum}, stopping")
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    report(f"notifications: running every {interval}s")
    while not stop.is_set():
        try:
            scheduled, done = turn(services, sender)
        except Exception as error:  # noqa: BLE001 - a locked store or a bad row: try again next turn
            report(f"notifications: turn failed, retrying: {error!r}")
        else:
            if scheduled or done.sent or done.failed:
                report(f"notifications: {scheduled} scheduled, {done.sent} sent, {done.failed} failed")
        stop.wait(interval)
    report("notifications: stopped")
