"""Train the Rasa model only when its inputs changed.

The model file is named after a hash of config, domain, training data and the rasa version, so
"is it current?" is a file lookup and `make run` never retrains for nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

from bot.rasa_env import rasa_environment
from bot.settings import BOT_DIR, Settings
from knowledge.model import model_fingerprint, resolve_model

CONFIG = BOT_DIR / "config.yml"
DOMAIN = BOT_DIR / "domain.yml"
DATA = BOT_DIR / "data"
KEEP_MODELS = 2


def training_inputs() -> list[Path]:
    return [CONFIG, DOMAIN, *sorted(DATA.rglob("*.yml"))]


def inputs_hash(settings: Settings) -> str:
    digest = hashlib.sha256(f"rasa=={version('rasa')}".encode())
    # The pipeline's E5Featurizer embeds with the configured embedding model: another model (or
    # another build of it) gives other features, so the Rasa model must be retrained.
    digest.update(model_fingerprint(resolve_model(settings.knowledge)).encode())
    for path in training_inputs():
        digest.update(str(path.relative_to(BOT_DIR)).encode())
        digest.update(path.read_bytes())
    # Custom NLU components live in the bot package; their code is a training input too.
    for path in sorted((BOT_DIR / "nlu").rglob("*.py")) if (BOT_DIR / "nlu").exists() else []:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(settings: Settings) -> Path:
    return settings.rasa_models_dir / f"borgerbot-{inputs_hash(settings)}.tar.gz"


def train(settings: Settings, *, force: bool = False) -> Path:
    target = model_path(settings)
    if target.exists() and not force:
        print(f"Rasa model is current: {target.name}")
        return target
    settings.rasa_models_dir.mkdir(parents=True, exist_ok=True)
    print(f"Training Rasa model {target.name} ...", flush=True)
    started = time.monotonic()
    cmd = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(CONFIG), "--domain", str(DOMAIN), "--data", str(DATA),
        "--out", str(settings.rasa_models_dir),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, env=rasa_environment(settings), cwd=BOT_DIR.parent)
    if not target.exists():
        raise RuntimeError(f"rasa train finished but {target} is missing")
    print(f"Trained in {time.monotonic() - started:.0f} s: {target}")
    _prune(settings.rasa_models_dir, keep=target)
    return target


def _prune(models_dir: Path, keep: Path) -> None:
    old = sorted(
        (p for p in models_dir.glob("borgerbot-*.tar.gz") if p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for path in old[KEEP_MODELS - 1 :]:
        path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the Rasa model when its inputs changed.")
    parser.add_argument("--force", action="store_true", help="train even if the model is current")
    parser.add_argument("--print-path", action="store_true", help="print the model path and exit")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.print_path:
        print(model_path(settings))
        return 0
    train(settings, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
