# Every install step lives here, so a fresh machine needs nothing done by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# What each goal needs from Debian, as commands to look for and the packages that bring them: the
# demo a registry, skopeo and git; the tests also the Docker daemon and the shells whose completion
# scripts they load.
DEMO_COMMANDS := skopeo docker-registry git
DEMO_PACKAGES := skopeo docker-registry git ca-certificates python3-venv
TEST_COMMANDS := $(DEMO_COMMANDS) dockerd zsh fish
APT_PACKAGES := $(DEMO_PACKAGES) docker.io zsh fish
SOURCES := tagmgr tests scripts

.PHONY: all system-deps demo-deps user-python venv lint docs test unit coverage demo bench clean

all: test

# $(call debian,COMMANDS,PACKAGES): install PACKAGES when one of COMMANDS is missing or, while
# there is no .venv yet, $(PYTHON) cannot make one without python3-venv (a fresh Debian's python3
# cannot); nothing when all is there.
define debian
	@missing=""; for cmd in $(1); do \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$cmd"; done; \
	[ -f $(STAMP) ] || $(PYTHON) -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root, or: sudo apt-get install $(2)" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(2); \
	fi
endef

system-deps:
	$(call debian,$(TEST_COMMANDS),$(APT_PACKAGES))

demo-deps:
	$(call debian,$(DEMO_COMMANDS),$(DEMO_PACKAGES))

# make bench installs tagmgr as a user on Debian has it, into a virtualenv of the system's python3
# (tests/support/measure.py, user_python); making one needs Debian's python3-venv. Without it
# (and without root to install it), the bench measures on the development interpreter and says so.
# After system-deps, so that `make -j bench` never runs two apt-get at once.
user-python: system-deps
	@if [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c 'import ensurepip' 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's python3-venv"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv; \
	  else \
	    echo "warning: no python3-venv (sudo apt-get install python3-venv): measuring on $(PYTHON)" >&2; \
	  fi; \
	fi

# For the goals that install Debian packages, the .venv is made after them, under make -j too.
GOALS := $(or $(MAKECMDGOALS),all)
INSTALLS_FIRST := $(if $(filter all test bench,$(GOALS)),system-deps) $(if $(filter demo,$(GOALS)),demo-deps)

$(STAMP): pyproject.toml | $(INSTALLS_FIRST)
	@[ -x $(BIN)/python ] || $(PYTHON) -c 'import ensurepip' 2>/dev/null || { echo "$(PYTHON) \
	cannot make a virtual environment: make demo or make test as root installs python3-venv, \
	or: sudo apt-get install python3-venv" >&2; exit 1; }
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The documentation site, into site/; --strict turns a broken link or a missing snippet into a failure.
docs: venv
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# pytest exits 5 when it collected nothing; any non-zero exit fails the target.
# Two workers took 324 s where one took 514 s (whole suite, 2 cores); PYTEST_WORKERS=0 runs in one.
PYTEST_WORKERS ?= 2
test: system-deps lint docs
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadgroup

# The fast unit tests, while iterating; `make test` runs every test.
unit: venv
	$(BIN)/pytest -q -m 'not integration and not slow'

# Unit coverage per package, the slow unit tests included (what tests/unit covers on its own).
coverage: venv
	$(BIN)/pytest -q -m 'not integration' --cov=tagmgr --cov-report= --cov-report=json:coverage.json
	$(BIN)/python scripts/coverage_table.py coverage.json

demo: demo-deps venv
	$(BIN)/python scripts/demo.py

clean:
	rm -rf $(VENV) .bench .demo .pytest_cache .mypy_cache .ruff_cache *.egg-info site .coverage coverage.json

# Performance figures come from here, measured side by side in one run, never from a timed test.
bench: system-deps user-python venv
	$(BIN)/python scripts/bench.py && $(BIN)/python scripts/bench_replay.py \
	  && $(BIN)/python scripts/bench_validate.py && $(BIN)/python scripts/bench_upstream.py \
	  && $(BIN)/python scripts/bench_pinrefs.py
