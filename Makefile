# Smarketing developer / CI entry points.
# Re-runs are fast: the venv and the vendored htmx are rebuilt only when
# requirements.txt or package-lock.json change.

PYTHON  ?= python3
PORT    ?= 5000
WORKERS ?= 3
PYTEST_ARGS ?=

VENV := .venv
BIN  := $(VENV)/bin

.PHONY: setup run test serve clean

setup: $(VENV)/.installed static/vendor/htmx.min.js

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -r requirements.txt
	touch $@

static/vendor/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

run: setup
	$(BIN)/flask --app app db init
	$(BIN)/flask --app app demo-data --if-empty
	$(BIN)/flask --app app run --host 127.0.0.1 --port $(PORT)

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

serve: setup
	$(BIN)/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) 'app:create_app()'

clean:
	rm -rf $(VENV) node_modules static/vendor
