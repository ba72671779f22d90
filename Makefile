# askbrief: `make demo` builds the environment and answers a question on seeds/; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data
export HF_HUB_OFFLINE := 1

.PHONY: help env demo test eval bench clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,eval]'
	touch $@

env: $(BIN)/.installed  ## build the virtual environment (.venv), torch pinned to the CPU wheel

demo: env  ## index seeds/, ask the seed question, print a cited answer and a summary
	$(BIN)/askbrief ingest seeds --index demo
	$(BIN)/askbrief ask "What did Putin say about trade?" --index demo
	$(BIN)/askbrief summarize --index demo

test: env  ## run the test suite
	$(BIN)/python -m pytest -q

eval: env  ## the quality evaluations on ../shared/data (QA and summaries), tables under results/
	$(BIN)/python scripts/eval_qa.py $(DATA)/squad2-dev-subset.json
	$(BIN)/python scripts/eval_qa.py $(DATA)/squad1-dev-xquad-subset.json

clean:  ## remove the environment and built indexes
	rm -rf $(VENV) indexes/*/
