# Two commands: `make run` (no external service) and `make test` (PostgreSQL + Redis on this machine).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,sys;print(hashlib.sha1(open('pyproject.toml','rb').read()).hexdigest()[:12])")

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test lint services bench bench-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/saleor-support run

services:
	bash .ci/services.sh

test: install services
	$(BIN)/ruff check .
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Benchmarks print figures; they never assert timings. `bench-smoke` is the short CI run of each.
bench: install services
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/ingest_cpu.py
	$(BIN)/python bench/sla_scan.py
	$(BIN)/python bench/inbox.py
	$(BIN)/python bench/triage.py

bench-smoke: install services
	$(BIN)/python bench/ingest.py --smoke
	$(BIN)/python bench/ingest_cpu.py --smoke
	$(BIN)/python bench/sla_scan.py --smoke
	$(BIN)/python bench/inbox.py --smoke
	$(BIN)/python bench/triage.py --rounds 1 --llm-messages 20

clean:
	rm -rf $(VENV) var .pytest_cache

# AI triage: retrain the offline intent model from the examples in the repo (deterministic), and score it.
.PHONY: train eval
train: install
	$(BIN)/pip install -q -e '.[train]'
	$(BIN)/python -m saleor_support_plugin.ai.offline.train

eval: install
	$(BIN)/saleor-support triage-eval saleor_support_plugin/ai/data/triage/heldout.csv --text-column text --label-column label
