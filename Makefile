PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
LRS_DIR := tools/lrs
LRS_PORT ?= 8081

.PHONY: venv lrs-install test bench lrs run demo package clean interop-badgr lock lint typecheck check golden

# Stamps live inside the directories they describe, so deleting one re-triggers its install.
VENV_STAMP := $(VENV)/.requirements.stamp
LRS_STAMP := $(LRS_DIR)/node_modules/.package-lock.stamp

venv: $(VENV_STAMP)
lrs-install: $(LRS_STAMP)

# The runtime packages as locked, hash-checked (what deployment.zip bundles), then the dev tools
# held to the same versions: the lock without its hashes as constraints (pip would demand hashes
# for every dev tool too). A dev tool needing another version fails here instead of moving it.
$(VENV_STAMP): requirements.txt requirements-dev.txt
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --require-hashes -r requirements.txt
	sed -e '/--hash=/d' -e 's/ *\\$$//' requirements.txt > $(VENV)/runtime-pins.txt
	$(VPY) -m pip install --quiet -r requirements-dev.txt -c $(VENV)/runtime-pins.txt
	@touch $@

# requirements.txt from pyproject.toml's dependencies: every runtime package pinned, with the
# hashes of all its files (the Lambda's manylinux wheels too). pip-tools lives in a venv of its own
# (it needs a newer pip than the one the dev venv runs chalice with). `make lock LOCK_FLAGS=--upgrade`
# (or `--upgrade-package NAME`) moves versions within the ranges.
PIP_TOOLS := pip-tools==7.7.0
LOCK_VENV := $(VENV)/lock
LOCK_FLAGS ?=
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/pip install --quiet $(PIP_TOOLS); }
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes \
		--strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_FLAGS) \
		--output-file requirements.txt pyproject.toml

# ruff and mypy as configured in pyproject.toml; CI (.ci/run) runs `make check` before `make test`.
# Each tool runs to the end and reports, then the target fails if any of them found something.
lint: venv
	$(VENV)/bin/ruff check .; s=$$?; $(VENV)/bin/ruff format --check . && exit $$s

typecheck: venv
	$(VENV)/bin/mypy

check: venv
	@s=0; $(MAKE) --no-print-directory lint || s=1; $(MAKE) --no-print-directory typecheck || s=1; exit $$s

# npm >= 11 skips the deps' install scripts (aws-sdk, core-js notices; newrelic native
# metrics, which would download a binary); the server runs fine without them.
$(LRS_STAMP): $(LRS_DIR)/package.json $(LRS_DIR)/package-lock.json
	cd $(LRS_DIR) && npm ci --no-audit --no-fund
	@touch $@

test: venv lrs-install
	$(VPY) -m pytest -q

# Rewrites tests/golden/ from today's translation of the fixtures: only for an intended change of
# the statements (read the diff before committing it).
golden: venv
	$(VPY) -m tests.golden --update

# Every benchmark script (a file with a __main__ block; helpers such as credly_badges.py are not).
bench: venv lrs-install
	@set -e; for f in $$(grep -l '__main__' bench/*.py); do \
		echo "== $$f"; $(VPY) "$$f"; \
	done

# The connector against a Badgr server already running (BADGR_INTEROP_* settings: docs/platforms.md).
interop-badgr: venv lrs-install
	$(VPY) tools/interop/badgr.py

lrs: venv lrs-install
	$(VPY) tools/lrs_process.py --port $(LRS_PORT)

# The connector under chalice local, the in-memory LRS and a fake Credly API (Ctrl-C, SIGTERM or
# SIGHUP stops all); their settings in var/local.env, for `. var/local.env` in a second terminal.
run: venv lrs-install
	$(VPY) tools/devstack.py run

# Starts its own stack on free ports, sends every sample webhook, prints what reached the LRS.
demo: venv lrs-install
	$(VPY) tools/devstack.py demo

# The CloudFormation/SAM template for a stage (dist/<stage>/sam.json + deployment.zip), with the
# queue, DLQ, table and event source settings of infra/merge_template.py merged in, then linted.
# Offline: chalice package needs a region (any: the template uses ${AWS::Region}), no credentials.
# The zip's packages are requirements.txt's: the lock (make lock), pinned and hash-checked.
STAGE ?= prod
package: venv
	rm -rf dist/$(STAGE) && mkdir -p dist/$(STAGE)
	$(VPY) infra/merge_template.py $(STAGE) > dist/merge-$(STAGE).json
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-$${AWS_REGION:-us-east-1}} \
	$(VENV)/bin/chalice package --stage $(STAGE) --merge-template dist/merge-$(STAGE).json dist/$(STAGE)
	$(VENV)/bin/cfn-lint -- dist/$(STAGE)/sam.json
	@echo "template: dist/$(STAGE)/sam.json"

clean:
	rm -rf $(VENV) $(LRS_DIR)/node_modules .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
