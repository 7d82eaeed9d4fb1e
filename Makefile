# `make run`: set up and serve the portal (embedded: SQLite, in-process analysis, demo users).
# `make test`: set up, check (ruff, mypy, import contracts) and run the whole test suite against
# MariaDB and Redis.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP_INSTALL := $(PY) -m pip install -q --require-hashes
# The demo runs as production does (no debug pages, manifest static files), over plain http on
# loopback, with a secret key of its own kept in var/.
DEMO_SECRET := var/demo-secret-key
DEMO_ENV = DEBUG=0 DEMO_MODE=1 SECURE_SSL=0 SECRET_KEY="$$(cat $(DEMO_SECRET))"
TEST_DATABASE_URL ?= mysql://root@127.0.0.1:3306/emergency_portal
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run test setup setup-dev check requirements benchmarks backup production-setup

$(VENV)/bin/python:
	./scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements/base.txt | $(VENV)/bin/python
	$(PIP_INSTALL) -r requirements/base.txt
	touch $@

$(VENV)/.installed-dev: requirements/base.txt requirements/dev.txt | $(VENV)/bin/python
	$(PIP_INSTALL) -r requirements/base.txt -r requirements/dev.txt
	touch $(VENV)/.installed $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

$(DEMO_SECRET):
	mkdir -p var
	umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

run: setup $(DEMO_SECRET)
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py collectstatic --noinput -v0
	$(DEMO_ENV) $(PY) manage.py warm_up
	$(DEMO_ENV) $(PY) manage.py demo_setup
	$(DEMO_ENV) $(PY) manage.py audit_demo
	$(DEMO_ENV) $(PY) manage.py resume_analysis
	@echo "Serving on http://127.0.0.1:8000  (Ctrl-C stops)"
	$(DEMO_ENV) $(VENV)/bin/daphne --no-server-name -b 127.0.0.1 -p 8000 emergency_portal.asgi:application

# Production (docs/deployment.md, "Production"): with the settings in the environment or in .env, install,
# migrate, collect the static files, compile the audio kernels and check the deployment settings;
# then `.venv/bin/honcho start` (the Procfile) behind nginx (deploy/nginx/portal.conf).
production-setup: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py warm_up
	$(PY) manage.py check --deploy --fail-level WARNING

# Static checks, as CI runs them: lint, types (strict on the pure core), the import contracts, and
# the guides in docs/ built in strict mode (a link to a missing page or heading fails).
check: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mkdocs build --strict --quiet --site-dir site

test: check
	./scripts/system-deps.sh --test
	./scripts/services.sh
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

# Re-pin after editing requirements/*.in (hashes included: installs are checked).
requirements: setup-dev
	cd requirements && ../$(VENV)/bin/pip-compile -q --generate-hashes --strip-extras --allow-unsafe base.in -o base.txt
	cd requirements && ../$(VENV)/bin/pip-compile -q --generate-hashes --strip-extras --allow-unsafe dev.in -o dev.txt

benchmarks: setup-dev
	for script in benchmarks/*.py; do $(PY) $$script || exit 1; done

# One archive of the database and MEDIA_ROOT in BACKUP_DIR (docs/deployment.md, "Backup and restore").
backup: setup
	$(PY) manage.py backup
