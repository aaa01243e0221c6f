"""Writers at the same time — threads of one process and separate processes, on both
backends — still leave one chain: every event linked once, each link after the one
committed before it, and `audit verify` intact."""

import multiprocessing
import threading
from uuid import uuid4

from sqlalchemy import text

from smarketing.audit.chain import verify
from smarketing.bootstrap import Services, bootstrap
from smarketing.settings import Settings
from smarketing.store.log_chain import events_source, stored_rows
from tests.integration.stored_rows import stored_events

SAVES = 12  # per writer: commands (one save of a lead and its e-mail index) and batches


def _write(services: Services, writer: str) -> None:
    for i in range(SAVES):
        services.app.capture_lead(name=f"{writer} {i}", email=f"{writer}-{i}@example.com", source="webinar")
        if i % 4 == 0:  # now and then a batch (an import's path: more than a command's few)
            services.app.recorder.insert_events(stored_events(uuid4(), range(1, 21)))


def _write_in_a_process(settings: Settings, writer: str) -> None:
    services = bootstrap(settings)
    try:
        _write(services, writer)
    finally:
        services.close()


def _assert_one_chain(services: Services, writers: int) -> None:
    with services.read_engine.connect() as conn:
        chain = conn.execute(text("SELECT position FROM log_chain ORDER BY position")).scalars().all()
        events = [
            row[0] for row in stored_rows(conn, events_source(services.app.recorder, conn.dialect.name))
        ]
    assert len(events) == writers * SAVES * 2 + writers * 3 * 20
    assert chain == events
    result = verify(services)
    assert result.intact, result.message
    assert result.checked == len(events)


def test_threads_writing_at_once_leave_one_chain(services: Services) -> None:
    writers = [threading.Thread(target=_write, args=(services, f"t{n}")) for n in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    _assert_one_chain(services, 4)


def test_processes_writing_at_once_leave_one_chain(services: Services) -> None:
    spawn = multiprocessing.get_context("spawn")
    writers = [spawn.Process(target=_write_in_a_process, args=(services.settings, f"p{n}")) for n in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
    assert [writer.exitcode for writer in writers] == [0, 0, 0]
    _assert_one_chain(services, 3)
