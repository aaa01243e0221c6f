"""The projector applies each batch with the cyclic garbage collector paused
(projections.engine.gc_pause) and leaves it as it found it, also after a crash."""

import gc
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection

from projections.engine.projector import Positioned, Projection
from smarketing.bootstrap import Services
from smarketing.cli.demo_data import demo_leads


class Recorder(Projection):
    name = "gc_probe"
    tables = ()

    def __init__(self, fail: bool = False) -> None:
        self.seen: list[bool] = []
        self.fail = fail

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        self.seen.append(gc.isenabled())
        if self.fail:
            # A store fault propagates (a fault of the event would be quarantined instead).
            raise sqlite3.OperationalError("database is locked")


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def _capture(services: Services) -> None:
    now = datetime(2026, 10, 20, tzinfo=UTC)
    leads = demo_leads(end_month="2026-10", now=now, tz=ZoneInfo("UTC"), seed=3)
    services.app.capture_many(list(leads)[:30])


@pytest.mark.parametrize("fail", [False, True])
def test_batches_run_with_the_collector_paused(services: Services, fail: bool) -> None:
    _capture(services)
    probe = Recorder(fail)
    services.projector.projections.append(probe)
    services.projector.batch_size = 50
    services.projector.create_tracking_rows()
    if fail:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            services.projector.catch_up()
    else:
        assert services.projector.catch_up() > 0
    assert probe.seen and not any(probe.seen)
    assert gc.isenabled()
