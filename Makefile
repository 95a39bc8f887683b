# evobot: `make demo` and `make test` work on a fresh machine from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test demo lint typecheck bench mutate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/actionlint .github/workflows/*.yml examples/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml examples/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml

typecheck: $(STAMP)
	$(BIN)/mypy

demo: $(STAMP)
	$(BIN)/evobot demo

bench: $(STAMP)
	$(BIN)/python bench/update_vs_copier.py
	$(BIN)/python bench/check_cache.py
	$(BIN)/python bench/pr_fanout.py
	$(BIN)/python bench/webhook_ingest.py

# Mutation testing of bot/evolution/merge.py, bot/forge/ratelimit.py and bot/forge/retry.py
# ([tool.mutmut] in pyproject.toml); survivors are listed by `mutmut results` (docs/mutation.md).
mutate: $(STAMP)
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache mutants
