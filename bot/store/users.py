"""Console users: creation, lookup and password checks (hashes only, never plain text)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.store.models import ROLES, Role, User, utcnow

# Roles that answer chats; their console polls count as presence.
CHAT_ROLES = ("agent", "admin")
# A poll writes the timestamp at most this often: presence needs seconds, not every poll.
SEEN_WRITE_INTERVAL = timedelta(seconds=15)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
# Checked against when the user is unknown, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class UserError(ValueError):
    """Invalid user input; `args[0]` is a Danish message for the admin page."""


def validate_new_user(
    session: Session, username: str, display_name: str, password: str, role: str
) -> list[str]:
    errors = []
    if not USERNAME.match(username):
        errors.append(
            "Brugernavnet skal være 2-64 tegn: små bogstaver a-z, tal, punktum, bindestreg."
        )
    elif session.scalar(select(User).where(func.lower(User.username) == username.lower())):
        errors.append("Brugernavnet er allerede i brug.")
    if not display_name.strip():
        errors.append("Skriv medarbejderens navn.")
    if len(password) < MIN_PASSWORD:
        errors.append(f"Adgangskoden skal være mindst {MIN_PASSWORD} tegn.")
    if role not in ROLES:
        errors.append("Vælg en rolle: agent, redaktør eller administrator.")
    return errors


def create_user(
    session: Session, username: str, display_name: str, password: str, role: Role
) -> User:
    errors = validate_new_user(session, username, display_name, password, role)
    if errors:
        raise UserError(" ".join(errors))
    user = User(
        username=username,
        display_name=display_name.strip(),
        password_hash=generate_password_hash(password),
        role=role,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"Adgangskoden skal være mindst {MIN_PASSWORD} tegn.")
    user.password_hash = generate_password_hash(password)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.username)))


def first_name(user: User) -> str:
    """What the citizen sees: 'Du skriver nu med Anne fra Borgerservice'."""
    parts = user.display_name.split()
    return parts[0] if parts else user.username


def seen_is_stale(user: User, now: datetime | None = None) -> bool:
    """Whether `user.last_seen_at` (as loaded) is old enough to be written again."""
    now = now or utcnow()
    return user.last_seen_at is None or now - user.last_seen_at >= SEEN_WRITE_INTERVAL


def mark_seen(session: Session, user_id: int, now: datetime | None = None) -> None:
    session.execute(update(User).where(User.id == user_id).values(last_seen_at=now or utcnow()))


def clear_seen(session: Session, user_id: int) -> None:
    """On logout: the agent is gone now, not in a couple of minutes."""
    session.execute(update(User).where(User.id == user_id).values(last_seen_at=None))


def chat_users_seen_since(session: Session, since: datetime) -> int:
    """Active agents and admins whose console polled at or after `since`."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(
                User.active.is_(True),
                User.role.in_(CHAT_ROLES),
                User.last_seen_at >= since,
            )
        )
        or 0
    )
