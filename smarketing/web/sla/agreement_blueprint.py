"""The agreement pages' one blueprint, apart so that each page module can add its routes
to it without importing another page module (``agreement`` registers it)."""

from flask import Blueprint

bp = Blueprint("agreement", __name__, url_prefix="/agreement")
