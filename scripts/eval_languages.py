"""XQuAD by language: each language's questions over its own paragraphs, and English questions
over them, through the whole product (ingest, retrieval, reader), one index per language.

    python -m scripts.eval_languages ../shared/data/xquad --embedder multilingual

Prints evidence@1 (the first cited sentence holds the gold answer), answered and dense recall@1
per language, and writes results/eval_languages/EMBEDDER.json.
"""

import argparse
import datetime as dt
import json
import time
from pathlib import Path

from scripts.eval_qa import evaluate  # noqa: E402
from scripts.results import RESULTS, results_file  # noqa: E402

LANGUAGES = ["en", "de", "es", "ru", "zh", "ar", "tr", "hi", "el", "vi", "th", "ro"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("xquad", type=Path, help="../shared/data/xquad (parallel SQuAD files, one per language)")
    parser.add_argument("--embedder", choices=["english", "multilingual"], default="multilingual")
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    parser.add_argument("--english-questions", action="store_true", help="also ask the English questions of each")
    parser.add_argument("--limit", type=int, help="only the first N questions of each language")
    args = parser.parse_args()
    rows = {}
    print("| paragraphs | questions in | evidence@1 | answered | dense recall@1 | seconds |\n|---|---|---|---|---|---|")
    for lang in args.languages.split(","):
        asked = [lang] + (["en"] if args.english_questions and lang != "en" else [])
        for question_lang in asked:
            started = time.perf_counter()
            table = evaluate(args.xquad / f"xquad.{lang}.json", args.limit,
                             asked_in=None if question_lang == lang else args.xquad / f"xquad.{question_lang}.json",
                             embedder=args.embedder)
            row = {"evidence@1": table["evidence_accuracy@1"], "answered": table["answered_when_answerable"],
                   "dense_recall@1": table["retrieval_dense"]["recall@1"], "questions": table["questions"],
                   "seconds": round(time.perf_counter() - started)}
            rows[f"{question_lang}->{lang}"] = row
            print(f"| {lang} | {question_lang} | {row['evidence@1']:.3f} | {row['answered']:.3f} | "
                  f"{row['dense_recall@1']:.3f} | {row['seconds']} |", flush=True)
    out = results_file(f"eval_languages-{args.embedder}.json")
    out.write_text(json.dumps({"date": dt.date.today().isoformat(), "embedder": args.embedder, "rows": rows},
                              indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(RESULTS.parent)}")


if __name__ == "__main__":
    main()
