"""Integration tokens for the API: a small admin page and ``flask integrations``."""

from datetime import date, datetime, time

import click
from flask import Blueprint, Flask, render_template, request
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from smarketing.extensions import services
from smarketing.service import integrations
from smarketing.web.core.errors import message_of

bp = Blueprint("integrations", __name__, url_prefix="/integrations")
integrations_cli = AppGroup("integrations", help="API tokens, one per integration.")

# The scopes in the reader's words (integrations.SCOPES says them in English for the API).
SCOPE_LABELS = {
    "leads:write": _l("Capture leads"),
    "interactions:write": _l("Record interactions on leads"),
}


def _page(status: int = 200, **context: object) -> tuple[str, int]:
    listed = integrations.list_integrations(services().read_engine)
    return render_template(
        "integrations.html", integrations=listed, scopes=SCOPE_LABELS, now=integrations.now(), **context
    ), status


def expiry_of(text: str) -> datetime | None:
    """The end of the day ``text`` (YYYY-MM-DD) names, naive UTC; None when empty."""
    if not text.strip():
        return None
    return datetime.combine(date.fromisoformat(text.strip()), time.max)


@bp.get("/")
def index() -> tuple[str, int]:
    return _page()


@bp.post("/")
def create() -> tuple[str, int]:
    name = request.form.get("name", "")
    chosen = tuple(request.form.getlist("scope"))
    try:
        expires_at = expiry_of(request.form.get("expires", ""))
    except ValueError:
        return _page(422, error=_("The expiry must be a date such as 2027-01-31."), name=name)
    if not chosen or not set(chosen) <= set(integrations.SCOPES):
        return _page(422, error=_("Choose what the token may do."), name=name)
    try:
        token = integrations.create_token(services().write_engine, name, chosen, expires_at)
    except integrations.IntegrationError as error:
        return _page(422, error=message_of(error), name=name)
    # Shown on this response only: the table keeps nothing but its hash.
    return _page(201, token=token, created=name.strip())


@bp.post("/<name>/revoke")
def revoke(name: str) -> tuple[str, int]:
    if not integrations.revoke_token(services().write_engine, name):
        return _page(404, error=_("No active token for %(name)s.", name=name))
    return _page(message=_("Token of %(name)s revoked.", name=name))


@integrations_cli.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(list(integrations.SCOPES)),
    help="What the token may do; repeat for several.",
)
@click.option(
    "--expires", default="", help="Last day the token works (YYYY-MM-DD, UTC); default: until revoked"
)
def create_cli(name: str, scopes: tuple[str, ...], expires: str) -> None:
    """Create a token for NAME and print it (once)."""
    try:
        token = integrations.create_token(services().write_engine, name, scopes, expiry_of(expires))
    except ValueError:
        raise click.ClickException("--expires must be a date such as 2027-01-31.") from None
    except integrations.IntegrationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(token)
    click.echo("Store it now: only its hash is kept.", err=True)


@integrations_cli.command("revoke")
@click.argument("name")
def revoke_cli(name: str) -> None:
    """Revoke NAME's token; its requests get 401 from now on."""
    if not integrations.revoke_token(services().write_engine, name):
        raise click.ClickException(f"No active token for {name}.")
    click.echo(f"Revoked {name}.")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(integrations_cli)
