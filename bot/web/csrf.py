"""CSRF protection for every state-changing request of the consoles.

A random token per session, compared in constant time. Forms send it as the `csrf_token` field,
scripts as the `X-CSRF-Token` header. The citizen API keeps no login state and is exempt; it is
protected by input validation and rate limits instead.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, abort, current_app, request, session

F = TypeVar("F", bound=Callable[..., object])
SESSION_KEY = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT_ATTRIBUTE = "_csrf_exempt"


def csrf_token() -> str:
    token = session.get(SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return str(token)


def csrf_exempt(view: F) -> F:
    setattr(view, EXEMPT_ATTRIBUTE, True)
    return view


def _check() -> None:
    if request.method not in UNSAFE_METHODS or current_app.config.get("CSRF_DISABLED"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, EXEMPT_ATTRIBUTE, False):
        return
    expected = session.get(SESSION_KEY)
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        abort(400, description="Formularen er udløbet eller ugyldig. Genindlæs siden og prøv igen.")


def init_app(app: Flask) -> None:
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = csrf_token
