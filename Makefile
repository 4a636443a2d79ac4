# provenance: every target bootstraps its own virtual environment from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup sysdeps demo test lint typecheck unit bench fuzz stress clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

## system packages that tests drive as real peers (GNU tar, bsdtar, unzip, 7-Zip, ...)
sysdeps:
	bash tests/system/install.sh

## make demo: verify the repository's reference record, then register, verify and tamper in a temporary archive
demo: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash demo/demo.sh

## make test: lint, type-check and run the whole test suite
test: setup sysdeps lint typecheck unit

lint: setup
	$(BIN)/ruff check provenance tests bench

typecheck: setup
	$(BIN)/mypy

unit: setup sysdeps
	$(BIN)/python -m pytest -q -p no:cacheprovider --cov=provenance --cov-branch --cov-report=

bench: setup
	$(BIN)/python bench/run.py

fuzz: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz --fuzz-seconds=$${FUZZ_SECONDS:-60}

stress: setup
	PROVENANCE_STRESS_TRIALS=$${TRIALS:-200} $(BIN)/python -m pytest -q -p no:cacheprovider -m stress tests

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
