"""The daily loop from the command line: `flask users away` and the demo data's loop."""

from pathlib import Path

from flask.testing import FlaskCliRunner

from domain.validation import utc_now
from projections.queries.tasks_query import my_tasks
from smarketing.extensions import KEY
from smarketing.notifications import outbox
from smarketing.service import users
from smarketing.service.away import away_users
from tests.integration.test_cli import _ok, flask_app, initialised, make_app, runner  # noqa: F401 - its fixtures, used by name


def test_users_away_on_and_off(initialised: None, runner: FlaskCliRunner) -> None:  # noqa: F811 - the fixtures
    engine = runner.app.extensions[KEY].write_engine
    users.create_user(engine, actor="test", username="ana", role="sales", password="long-enough-1")
    assert "ana: away" in _ok(runner, "users", "away", "ana", "--on")
    assert away_users(engine) == {"ana"}
    assert "ana: back" in _ok(runner, "users", "away", "ana", "--off")
    assert away_users(engine) == set()
    unknown = runner.invoke(args=["users", "away", "nobody", "--on"])
    assert unknown.exit_code == 1 and "no user named nobody" in unknown.output


def test_demo_data_fills_demo_sales_tasks(initialised: None, runner: FlaskCliRunner) -> None:  # noqa: F811
    output = _ok(runner, "demo-data", "--end-month", "2026-10", "--months", "2")
    assert "Daily loop: 4 tasks" in output
    svc = runner.app.extensions[KEY]
    with svc.read_engine.connect() as conn:
        groups = my_tasks(conn, "demo-sales", utc_now(), svc.settings.tz)
    assert sum(len(tasks) for tasks in groups.values()) == 4 and groups["overdue"]


def test_demo_data_mails_the_demo_users_to_the_local_mailbox(
    initialised: None,  # noqa: F811
    runner: FlaskCliRunner,  # noqa: F811
    tmp_path: Path,
) -> None:
    mailbox = tmp_path / "mailbox"
    runner.app.config["MAILBOX_DIR"] = str(mailbox)  # not the repository's instance folder
    output = _ok(runner, "demo-data", "--end-month", "2026-10", "--months", "2")
    svc = runner.app.extensions[KEY]
    sent = sorted(mailbox.glob("*.eml"))
    # The MQLs the rule handed out within the last day (older ones are not news).
    assert len(sent) >= 2 and f"Notifications: {len(sent)} e-mails" in output
    to_sales = [eml for eml in sent if "To: demo-sales@demo.invalid" in eml.read_text(encoding="utf-8")]
    assert to_sales and outbox.unread_count(svc.projector.engine, "demo-sales") >= len(to_sales)  # the bell
