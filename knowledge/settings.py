"""Where the knowledge library finds its model, guides and index.

Read from the environment (and a `.env` file in the working directory, loaded by the callers'
settings). `bot.settings.Settings` embeds this object, so the whole product has one settings object.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# The model we build offline from the pinned wheels (see knowledge.model).
BUILTIN_MODEL = "builtin:multilingual-e5-small"


@dataclass(frozen=True)
class KnowledgeSettings:
    data_dir: Path
    guides_dir: Path
    # BUILTIN_MODEL, a local sentence-transformers directory, or a hub name (sites with hub access)
    embedding_model: str

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def wheel_cache_dir(self) -> Path:
        return self.data_dir / "cache" / "wheels"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> KnowledgeSettings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("BORGERBOT_DATA_DIR", REPO_ROOT / "data")).resolve()
        guides_dir = Path(env.get("BORGERBOT_GUIDES_DIR", REPO_ROOT / "knowledge" / "guides"))
        return cls(
            data_dir=data_dir,
            guides_dir=guides_dir.resolve(),
            embedding_model=env.get("BORGERBOT_EMBEDDING_MODEL", BUILTIN_MODEL),
        )
