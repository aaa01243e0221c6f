"""The application factory (as in the Flask tutorial): settings, services,
i18n, htmx, error pages and one blueprint per feature."""

import os
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext
from htmx_flask import Htmx

from smarketing.bootstrap import bootstrap
from smarketing.cli import commands as cli
from smarketing.extensions import KEY
from smarketing.importing.parse import max_file_bytes
from smarketing.notifications import cli as notifications_cli
from smarketing.reports import cli as reports_cli
from smarketing.settings import load_settings
from smarketing.store.private_files import narrow, private_dir
from smarketing.web.core import access, auth, catch_up, errors, faults, hx, i18n, idempotency, security

PROJECT_ROOT = Path(__file__).resolve().parents[3]
UPLOAD_FORM_MARGIN = 64 * 1024  # multipart headers and the form's other fields


def instance_secret(instance: Path) -> str:
    """A random session-signing key kept in instance/, created once.

    Never a hard-coded default: a fresh installation signs sessions with its own
    key. Several hosts must share one key: set SMARKETING_SECRET_KEY there.
    """
    private_dir(instance)
    path = instance / "secret_key"
    try:
        # O_EXCL: when several workers start at once, exactly one writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
    narrow(path)  # a key written by an older version with a wider mode
    for _ in range(50):  # another worker may be writing it right now
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty: delete it and start again")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        "smarketing",
        instance_relative_config=True,
        instance_path=str(PROJECT_ROOT / "instance"),
        root_path=str(PROJECT_ROOT),
        template_folder="templates",
        static_folder="static",
    )
    app.config.from_mapping(
        # An import's CSV (SMARKETING_IMPORT_MAX_MB) and the form around it; the JSON API
        # caps its own bodies at 64 KB.
        MAX_CONTENT_LENGTH=max_file_bytes() + UPLOAD_FORM_MARGIN,
        COMPANY_NAME="Smarketing",
    )
    app.config.from_prefixed_env("SMARKETING")
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(Path(app.instance_path))
    settings = load_settings(
        app.instance_path,
        database_url=app.config.get("DATABASE_URL", ""),
        timezone=app.config.get("TIMEZONE", ""),
        report_replica=app.config.get("REPORT_REPLICA", ""),
        key_store=app.config.get("KEY_STORE_URL", ""),
        erasure_ledger=app.config.get("ERASURE_LEDGER", ""),
        lock_timeout=str(app.config.get("LOCK_TIMEOUT", "")),
    )
    app.extensions[KEY] = bootstrap(settings)
    Htmx(app)
    hx.init_app(app)  # Vary on htmx's headers for every page
    i18n.init_app(app)
    errors.init_app(app)
    faults.init_app(app)  # after errors: a store fault is a 503, not a generic 500
    catch_up.init_app(app)
    # Order matters: load the user and actor, then the access gate, then CSRF.
    auth.init_app(app)
    access.init_app(app)
    security.init_app(app)
    idempotency.init_app(app)  # after the access gate and CSRF: claims only what may run
    cli.init_app(app)
    reports_cli.init_app(app)
    notifications_cli.init_app(app)  # flask notifications send|run
    _register_blueprints(app)
    cli.guard_store_faults(app.cli)  # every command registered above, the features' too
    app.jinja_env.globals["extra_nav"] = lambda: [
        item for item in EXTRA_NAV if item["endpoint"] in app.view_functions
    ]
    return app


# Pages added by later features appear in the menu once their blueprint exists.
EXTRA_NAV = [
    {"endpoint": "reports.index", "prefix": "reports", "label": lazy_gettext("Reports")},
    {"endpoint": "agreement.index", "prefix": "agreement", "label": lazy_gettext("Agreement")},
    {"endpoint": "imports.index", "prefix": "imports", "label": lazy_gettext("Import")},
    {"endpoint": "audit.index", "prefix": "audit", "label": lazy_gettext("Audit")},
    {"endpoint": "integrations.index", "prefix": "integrations", "label": lazy_gettext("Integrations")},
    {"endpoint": "data_quality.index", "prefix": "data_quality", "label": lazy_gettext("Data quality")},
    {"endpoint": "mail_sent.index", "prefix": "mail_sent", "label": lazy_gettext("Mail sent")},
    {"endpoint": "loop.returned", "prefix": "loop.returned", "label": lazy_gettext("Returned by sales")},
]


def _register_blueprints(app: Flask) -> None:
    from smarketing.web.admin import users_admin
    from smarketing.web.pipeline import lead_page, leads
    from smarketing.web.sla import dashboard, reports

    app.register_blueprint(dashboard.bp)
    app.register_blueprint(leads.bp)
    app.register_blueprint(lead_page.bp)
    app.register_blueprint(users_admin.bp)
    app.register_blueprint(reports.bp)
    # Getting data in and out: each registers its blueprint (and CLI); api exempts itself from CSRF.
    from smarketing.web.admin import integrations_admin
    from smarketing.web.data import api, exports, imports

    for feature in (imports, exports, api, integrations_admin):
        feature.init_app(app)
    from smarketing.web.data import audit

    audit.init_app(app)  # the audit pages and `flask audit`
    from smarketing.web.data import data_quality

    data_quality.init_app(app)  # flags of history recorded out of order
    from smarketing.web.sla import agreement, meetings

    agreement.init_app(app)  # targets, vocabulary, terms, attention lists; and `flask scoring`
    from smarketing.present import source_words

    source_words.init_app(app)  # sources and campaigns in words, for labels, filters and forms
    meetings.init_app(app)
    from smarketing.web.admin import mail_sent
    from smarketing.web.pipeline import notifications

    notifications.init_app(app)  # the bell, the list, "Avisos por correo"
    mail_sent.init_app(app)  # admins: the mailbox written without SMTP
    from smarketing.web.pipeline import daily_loop

    daily_loop.init_app(app)  # tasks, returned MQLs, assignment rules (issue #22)
