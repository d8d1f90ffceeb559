# One command each: install | demo | test | bench | lint. CI runs `make test` (.ci/run).
PYTHON ?= $(shell for p in python3.12 python3.11 python3.10 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test unit integration bench lint redis clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Error: Python >= 3.10 not found. Install python3.10+ and re-run."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# setuptools prints an "Editable installation" banner for every -e install; it is advice, not news
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/llmsuite tokenizer
	@touch $(STAMP)

install: $(STAMP)

redis:
	@scripts/ensure-redis.sh

demo: install redis
	$(BIN)/llmsuite demo

# two pytest workers (pytest-xdist): integration tests mostly wait on servers and Locust, and every
# one of them takes its own free loopback ports, so two at a time halve the wall time on 2 cores
# --dist loadfile: a module's tests run on one worker, so a module fixture that is a whole run
# runs once (pytest 9.2 ignores xdist_group marks: xdist 3.8 renames nodeids the old way);
# tests/integration/conftest.py puts the longest modules first so both workers end together; unit
# and integration tests share one session, so the CPU-bound unit tests fill the time integration
# tests spend waiting on servers (measured: 524 s together vs 567 s one after the other)
TEST_WORKERS ?= 2

test: install
	@scripts/ensure-redis.sh --required
	@scripts/ensure-chromium.sh
	@scripts/ensure-prometheus.sh
	$(BIN)/python -m pytest tests/unit tests/integration -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

unit: install
	$(BIN)/python -m pytest tests/unit -q

integration: install
	@scripts/ensure-redis.sh --required
	@scripts/ensure-chromium.sh
	@scripts/ensure-prometheus.sh
	$(BIN)/python -m pytest tests/integration -q

bench: install redis
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null 2>&1; } \
		|| echo "note: wrk unavailable; bench_mock_server falls back to its aiohttp load generator"
	$(BIN)/python bench/run_all.py

lint: install
	$(BIN)/ruff check suite mock_server tests bench
	$(BIN)/python -m suite.devtools.imports

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
