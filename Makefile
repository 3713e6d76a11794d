# The README's commands: `make demo`, `make test` and `make test-fast`. Each does all set-up on a fresh
# Debian-like machine (missing apt packages, a virtual environment, twin's own PostGIS) and is safe to
# run again: a second time, the set-up checks take a second or two.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ARTIFACTS := test-artifacts

.PHONY: demo test test-fast baselines setup system-demo system-test stop clean

demo: system-demo $(INSTALLED)
	$(BIN)/twin demo

test: system-test $(INSTALLED)
	@mkdir -p $(ARTIFACTS) && rm -f $(ARTIFACTS)/junit.xml
	$(BIN)/python -m pytest --junitxml=$(ARTIFACTS)/junit.xml $(PYTEST_ARGS)
	$(BIN)/python scripts/check_tests_ran.py $(ARTIFACTS)/junit.xml

# The fast tier: tests marked `fast` (unit and in-process tests; no browser, so no Chromium needed).
test-fast: system-demo $(INSTALLED)
	@mkdir -p $(ARTIFACTS) && rm -f $(ARTIFACTS)/junit-fast.xml
	$(BIN)/python -m pytest -m fast --junitxml=$(ARTIFACTS)/junit-fast.xml $(PYTEST_ARGS)
	$(BIN)/python scripts/check_tests_ran.py $(ARTIFACTS)/junit-fast.xml

# Re-records the visual tests' baselines and their stack record (tests/baselines/): review, then commit.
baselines:
	TWIN_UPDATE_BASELINES=1 $(MAKE) test PYTEST_ARGS=tests/test_visual.py

setup: system-test $(INSTALLED)

system-demo:
	@scripts/setup_system.sh demo

system-test:
	@scripts/setup_system.sh test

# Reinstalled only when pyproject.toml changes.
$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all,test,bench]"
	@touch $@

stop:
	-@test -x $(BIN)/twin && $(BIN)/twin db down

clean: stop
	rm -rf $(VENV) .twin $(ARTIFACTS)
