"""`python -m bot.web create-user --role admin USERNAME`: console users from the command line."""

from __future__ import annotations

import getpass
import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from bot.store.models import ROLES
from bot.store.users import UserError, create_user
from bot.web.extensions import get_store


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
@click.option("--name", "display_name", help="Full name (the citizen sees the first name).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(
    username: str, role: str, display_name: str | None, password_stdin: bool
) -> None:
    """Create a console user (use it once for the first admin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise click.ClickException("the passwords differ")
    try:
        with get_store().transaction() as db:
            user = create_user(db, username.lower(), display_name or username, password, role)  # type: ignore[arg-type]
    except UserError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"created {user.role} {user.username!r}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_user_command)


def main() -> None:
    from bot.web import create_app

    FlaskGroup(create_app=lambda: create_app())(prog_name="python -m bot.web")


if __name__ == "__main__":
    main()
