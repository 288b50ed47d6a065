PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
LRS_DIR := tools/lrs
LRS_PORT ?= 8081

.PHONY: venv lrs-install test bench lrs run demo package clean interop-badgr

# Stamps live inside the directories they describe, so deleting one re-triggers its install.
VENV_STAMP := $(VENV)/.requirements.stamp
LRS_STAMP := $(LRS_DIR)/node_modules/.package-lock.stamp

venv: $(VENV_STAMP)
lrs-install: $(LRS_STAMP)

$(VENV_STAMP): requirements.txt requirements-dev.txt
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

# npm >= 11 skips the deps' install scripts (aws-sdk, core-js notices; newrelic native
# metrics, which would download a binary); the server runs fine without them.
$(LRS_STAMP): $(LRS_DIR)/package.json $(LRS_DIR)/package-lock.json
	cd $(LRS_DIR) && npm ci --no-audit --no-fund
	@touch $@

test: venv lrs-install
	$(VPY) -m pytest -q

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
