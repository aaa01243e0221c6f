"""A minimal home page until the team web app lands."""

from flask import Blueprint, render_template

from projections import leads_query
from smarketing.extensions import services

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    svc = services()
    with svc.read_engine.connect() as conn:
        total = leads_query.count_leads(conn)
    return render_template("home.html", total=total, status=svc.projector.status())
