# Two commands do everything on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint setup browser clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# The report tests render the HTML pages in headless Chromium (tests/test_report_html.py): install
# Debian's package when it is missing (as root, or with password-less sudo); otherwise say how.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; \
	  elif sudo -n true 2>/dev/null; then SUDO="sudo"; \
	  else echo "make test needs Chromium (the report tests render pages in it): run" >&2; \
	       echo "  sudo apt-get install -y --no-install-recommends chromium" >&2; \
	       echo "then make test again" >&2; exit 1; fi; \
	  echo "installing Chromium (apt) for the report tests"; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

# `dvc config` rewrites .dvc/config without its comments: only when analytics is not off yet.
run: $(STAMP)
	grep -q '^ *analytics = false' .dvc/config || $(BIN)/dvc config core.analytics false
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

# One pytest worker per core (at most 4: each imports torch), a test module per unit of work
# (tests/conftest.py says why).
test: $(STAMP) browser
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks experiments

clean:
	rm -rf $(VENV)
