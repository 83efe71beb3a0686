# hds-audit — two commands on a fresh clone: `make audit` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REPORTS ?= reports
# The bundled default: the patient-records platform and its compliant twin.
FIXTURES ?= terraform_fixtures/patient-records terraform_fixtures/compliant

.PHONY: audit test lint bench browser clean help

help:
	@echo "make audit   set up and audit the bundled terraform_fixtures/ -> $(REPORTS)/report.{html,json}"
	@echo "make test    run the whole test suite (installs chromium for the HTML tests when missing)"
	@echo "make lint    ruff + mypy"
	@echo "make bench   benchmarks (100,000-resource state; Azure: 3 subscriptions, 3,000 resources;"
	@echo "             AWS: 3 accounts x 6 regions, 2,000 resources, 50 ms per call)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Findings in the bundled platform are planted on purpose: exit 1 (violations found) is the
# expected outcome of the demo; any other non-zero code fails the target.
audit: $(STAMP)
	@$(BIN)/hds-audit scan $(FIXTURES) --output $(REPORTS) --format json,html; \
	code=$$?; if [ $$code -eq 1 ]; then echo "(exit 1 is expected: the bundled platform has planted violations)"; exit 0; fi; exit $$code

# Debian's chromium renders the HTML report in the browser tests.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian package) for the HTML report tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check hds_audit tests bench
	$(BIN)/ruff format --check hds_audit tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench_terraform.py
	$(BIN)/python bench/bench_azure.py
	$(BIN)/python bench/bench_aws.py

clean:
	rm -rf $(VENV) $(REPORTS)/report.* .pytest_cache .mypy_cache .ruff_cache
