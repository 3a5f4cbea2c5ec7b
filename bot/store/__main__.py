"""`python -m bot.store upgrade`: migrate the database at DATABASE_URL to the newest schema."""

from __future__ import annotations

import argparse

from sqlalchemy.engine import make_url

from bot.settings import Settings
from bot.store.migrate import current_revision, upgrade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.store", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("upgrade", help="apply all migrations (safe to repeat)")
    parser.parse_args(argv)

    url = Settings.from_env().database_url
    upgrade(url)
    safe = make_url(url).render_as_string(hide_password=True)
    print(f"{safe}: schema at revision {current_revision(url)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
