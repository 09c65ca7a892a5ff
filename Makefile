# Photoshare: two commands on a fresh machine, `make run` and `make test`.
# Everything installs into .venv from the pinned requirements.txt.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
SANDBOX_HOST ?= 127.0.0.1
SANDBOX_PORT ?= 4566
PORT ?= 8000
export SANDBOX_PORT PORT

.PHONY: install browser postgres run test sandbox bench reset lock clean

install: $(VENV)/.installed

# Re-install only when the pins change; the stamp file records the last install.
$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# The sandbox, provisioned, with the demo users, and the app on 127.0.0.1:$(PORT).
run: install
	$(PY) scripts/run.py

test: install browser postgres
	$(PY) -m pytest

# The browser tests drive Debian's Chromium through Playwright; install it from
# the distribution when missing (never a browser download of Playwright's own).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests..."; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# The two-process check (tests/deploy/) runs PostgreSQL from a temporary data
# directory (scripts/production_stack.py); install Debian's server when its
# initdb is neither on PATH nor in /usr/lib/postgresql/*/bin. The cluster the
# package makes for itself is never used.
postgres:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "Installing Debian's postgresql for the deployment tests..."; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

# The local AWS sandbox on its own, in the foreground (Ctrl-C stops it).
sandbox: install
	$(PY) -m sandbox --host $(SANDBOX_HOST) --port $(SANDBOX_PORT)

bench: install
	$(PY) bench/sandbox_overhead.py

# Wipe the sandbox's data and the local database together (they refer to each other).
VAR_DIR ?= var
reset:
	@printf 'This deletes the sandbox data ($(VAR_DIR)/sandbox), the local database, the deployment IDs and the applied-lab record. Continue? [y/N] '; \
	read answer || answer=; \
	if [ "$$answer" = y ] || [ "$$answer" = Y ]; then \
		rm -rf $(VAR_DIR)/sandbox $(VAR_DIR)/db.sqlite3 $(VAR_DIR)/deployment-local.json $(VAR_DIR)/labs.json $(VAR_DIR)/labs-sessions.json && echo "Reset: the next make run starts empty."; \
	else echo "Nothing deleted."; fi

# Re-pin the whole dependency tree from requirements.in.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --disable-pip-version-check -r requirements.in
	.lock-venv/bin/pip freeze --exclude-editable > requirements.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache
