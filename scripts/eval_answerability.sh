#!/usr/bin/env bash
# The five eval_qa runs that judge a change to the reader's confidence (docs/reader.md): SQuAD 2.0
# with off-corpus questions, SQuAD 1.1 (all, and the 13 articles no SQuAD 2.0 training file shares),
# and both news dev sets. Results in results/eval_qa-<set>-TAG.json.
#   bash scripts/eval_answerability.sh ../shared/data TAG [--verdicts]
set -euo pipefail
data=$1 tag=$2
shift 2
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
export HF_HUB_OFFLINE=1
thirteen="Super_Bowl_50 Nikola_Tesla Teacher Martin_Luther Apollo_program Newcastle_upon_Tyne Victoria_and_Albert_Museum
American_Broadcasting_Company Genghis_Khan Doctor_Who Kenya Chloroplast United_Methodist_Church"
"$py" -m scripts.eval_qa "$data/squad2-dev-subset.json" --off-corpus "$data/squad1-dev-xquad-subset.json" --name "squad2-$tag" "$@"
"$py" -m scripts.eval_qa "$data/squad1-dev-xquad-subset.json" --name "squad1-$tag" "$@"
# shellcheck disable=SC2086  # the titles are one word each
"$py" -m scripts.eval_qa "$data/squad1-dev-xquad-subset.json" --name "squad1-13-$tag" --titles $thirteen "$@"
"$py" -m scripts.eval_qa scripts/data/news-dev.jsonl --bbc "$data/bbc-news-summary.jsonl" --name "news-dev-$tag" "$@"
"$py" -m scripts.eval_qa scripts/data/news-dev-2.jsonl --bbc "$data/bbc-news-summary.jsonl" --name "news-dev-2-$tag" "$@"
