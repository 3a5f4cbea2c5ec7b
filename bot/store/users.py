"""Console users: creation, lookup and password checks (hashes only, never plain text)."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.store.models import ROLES, Role, User

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
