# Two commands matter: `make demo` and `make test`. Both set up .venv/ from the lock on first run.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint setup clean lock chromium

setup: $(STAMP)

# Install from the lock (requirements/*.txt) with uv: seconds, no resolver run.
$(STAMP): requirements/main.txt requirements/dev.txt requirements/nodeps.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements/main.txt requirements/dev.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -r requirements/nodeps.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/nurture demo

test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 -q

# The web chat's browser test drives Debian's chromium (never a browser downloaded at test time);
# without it that test is skipped.
chromium:
	@test -x /usr/bin/chromium || apt-get install -y -q chromium >/dev/null 2>&1 \
		|| (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1) \
		|| echo "chromium is not installed (apt-get install chromium): the browser test will be skipped"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Re-resolve the lock (needs uv); commit the result.
lock:
	cd requirements && ../$(BIN)/uv pip compile -q --python-version 3.11 main.in -o main.txt
	cd requirements && ../$(BIN)/uv pip compile -q --python-version 3.11 dev.in -o dev.txt

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
