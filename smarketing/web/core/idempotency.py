"""Every web form carries an idempotency key, so a double submit, or a retry after
a timeout or a 503, stores one event: the first answer is kept and a repeat of the
key gets it again, without running the view.

``form_fields()`` renders a form's hidden fields once for every template: the CSRF
token and a fresh key. Keys are kept per user in the JSON API's table
(``smarketing.service.integrations``, scope ``form:<user>``) through the same claim /
store / release steps, so both entrances answer repeats alike. A claim is
written before the view runs (the primary key makes a concurrent repeat wait
its turn: it answers 409 while the first is still running); only a 2xx/3xx
answer is kept: a refusal leaves the key free to send the corrected form again.
"""

import hashlib
import json
import logging
import uuid

from flask import Flask, Response, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from projections.engine.quarantine import UNAVAILABLE
from smarketing.extensions import services
from smarketing.service import integrations
from smarketing.web.core.errors import render_error

log = logging.getLogger(__name__)

FIELD = "idempotency_key"
KEPT_HEADERS = ("Location", "HX-Location", "HX-Redirect", "Content-Type")
# Sign-in, sign-out and the language store nothing a repeat could duplicate.
EXEMPT = ("auth.", "i18n.", "api.")


def form_fields() -> Markup:
    """A form's hidden fields: the CSRF token and a key fresh for each rendering."""
    return Markup(  # safe: an escaped token and a uuid
        f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">'
        f'<input type="hidden" name="{FIELD}" value="{uuid.uuid4().hex}">'
    )


def _scope() -> str:
    return f"form:{current_user.username}"


def _claim() -> Response | tuple[str, int] | None:
    # The form is read last: the JSON API reads (and caps) its own bodies.
    if request.method != "POST" or (request.endpoint or "").startswith(EXEMPT):
        return None
    if not current_user.is_authenticated:
        return None
    key = request.form.get(FIELD, "")[:100]
    if not key:
        return None
    request_hash = hashlib.sha256(request.path.encode()).hexdigest()
    stored = integrations.claim_key(services().write_engine, _scope(), key, request_hash)
    if stored is None:
        g.idempotency_key = key
        return None
    if stored.status is None or stored.request_hash != request_hash:
        return render_error(_("This form is already being sent. Wait a moment and reload the page."), 409)
    answer = json.loads(stored.body)
    return Response(answer["body"], status=stored.status, headers=answer["headers"])


def _keep(response: Response) -> Response:
    key = g.pop("idempotency_key", None)
    if key is None:
        return response
    engine = services().write_engine
    try:
        if 200 <= response.status_code < 400 and not response.direct_passthrough:
            headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
            body = json.dumps({"body": response.get_data(as_text=True), "headers": headers})
            integrations.store_response(engine, _scope(), key, response.status_code, body)
        else:
            integrations.release_key(engine, _scope(), key)
    except UNAVAILABLE as error:
        # The answer stands (the write is stored, or was refused); only a repeat of
        # this key may then be told the form is already being sent.
        log.warning("idempotency key %s not updated: %r", key, error)
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["form_fields"] = form_fields
    app.before_request(_claim)
    app.after_request(_keep)
