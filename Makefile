# Atelier: `make run` serves the app, `make test` runs the whole suite (lint first). Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .tools
NODE_BIN := $(TOOLS)/node_modules/.bin
export PATH := $(CURDIR)/$(NODE_BIN):$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_CHECK_LATEST_VERSION := 0
export REFLEX_USE_GRANIAN := 1

.PHONY: run test test-fast lint bench clean rotate-ai-keys backup restore .tesseract .libreoffice

# Processes for the non-e2e tests (pytest-xdist); 2 = CI's cores. TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 2

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt constraints.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	touch $@

# requirements-dev.txt includes requirements.txt: one pip run resolves and installs both sets (it used to
# install the runtime set, then resolve it all over again for the dev set).
$(VENV)/.dev: requirements-dev.txt requirements.txt constraints.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt -c constraints.txt
	touch $@ $(VENV)/.runtime

# Reflex 0.10 needs node >= 22.22 and bun >= 1.4.4; Debian's are older, npm has both.
$(NODE_BIN)/bun:
	npm install --no-save --prefix $(TOOLS) node@22.23.3 bun@1.4.5
	touch $@

# Debian's Chromium for the end-to-end tests (never `playwright install`: no web access).
/usr/bin/chromium:
	(apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium))

# nginx (Debian's nginx-light) is the proxy of the scale-out test (tests/e2e/test_scaleout.py). Best effort:
# without it that test skips and says why. Debian's policy-rc.d (where present) keeps the package from starting nginx.
/usr/sbin/nginx:
	@(apt-get install -y -q nginx-light || (apt-get update -q && apt-get install -y -q nginx-light)) \
	  || echo "warning: could not install nginx-light; the scale-out test will be skipped"

# Tesseract for the local analyzer's OCR. Best effort: without it, OCR is reported as unavailable.
.tesseract:
	@command -v tesseract >/dev/null || (apt-get install -y -q tesseract-ocr fonts-dejavu-core \
	  || (apt-get update -q && apt-get install -y -q tesseract-ocr fonts-dejavu-core)) \
	  || echo "warning: could not install tesseract-ocr; the local analyzer runs without OCR"

# LibreOffice Impress turns slide decks into PDF. Best effort for `make run` (the app says when PDF
# export is unavailable); `make test` needs it for the PDF tests.
.libreoffice:
	@command -v soffice >/dev/null || (apt-get install -y -q libreoffice-impress \
	  || (apt-get update -q && apt-get install -y -q libreoffice-impress)) \
	  || echo "warning: could not install libreoffice-impress; PDF export of slide decks is unavailable"

run: $(VENV)/.runtime $(NODE_BIN)/bun .tesseract .libreoffice
	$(PY) scripts/run.py

# Two runs: Playwright's sync API keeps an event loop running for its whole session, which
# the asyncio tests cannot share. The first is spread over TEST_WORKERS processes, each with its own
# Redis server, PostgreSQL database and temporary folders (tests/conftest.py). The e2e run includes the
# scale-out test (network namespaces, as root).
test: $(VENV)/.dev $(NODE_BIN)/bun /usr/bin/chromium /usr/sbin/nginx .tesseract .libreoffice
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -m "not e2e" -n $(TEST_WORKERS) --dist loadgroup --durations=25
	$(PY) -m pytest -m e2e --durations=10

test-fast: $(VENV)/.dev
	$(PY) -m pytest -m "not e2e" -n $(TEST_WORKERS) --dist loadgroup --durations=25

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

bench: $(VENV)/.dev
	$(PY) bench/run_all.py

# After changing AI_KEYS_SECRET (old value in AI_KEYS_PREVIOUS): re-encrypt the stored AI connection keys.
rotate-ai-keys: $(VENV)/.runtime
	$(PY) -m app.services.ai.rotate

# One archive of the database and every stored object (README: Backup and restore). OUT=path picks the file.
backup: $(VENV)/.runtime
	$(PY) -m app.backup create $(if $(OUT),--out "$(OUT)")

# Into an empty install; FORCE=1 replaces a non-empty one.
restore: $(VENV)/.runtime
	@test -n "$(FILE)" || (echo "usage: make restore FILE=path/to/atelier-….zip [FORCE=1]" >&2; exit 2)
	$(PY) -m app.backup restore "$(FILE)" $(if $(FORCE),--force)

clean:
	rm -rf .web var tests/e2e/artifacts
