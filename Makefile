# Quickstart: `make demo` and `make test` each set up .venv from a fresh clone, then run.
# Setup also installs graphviz's `dot` when it is missing and it may (root or passwordless sudo),
# else prints the command; `make setup NO_SYSTEM_PACKAGES=1` never touches system packages.
PYTHON ?= python3
NO_SYSTEM_PACKAGES ?=
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup graphviz demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,examples]"
	touch $(STAMP)

setup: $(STAMP) graphviz

graphviz:
	@NO_SYSTEM_PACKAGES="$(NO_SYSTEM_PACKAGES)" bash .ci/install_graphviz.sh

demo: setup
	$(BIN)/python examples/demo.py

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check autograd nn tests examples benchmarks

bench: setup
	$(BIN)/python benchmarks/bench_mlp.py
	$(BIN)/python benchmarks/bench_layers.py
	$(BIN)/python benchmarks/bench_rnn.py
	$(BIN)/python benchmarks/bench_functions.py

clean:
	rm -rf $(VENV) out .pytest_cache
