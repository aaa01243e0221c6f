# Smarketing developer / CI entry points.
# Re-runs are fast: the venv and the vendored htmx are rebuilt only when
# requirements.txt or package-lock.json change.

PYTHON  ?= python3
PORT    ?= 5000
WORKERS ?= 3
PYTEST_ARGS ?=

VENV := .venv
BIN  := $(VENV)/bin

# The instants .ci/run also tests at (SMARKETING_TEST_NOW): 00:30 in Madrid on a month's
# first day (still the previous month in UTC), 23:30 on its last day, and the mornings of
# the spring-forward and fall-back days of 2027: after every date the tests write, which a
# business time must not precede (the 2026 days, in March and October, failed for that).
CLOCKS ?= 2026-12-01T00:30+01:00 2026-11-30T23:30+01:00 2027-03-28T01:30+01:00 2027-10-31T02:30+02:00

.PHONY: setup run test test-clocks serve clean messages

setup: $(VENV)/.installed static/vendor/htmx.min.js translations/es/LC_MESSAGES/messages.mo

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -r requirements.txt
	touch $@

static/vendor/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

# Catalogs are kept as .po in the repository and compiled at set-up.
translations/es/LC_MESSAGES/messages.mo: translations/es/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -d translations -f

# Maintainers: refresh the catalog after adding strings, then translate the new entries.
# Errors shown to people carry a catalog template (tests/unit/test_translations.py extracts alike).
ERROR_KEYWORDS = $(foreach e,IllegalTransition LeadNotFound DuplicateEmail StaleLead AgreementConflict ReportError ReportNotReady IntegrationError,-k $(e))
messages:
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k N_ -k InvalidInput:2 $(ERROR_KEYWORDS) -o translations/messages.pot --no-location --sort-output domain smarketing projections templates
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l es --no-fuzzy-matching

run: setup
	$(BIN)/flask --app app db init
	$(BIN)/flask --app app demo-data --if-empty
	# Plain http on loopback: session cookies without the Secure flag (docs/SECURITY.md).
	# The notifications' scheduler and sender beside it (without SMARKETING_SMTP_URL they
	# write .eml files to instance/mailbox), stopped when the web server exits.
	$(BIN)/flask --app app notifications run & notifier=$$!; \
	trap 'kill -TERM $$notifier 2>/dev/null; wait $$notifier' EXIT INT TERM; \
	SMARKETING_INSECURE_COOKIES=1 $(BIN)/flask --app app run --host 127.0.0.1 --port $(PORT)

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/vulture
	$(BIN)/pytest $(PYTEST_ARGS)

# The SQLite half of the unit and integration tests at each of CLOCKS.
test-clocks: setup
	@for now in $(CLOCKS); do \
	  echo "== clock starts at $$now"; \
	  SMARKETING_TEST_NOW=$$now $(BIN)/pytest -q -p no:cacheprovider -m "not slow" -k "not postgres" \
	    tests/unit tests/integration $(PYTEST_ARGS) || exit 1; \
	done

# Production-like: DATABASE_URL (PostgreSQL), WORKERS and PORT from the environment.
# Schema once, before any worker; then one projector process beside gunicorn,
# stopped (SIGTERM) when gunicorn exits. Writes still catch up before responding.
serve: setup
	@test -n "$(DATABASE_URL)" || { echo "set DATABASE_URL=postgresql://user@host:5432/db"; exit 2; }
	$(BIN)/flask --app app db init
	$(BIN)/flask --app app projections run & projector=$$!; \
	$(BIN)/flask --app app notifications run & notifier=$$!; \
	trap 'kill -TERM $$projector $$notifier 2>/dev/null; wait $$projector $$notifier' EXIT INT TERM; \
	$(BIN)/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) 'app:create_app()'

clean:
	rm -rf $(VENV) node_modules static/vendor
