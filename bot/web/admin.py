"""Admin page: add console users and deactivate them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bot.store.models import User
from bot.store.users import UserError, create_user, list_users
from bot.web.auth import roles_required
from bot.web.extensions import get_store

bp = Blueprint("admin", __name__, url_prefix="/konsol/brugere")


@bp.get("/")
@roles_required("admin")
def users() -> ResponseReturnValue:
    with get_store().read() as db:
        rows = list_users(db)
    return render_template("console/users.html", users=rows, errors=[], form={})


@bp.post("/")
@roles_required("admin")
def add_user() -> ResponseReturnValue:
    form = {k: request.form.get(k, "") for k in ("username", "display_name", "role")}
    try:
        with get_store().transaction() as db:
            create_user(
                db,
                form["username"].strip().lower(),
                form["display_name"],
                request.form.get("password", ""),
                form["role"],  # type: ignore[arg-type]  # validated by create_user
            )
    except UserError as err:
        with get_store().read() as db:
            rows = list_users(db)
        return render_template("console/users.html", users=rows, errors=[str(err)], form=form), 400
    flash(f"Brugeren {form['username']} er oprettet.")
    return redirect(url_for("admin.users"))


@bp.post("/<int:user_id>/aktiv")
@roles_required("admin")
def set_active(user_id: int) -> ResponseReturnValue:
    active = request.form.get("active") == "1"
    with get_store().transaction() as db:
        user = db.get(User, user_id)
        if user is None:
            abort(404)
        if user.id == g.user.id and not active:
            flash("Du kan ikke deaktivere dig selv.")
            return redirect(url_for("admin.users"))
        user.active = active
    flash(f"{user.username} er {'aktiveret' if active else 'deaktiveret'}.")
    return redirect(url_for("admin.users"))
