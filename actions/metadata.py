"""Reading what the web front attaches to each message (Rasa REST `metadata`)."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.constants import METADATA_MUNICIPALITY


def municipality_of(tracker: Tracker) -> str | None:
    """The municipality code the widget was embedded with, if any."""
    metadata = tracker.latest_message.get("metadata") or {}
    code = metadata.get(METADATA_MUNICIPALITY)
    return str(code) if code else None
