# `make run`: set up and serve the portal (embedded: SQLite, in-process analysis, demo users).
# `make test`: set up and run the whole test suite against MariaDB and Redis.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_ENV := DEBUG=1 DEMO_MODE=1 SECURE_SSL=0
TEST_DATABASE_URL ?= mysql://root@127.0.0.1:3306/emergency_portal
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run test setup lint benchmarks

$(VENV)/.installed: requirements.txt
	./scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

setup: $(VENV)/.installed

run: setup
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py collectstatic --noinput -v0
	$(DEMO_ENV) $(PY) manage.py warm_up
	$(DEMO_ENV) $(PY) manage.py demo_setup
	$(DEMO_ENV) $(PY) manage.py resume_analysis
	@echo "Serving on http://127.0.0.1:8000  (Ctrl-C stops)"
	$(DEMO_ENV) $(VENV)/bin/daphne -b 127.0.0.1 -p 8000 emergency_portal.asgi:application

test: setup
	./scripts/system-deps.sh --test
	./scripts/services.sh
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

benchmarks: setup
	for script in benchmarks/*.py; do $(PY) $$script || exit 1; done
