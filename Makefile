PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint run install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m bot demo

# Three processes (pytest-xdist) on two cores: the tests spend much of their time waiting on
# servers, child processes and timers. Each starts its own PostgreSQL server
# (tests/conftest.py); a process without tests left takes some from another (worksteal).
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 3 --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

run: $(STAMP)
	$(BIN)/python -m bot run

clean:
	rm -rf $(VENV) demo-output
