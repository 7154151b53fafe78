# creditlink — the two set-up commands are `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := .creditlink/sample-city
SAMPLE_ENTERPRISES ?= 2000

.PHONY: install run serve test test-fast lint neo4j-start neo4j-stop neo4j-status sample clean bench \
	notebooks vendor-static mutation

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The sample city, loaded into the embedded store, served on 127.0.0.1:8000.
# The investigator key is kept in .creditlink/make-run.key and reused by the next
# `make run`; it is printed with the page URL once the server is ready.
run: $(STAMP)
	$(BIN)/creditlink sample-city $(SAMPLE) --enterprises $(SAMPLE_ENTERPRISES) --seed 7
	$(BIN)/creditlink load $(SAMPLE)/*_*.*
	$(BIN)/creditlink serve --page-key make-run

serve: $(STAMP)
	$(BIN)/creditlink serve

neo4j-start: $(STAMP)
	bash scripts/neo4j.sh start

neo4j-stop:
	bash scripts/neo4j.sh stop

neo4j-status:
	bash scripts/neo4j.sh status

lint: $(STAMP)
	$(BIN)/ruff check graph loaders api tests benchmarks notebooks
	$(BIN)/mypy
	$(BIN)/mypy --strict graph

# The whole suite, both stores: Neo4j is started first and stopped after;
# if it cannot start, the target fails.
test: $(STAMP) lint
	bash scripts/ensure-chromium.sh
	bash scripts/neo4j.sh start
	status=0; $(BIN)/pytest -q $(PYTEST_ARGS) || status=$$?; \
	  bash scripts/neo4j.sh stop; exit $$status

test-fast: $(STAMP)
	$(BIN)/pytest -q -x $(PYTEST_ARGS)

# Every analyst notebook, executed headless (nbclient) on a generated sample city;
# the executed copies, figures included, go to $(NOTEBOOKS_OUT) (not in git).
NOTEBOOKS_OUT ?= .creditlink/notebooks
notebooks: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py --out $(NOTEBOOKS_OUT)

# Re-fetch the page's vendored libraries and font from npm (pinned versions).
vendor-static: $(STAMP)
	bash scripts/vendor-static.sh

# Every figure of BENCHMARKS.md beside a baseline measured in the same run
# (benchmarks/run.py); BENCH_ARGS=--enterprises 20000 for a bigger city.
bench: $(STAMP)
	bash scripts/neo4j.sh start
	status=0; $(BIN)/python -m benchmarks.run --neo4j bolt://127.0.0.1:$${CREDITLINK_NEO4J_BOLT_PORT:-7687} $(BENCH_ARGS) || status=$$?; \
	  bash scripts/neo4j.sh stop; exit $$status

# Mutation testing (mutmut) of the code that decides who is merged or punished:
# graph/propagate, graph/resolve, graph/evidence, graph/control.py,
# graph/checks.py, loaders/pipeline.py ([tool.mutmut] in pyproject.toml;
# docs/mutation.md). Not part of `make test`: a fresh run takes hours on 2 cores.
# Verdicts are kept in mutants/, so a rerun tries only the mutants of changed
# functions and those not killed last time; `rm -rf mutants` starts afresh.
# Embedded store only, and no Neo4j server is ever touched. Fails while a
# surviving mutant is neither killed nor explained in docs/mutation.md.
MUTATION_JOBS ?= 2
mutation: $(STAMP)
	$(BIN)/python scripts/mutation_sync.py
	@if [ -d mutants ]; then $(BIN)/python scripts/mutation_report.py --retest-survivors; fi
	CREDITLINK_MUTATION=1 CREDITLINK_TEST_NEO4J_URI=bolt://127.0.0.1:1 \
	  $(BIN)/mutmut run --max-children $(MUTATION_JOBS)
	$(BIN)/python scripts/mutation_report.py

clean:
	rm -rf .creditlink .pytest_cache .mypy_cache .ruff_cache mutants
