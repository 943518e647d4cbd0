# One command each: `make run` installs and starts the service, `make test` runs the tests.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install run test lint bench bench-list bench-content clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: install  ## install, create the schema, serve on 127.0.0.1:8000 (HOST/PORT to change)
	$(BIN)/pixyproxy init-db
	$(BIN)/pixyproxy serve --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),8000)

test: install  ## unit, integration (MariaDB, moto S3, fake OpenAI) and e2e tests
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install  ## the four endpoints beside the plain build and the ceilings: req/s, ratios, CPU/request, peak RSS
	command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || echo "no wrk: using the httpx client"; }
	$(BIN)/python -m bench.run

bench-list: install  ## listing latency at 1,000 and 100,000 rows on a fresh MySQL database
	$(BIN)/python -m bench.list_bench

bench-content: install  ## a 64 MiB image to 8 clients: server peak RSS growth, /content vs S3 throughput
	$(BIN)/python -m bench.content_bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
