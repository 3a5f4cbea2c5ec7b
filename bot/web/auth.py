"""Console login: sessions, roles and a login throttle. Citizens never log in."""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from bot.store.models import User
from bot.store.users import authenticate, clear_seen
from bot.web.extensions import get_store

bp = Blueprint("auth", __name__, url_prefix="/konsol")
F = TypeVar("F", bound=Callable[..., Any])

ROLE_LABELS = {"agent": "Medarbejder", "editor": "Redaktør", "admin": "Administrator"}
MAX_FAILURES = 5
FAILURE_WINDOW_S = 15 * 60


class LoginThrottle:
    """At most MAX_FAILURES wrong passwords per (username, client address) per window, per
    process. Per username alone, anyone anywhere could lock an agent out by typing wrong
    passwords for them; per pair, a guesser is stopped and the agent at their own desk is not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def blocked(self, username: str, client: str) -> bool:
        with self._lock:
            return len(self._recent((username, client))) >= MAX_FAILURES

    def fail(self, username: str, client: str) -> None:
        with self._lock:
            recent = self._recent((username, client))
            recent.append(time.monotonic())
            self._failures[(username, client)] = recent

    def clear(self, username: str, client: str) -> None:
        with self._lock:
            self._failures.pop((username, client), None)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        """The failures within the window; a pair with none left is forgotten, so guessed
        usernames cannot grow the table without bound."""
        recent = self._failures.get(key, deque())
        while recent and recent[0] < time.monotonic() - FAILURE_WINDOW_S:
            recent.popleft()
        if not recent:
            self._failures.pop(key, None)
        return recent


def _throttle() -> LoginThrottle:
    return current_app.extensions.setdefault("borgerbot.login_throttle", LoginThrottle())


def load_user() -> None:
    g.user = None
    user_id = session.get("user_id")
    if user_id is None:
        return
    with get_store().read() as db:
        user = db.get(User, user_id)
    if user is None or not user.active:
        session.clear()
        return
    g.user = user


def has_role(user: User | None, *roles: str) -> bool:
    return user is not None and (user.role == "admin" or user.role in roles)


def roles_required(*roles: str) -> Callable[[F], F]:
    """Only logged-in users with one of `roles` (admins pass every check)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                if request.accept_mimetypes.best == "application/json" or request.is_json:
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path))
            if not has_role(g.user, *roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def _safe_next(target: str | None) -> str | None:
    """Only local paths, so the login page cannot be used to redirect elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user: User) -> str:
    if has_role(user, "agent"):
        return url_for("agent.queue")
    if "editor.guides" in current_app.view_functions:
        return url_for("editor.guides")
    return url_for("admin.users")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip().lower()
        password = request.form.get("password", "")
        client = request.remote_addr or "unknown"  # the proxy-fixed address (bot.web)
        if _throttle().blocked(username, client):
            error = "For mange forkerte forsøg. Vent et kvarter, eller kontakt en administrator."
        else:
            with get_store().read() as db:
                user = authenticate(db, username, password)
            if user is None:
                _throttle().fail(username, client)
                error = "Forkert brugernavn eller adgangskode."
            else:
                _throttle().clear(username, client)
                session.clear()  # a fresh session (and CSRF token) after login
                session["user_id"] = user.id
                session.permanent = True
                target = _safe_next(request.args.get("next"))
                return redirect(target or home_for(user))
    status = 401 if error else 200
    return render_template("console/login.html", error=error, username=username), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if g.get("user") is not None:
        # Gone now: no more hand-offs to this agent's empty desk.
        with get_store().transaction() as db:
            clear_seen(db, g.user.id)
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/")
def home() -> ResponseReturnValue:
    if g.get("user") is None:
        return redirect(url_for("auth.login"))
    return redirect(home_for(g.user))


NAV = (
    ("agent.queue", "Samtaler", ("agent",)),
    ("agent.callbacks", "Opkald", ("agent",)),
    ("editor.guides", "Vejledninger", ("editor",)),
    ("insight.unanswered", "Ubesvarede spørgsmål", ("editor",)),
    ("insight.analytics", "Statistik", ("editor", "admin")),
    ("admin.users", "Brugere", ("admin",)),
)


def nav_links() -> list[tuple[str, str, bool]]:
    """(url, label, is_current) for the console pages this user may open."""
    user = g.get("user")
    links = []
    for endpoint, label, roles in NAV:
        if endpoint in current_app.view_functions and has_role(user, *roles):
            current = (request.endpoint or "").split(".")[0] == endpoint.split(".")[0] and (
                request.endpoint == endpoint or endpoint.split(".")[0] not in ("agent", "insight")
            )
            links.append((url_for(endpoint), label, current))
    return links


def init_app(app: Any) -> None:
    app.before_request(load_user)
    app.jinja_env.globals["nav_links"] = nav_links
    app.jinja_env.globals["role_labels"] = ROLE_LABELS
