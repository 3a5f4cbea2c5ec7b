# Two commands on a fresh machine: `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed-$(shell cat requirements/lock.txt pyproject.toml 2>/dev/null | sha256sum | cut -c1-12)
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup install model index db rasa-model browser-deps run test test-fast lint eval eval-nlu lock reset

setup: install model index rasa-model db

# The lock is installed without resolving (uv, --no-deps); rasa and rasa-sdk declare
# Requires-Python <3.11 but run on 3.11, so pip installs them with --ignore-requires-python.
install: $(INSTALLED)
$(INSTALLED):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check uv==0.13.9
	$(VENV)/bin/uv pip install -q --python $(PY) --no-deps -r requirements/lock.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --ignore-requires-python \
		rasa==3.6.21 rasa-sdk==3.6.2
	@# Our packages by path (what an editable install does): setuptools 79 cannot build metadata
	@# against the packaging 20.9 that rasa pins.
	$(PY) -c "import site, pathlib; pathlib.Path(site.getsitepackages()[0], 'borgerbot.pth')\
		.write_text(str(pathlib.Path.cwd()) + '\n')"
	rm -f $(VENV)/.installed-* && touch $@

model: install
	$(PY) -m knowledge.model build

# Incremental: only guides whose text changed are embedded again.
index: model
	$(PY) -m knowledge build --quiet

# Database migrations (Alembic); DATABASE_URL picks SQLite (default) or PostgreSQL.
db: install
	$(PY) -m bot.store upgrade

# The NLU pipeline embeds messages with the embedding model (bot/nlu/e5_featurizer.py).
rasa-model: model
	$(PY) -m bot.train

run: setup
	$(PY) -m bot.run

# Browser tests: Debian's Chromium (Playwright's own download is not reachable here) and axe-core.
CHROMIUM := /usr/bin/chromium
AXE := node_modules/axe-core/axe.min.js
browser-deps: $(CHROMIUM) $(AXE)
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: setup browser-deps
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow and not integration and not browser"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Quality and latency on the development set, in all three retrieval modes.
eval: index
	for mode in hybrid dense lexical; do \
		$(PY) -m knowledge eval ../shared/eval/dev.jsonl --mode $$mode; done

# Intent and entity figures of the NLU pipeline by 5-fold cross-validation (about 13 min).
eval-nlu: model
	$(PY) -m rasa test nlu --nlu bot/data/nlu.yml --config bot/config.yml \
		--cross-validation --folds 5 --out data/nlu-eval

lock:
	bash scripts/lock.sh

# Removes everything built (venv, model, index, Rasa models, database); guides are untouched.
reset:
	rm -rf $(VENV) data
