"""Reading what the web front attaches to each message (Rasa REST `metadata`)."""

from __future__ import annotations

import os
from datetime import datetime

from rasa_sdk import Tracker

from actions.constants import METADATA_MUNICIPALITY, METADATA_NOW
from bot.hours import TZ

# Tests (and only tests) may fix the clock per message; the web front never forwards this key.
CLOCK_OVERRIDE_ENV = "BORGERBOT_ALLOW_CLOCK_OVERRIDE"


def municipality_of(tracker: Tracker) -> str | None:
    """The municipality code the widget was embedded with, if any."""
    metadata = tracker.latest_message.get("metadata") or {}
    code = metadata.get(METADATA_MUNICIPALITY)
    return str(code) if code and code != "*" else None


def now_for(tracker: Tracker) -> datetime:
    if os.environ.get(CLOCK_OVERRIDE_ENV) == "1":
        value = (tracker.latest_message.get("metadata") or {}).get(METADATA_NOW)
        if value:
            moment = datetime.fromisoformat(str(value))
            return moment if moment.tzinfo else moment.replace(tzinfo=TZ)
    return datetime.now(TZ)
