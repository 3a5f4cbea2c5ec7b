"""The product's one settings object, read from the environment and an optional `.env` file.

Every port, path and URL the processes use comes from here; `README.md` documents the variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

from knowledge.settings import REPO_ROOT, KnowledgeSettings

BOT_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Settings:
    knowledge: KnowledgeSettings
    host: str = "127.0.0.1"
    web_port: int = 8000
    rasa_port: int = 5005
    actions_port: int = 5055
    database_url: str = ""
    secret_key: str = field(default="", repr=False)
    default_municipality: str = "*"
    # Live chat only while an agent's console has polled within this many seconds.
    agent_presence_s: int = 120
    # A hand-off nobody has taken after this many seconds: the citizen is offered a callback.
    handoff_wait_s: int = 600
    # Reverse proxies in front of the web app that append to X-Forwarded-For (0: none).
    trusted_proxies: int = 0
    # Served over https: the console's session cookie is sent over https only.
    https: bool = False

    @property
    def data_dir(self) -> Path:
        return self.knowledge.data_dir

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.host}:{self.actions_port}/webhook"

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}/"

    @property
    def rasa_models_dir(self) -> Path:
        return self.data_dir / "rasa-models"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        if environ is None:
            # A `.env` next to the repository root fills in what the environment leaves unset.
            load_dotenv(REPO_ROOT / ".env", override=False)
            environ = dict(os.environ)
        knowledge = KnowledgeSettings.from_env(environ)
        return cls(
            knowledge=knowledge,
            host=environ.get("BORGERBOT_HOST", "127.0.0.1"),
            web_port=int(environ.get("BORGERBOT_WEB_PORT", "8000")),
            rasa_port=int(environ.get("BORGERBOT_RASA_PORT", "5005")),
            actions_port=int(environ.get("BORGERBOT_ACTIONS_PORT", "5055")),
            database_url=environ.get(
                "DATABASE_URL", f"sqlite:///{knowledge.data_dir / 'borgerbot.db'}"
            ),
            secret_key=environ.get("BORGERBOT_SECRET_KEY", ""),
            default_municipality=environ.get("BORGERBOT_MUNICIPALITY", "*"),
            agent_presence_s=int(environ.get("BORGERBOT_AGENT_PRESENCE_S", "120")),
            handoff_wait_s=int(environ.get("BORGERBOT_HANDOFF_WAIT_S", "600")),
            trusted_proxies=int(environ.get("BORGERBOT_TRUSTED_PROXIES", "0") or "0"),
            https=environ.get("BORGERBOT_HTTPS", "").lower() in ("1", "true", "yes"),
        )
