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
# The console's queue page polls this often (bot.web.agent hands it to agent.js); presence must
# outlast the gap between two presence writes plus one poll, or an agent at work would blink out.
CONSOLE_POLL_S = 2


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
    # Citizen messages per client address and minute (shared networks share one address).
    citizen_messages_per_minute: int = 30
    # Reverse proxies in front of the web app that append to X-Forwarded-For (0: none).
    trusted_proxies: int = 0
    # Served over https: the console's session cookie is sent over https only.
    https: bool = False

    def __post_init__(self) -> None:
        # Imported here: the Rasa process reads settings without loading the store.
        from bot.store.users import SEEN_WRITE_INTERVAL

        floor = int(SEEN_WRITE_INTERVAL.total_seconds()) + CONSOLE_POLL_S
        if self.agent_presence_s <= floor:
            raise ValueError(
                f"BORGERBOT_AGENT_PRESENCE_S must be more than {floor} s (a console writes its "
                f"presence every {floor - CONSOLE_POLL_S} s and polls every {CONSOLE_POLL_S} s), "
                f"got {self.agent_presence_s}"
            )
        for name, value, least in (
            ("BORGERBOT_HANDOFF_WAIT_S", self.handoff_wait_s, 0),
            ("BORGERBOT_CITIZEN_MESSAGES_PER_MINUTE", self.citizen_messages_per_minute, 1),
            ("BORGERBOT_TRUSTED_PROXIES", self.trusted_proxies, 0),
        ):
            if value < least:
                raise ValueError(f"{name} must be at least {least}, got {value}")

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
        # An empty value (`FOO=` in .env or a compose file) means unset, for every variable.
        env = {k: v for k, v in environ.items() if v.strip()}
        knowledge = KnowledgeSettings.from_env(env)
        return cls(
            knowledge=knowledge,
            host=env.get("BORGERBOT_HOST", "127.0.0.1"),
            web_port=_int(env, "BORGERBOT_WEB_PORT", 8000),
            rasa_port=_int(env, "BORGERBOT_RASA_PORT", 5005),
            actions_port=_int(env, "BORGERBOT_ACTIONS_PORT", 5055),
            database_url=env.get(
                "DATABASE_URL", f"sqlite:///{knowledge.data_dir / 'borgerbot.db'}"
            ),
            secret_key=env.get("BORGERBOT_SECRET_KEY", ""),
            default_municipality=env.get("BORGERBOT_MUNICIPALITY", "*"),
            agent_presence_s=_int(env, "BORGERBOT_AGENT_PRESENCE_S", 120),
            handoff_wait_s=_int(env, "BORGERBOT_HANDOFF_WAIT_S", 600),
            citizen_messages_per_minute=_int(env, "BORGERBOT_CITIZEN_MESSAGES_PER_MINUTE", 30),
            trusted_proxies=_int(env, "BORGERBOT_TRUSTED_PROXIES", 0),
            https=env.get("BORGERBOT_HTTPS", "").lower() in ("1", "true", "yes"),
        )


def _int(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
