"""Talk to the Rasa server's REST channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests


class RasaUnavailable(RuntimeError):
    """Rasa did not answer; the citizen gets a Danish 'try again' message, the log the cause."""


@dataclass(frozen=True)
class BotMessage:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "buttons": self.buttons}


def send_to_rasa(
    rasa_url: str, sender: str, text: str, metadata: dict[str, Any], timeout: float
) -> list[BotMessage]:
    try:
        response = requests.post(
            f"{rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata},
            timeout=timeout,
        )
        response.raise_for_status()
        payload = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise RasaUnavailable(f"Rasa REST webhook failed: {exc}") from exc
    messages = []
    for item in payload:
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in item.get("buttons") or []
        ]
        if item.get("text") or buttons:
            messages.append(BotMessage(text=item.get("text") or "", buttons=buttons))
    return messages
