"""The library's own tracking-recorder contract, run on our SQLAlchemy tracking table."""

import os
import shutil
import tempfile
import unittest

from eventsourcing.persistence import TrackingRecorder

# The library's test module imports its cipher, hence pycryptodome in requirements.txt.
from eventsourcing.tests.persistence import TrackingRecorderTestCase
from sqlalchemy import Engine

from projections.engine.schema import metadata
from projections.engine.tracking import SQLAlchemyTrackingRecorder
from smarketing.bootstrap import build_engines
from smarketing.settings import Settings
from tests.conftest import POSTGRES_MISSING

try:
    from tests.conftest import drop_postgres_database, postgres_database
except ImportError:  # tests/ is not a package: conftest is importable by its own name
    from conftest import drop_postgres_database, postgres_database  # type: ignore[no-redef]

POSTGRES_URL = os.environ.get("SMARKETING_TEST_POSTGRES_URL", "")


class SQLiteTrackingRecorderContract(TrackingRecorderTestCase):
    def setUp(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="smk-tracking-")
        settings = Settings(database_url=f"sqlite:///{self.directory}/tracking.sqlite3")
        self.engines: tuple[Engine, Engine] = build_engines(settings)
        metadata.create_all(self.engines[0])

    def tearDown(self) -> None:
        for engine in self.engines:
            engine.dispose()
        shutil.rmtree(self.directory, ignore_errors=True)

    def create_recorder(self) -> TrackingRecorder:
        return SQLAlchemyTrackingRecorder(self.engines[0])


@unittest.skipUnless(POSTGRES_URL, POSTGRES_MISSING)
class PostgresTrackingRecorderContract(TrackingRecorderTestCase):
    def setUp(self) -> None:
        self.url = postgres_database()
        self.engines: tuple[Engine, Engine] = build_engines(Settings(database_url=self.url))
        metadata.create_all(self.engines[0])

    def tearDown(self) -> None:
        for engine in self.engines:
            engine.dispose()
        drop_postgres_database(self.url)

    def create_recorder(self) -> TrackingRecorder:
        return SQLAlchemyTrackingRecorder(self.engines[0])


del TrackingRecorderTestCase  # collect only the concrete subclasses
