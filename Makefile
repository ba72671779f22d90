# askbrief: `make demo` builds the environment and answers a question on seeds/; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data
export HF_HUB_OFFLINE := 1

TRAIN ?= ../shared/train
CHECKPOINTS ?= $(HOME)/.cache/askbrief/train-reader

.PHONY: help env lock browser postgres demo test test-fast eval eval-qa eval-summary eval-timeline eval-selection eval-languages bench fit train-reader train-verifier train-reading train-summariser export-models hostile clean train-embedder

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

env: $(BIN)/.installed  ## build the virtual environment (.venv) from requirements.lock: every package pinned, with hashes

# The lock: Linux x86_64, CPython 3.11 (this project's machines); torch is the CPU wheel of
# constraints.txt, found beside PyPI in --find-links; setuptools is the build backend of `pip install -e`.
lock: env  ## refresh requirements.lock from pyproject.toml and constraints.txt (uv pip compile, ~10 s)
	echo "setuptools>=77" | $(BIN)/uv pip compile pyproject.toml - --extra dev --extra eval --extra train \
		--extra multilingual -c constraints.txt --generate-hashes --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --find-links /opt/wheels --no-header -q -o requirements.lock

demo: env  ## index seeds/, ask the seed question, print a cited answer and a summary
	$(BIN)/askbrief ingest seeds --index demo
	$(BIN)/askbrief ask "What did Putin say about trade?" --index demo
	$(BIN)/askbrief summarize --index demo

browser:  ## Debian's chromium + chromium-driver for the page test (only where root can apt-get)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) || \
	    echo "chromium not installed: the browser test will be skipped"; }

postgres:  ## Debian's postgresql (initdb, pg_ctl) for the shared-store tests (only where root can apt-get)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || \
	    echo "postgresql not installed: the PostgreSQL tests will be skipped"; }

test-fast: env  ## the units of every stage: no server, evaluation data, browser, shared store or long integration test
	$(BIN)/python -m pytest -q -m "not server and not data and not browser and not shared_store and not slow"

test: env browser postgres  ## the layer contract (import-linter), then the test suite
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q

eval: eval-qa eval-summary  ## the quality evaluations on ../shared/data (QA and summaries), under results/<suite>/

eval-qa: env  ## answers: SQuAD 2.0, SQuAD 1.1, news dev sets 1-3 (results/eval_qa/)
	$(BIN)/python -m scripts.eval_qa $(DATA)/squad2-dev-subset.json --off-corpus $(DATA)/squad1-dev-xquad-subset.json
	$(BIN)/python -m scripts.eval_qa $(DATA)/squad1-dev-xquad-subset.json
	$(BIN)/python -m scripts.eval_qa scripts/data/news-dev.jsonl --bbc $(DATA)/bbc-news-summary.jsonl
	$(BIN)/python -m scripts.eval_qa scripts/data/news-dev-2.jsonl --bbc $(DATA)/bbc-news-summary.jsonl
	$(BIN)/python -m scripts.eval_qa scripts/data/news-dev-3.jsonl --bbc $(DATA)/bbc-news-summary.jsonl

eval-summary: env  ## summaries against LEAD-3, TextRank and LexRank (results/eval_summary/)
	$(BIN)/python -m scripts.eval_summary $(DATA)/bbc-news-summary.jsonl

eval-timeline: env  ## story timelines on Timeline17 with tilse, beside the busiest-days baseline (results/eval_timeline/; builds 3 indexes once, ~15 min)
	$(BIN)/pip install -q --no-deps --require-hashes -r requirements-tilse.txt
	chmod +x "$$($(BIN)/python -c 'import pyrouge.base as b; print(b.ROUGE_EVAL_HOME)')/ROUGE-1.5.5.pl"
	$(BIN)/python -m scripts.eval_timeline $(DATA)/timeline17

eval-selection: env  ## answer-sentence selection against BM25 and both cosines (results/selection/; ~27 min)
	$(BIN)/python -m scripts.eval_selection $(TRAIN)/squad-v1.1-train.explorer.json.gz --news scripts/data/news-dev.jsonl \
		--bbc $(DATA)/bbc-news-summary.jsonl --untuned

eval-languages: env  ## XQuAD in every language, and English questions over them (results/eval_languages/)
	$(BIN)/python -m scripts.eval_languages $(DATA)/xquad --english-questions

bench: env  ## speed and memory at ~2k/20k/200k chunks (~15 min)
	$(BIN)/python -m scripts.bench $(DATA)/bbc-news-summary.jsonl

fit: env  ## refit the reader's linear models (held-out SQuAD 1.1 train articles, SQuAD 2.0's 348 train unanswerables)
	$(BIN)/python -m scripts.fit_reader $(TRAIN)/squad-v1.1-train.explorer.json.gz \
		--squad2 $(TRAIN)/squad-v2.0-train-10-articles.json.gz

export-models: env  ## write the int8 ONNX embedder shipped in the package from make train-embedder's output (~20 s; FORCE=1 redoes it)
	$(BIN)/python -m scripts.export_models $(if $(FORCE),--force)

train-embedder: env  ## tune the embedder for questions on SQuAD 1.1 train (one epoch, ~3.5 h on 2 cores; checkpoints resume)
	$(BIN)/python -m scripts.train_embedder $(TRAIN)/squad-v1.1-train.explorer.json.gz

train-summariser: env  ## train the summary scorer on the odd-numbered BBC articles and export it int8 (~5 min on 2 cores)
	$(BIN)/python -m scripts.train_summariser $(DATA)/bbc-news-summary.jsonl --export

train-verifier: env  ## mine the shipped reader's passages and train the answerability verifier (a passage verdict, 6 layers), int8 into the package (~1 h on 2 cores; resumes)
	$(BIN)/python -m scripts.train_verifier $(TRAIN) --export

train-reader: env  ## train the sentence scorer on SQuAD 1.1 train and export it int8 (~1 h on 2 cores; checkpoints resume)
	$(BIN)/python -m scripts.train_reader $(TRAIN)/squad-v1.1-train.explorer.json.gz
	$(BIN)/python -m scripts.train_reader $(TRAIN)/squad-v1.1-train.explorer.json.gz --init $(CHECKPOINTS) \
		--checkpoints $(CHECKPOINTS)-span --skip 60000 --pairs 16000 --positive-share 0.5 --span-weight 1.0 --lr 3e-5 --export

train-reading: env  ## issue 37: mine what the shipped engine reads, then train the reading model until its AUROC is flat (hours; resumes)
	$(BIN)/python -m scripts.mine_reading news $(DATA)/bbc-news-summary.jsonl scripts/data/news-read
	$(BIN)/python -m scripts.mine_reading squad2 $(TRAIN)
	$(BIN)/python -m scripts.mine_reading squad2cal $(TRAIN)
	$(BIN)/python -m scripts.mine_reading squad $(TRAIN) --articles 60
	$(BIN)/python -m scripts.train_reading $(TRAIN) $(DATA)/bbc-news-summary.jsonl scripts/data/news-read --squad-questions 3000

hostile: env  ## the hostile-input battery against a live local server (loopback only, ~1 minute)
	$(BIN)/python -m scripts.hostile

clean:  ## remove the environment and built indexes
	rm -rf $(VENV) indexes/*/
