# Every target works from a fresh clone: it installs into .venv first when needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test bench check clean system-deps-demo system-deps-test

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Shell steps run in a bubblewrap sandbox (Linux); installed when missing and possible (root
# with apt-get), else a note says how.
system-deps-demo:
	@bash .ci/system-deps.sh demo

system-deps-test:
	@bash .ci/system-deps.sh test

demo: $(STAMP) system-deps-demo
	$(BIN)/oversight demo

# One test process a core (pytest-xdist): on 2 cores the suite takes about half as long. Each
# process runs its tests in collection order, so tests/web comes last in each: the browser its
# tests share holds an event loop that async tests elsewhere must not inherit (`--dist loadfile`
# broke that order, and them).
test: $(STAMP) system-deps-test
	$(BIN)/python -m pytest -n auto

bench: $(STAMP)
	$(BIN)/python -m benchmarks

check: $(STAMP)
	$(BIN)/ruff check oversight benchmarks adapters examples tests/adapters
	$(BIN)/mypy
	MYPYPATH=adapters/langchain $(BIN)/mypy --strict adapters/langchain/oversight_langchain examples benchmarks/bench_langchain.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
