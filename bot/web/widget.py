"""The embeddable widget script and a demo page that looks like a municipality's website."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, send_from_directory
from flask.typing import ResponseReturnValue

bp = Blueprint("widget", __name__)


@bp.get("/widget.js")
def script() -> ResponseReturnValue:
    response = send_from_directory(
        current_app.static_folder or "static", "widget.js", mimetype="text/javascript", max_age=300
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/")
def demo() -> str:
    """A demo municipal page hosting the widget, as a municipality would embed it."""
    municipality = (
        request.args.get("kommune") or current_app.config["SETTINGS"].default_municipality
    )
    return render_template("demo.html", municipality=municipality)
