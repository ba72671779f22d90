"""Speaker-attribution precision and recall against the hand-labelled BBC quotations.

    python -m scripts.eval_quotes ../shared/data/bbc-news-summary.jsonl [tests/data/quotes-gold.jsonl]
"""

import argparse
import json
import sys
from pathlib import Path

from askbrief.text.quotes import extract

GOLD = Path(__file__).resolve().parents[1] / "tests" / "data" / "quotes-gold.jsonl"


def locate(text: str, opening: str, occurrence: int) -> int:
    at = -1
    for _ in range(occurrence):
        at = text.find(opening, at + 1)
    return at


def score(articles: dict[str, str], gold: list[dict]) -> dict:
    right = attributed = 0
    misses = []
    by_doc = {doc_id: extract(text) for doc_id, text in articles.items()}
    for g in gold:
        text = articles[g["doc_id"]]
        at = locate(text, g["opening"], g["occurrence"])
        found = next((q for q in by_doc[g["doc_id"]] if abs(q.start - at) <= 2), None)
        if found is None:
            misses.append((g["doc_id"], g["opening"], g["speaker"], None))
            continue
        attributed += 1
        ok = g["speaker"] is not None and g["speaker"].split()[-1].lower() in found.speaker.lower().split()
        right += ok
        if not ok:
            misses.append((g["doc_id"], g["opening"], g["speaker"], found.speaker))
    with_speaker = sum(g["speaker"] is not None for g in gold)
    return {"quotations": len(gold), "with_speaker": with_speaker, "attributed": attributed, "right": right,
            "precision": right / max(attributed, 1), "recall": right / with_speaker, "misses": misses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="bbc-news-summary.jsonl")
    parser.add_argument("gold", type=Path, nargs="?", default=GOLD)
    args = parser.parse_args()
    gold = [json.loads(line) for line in args.gold.open()]
    wanted = {g["doc_id"] for g in gold}
    articles = {}
    for line in args.data.open():
        row = json.loads(line)
        if row["id"] in wanted:
            articles[row["id"]] = row["text"]
    result = score(articles, gold)
    for doc_id, opening, expected, got in result.pop("misses"):
        print(f"  {doc_id}: {opening!r}: gold {expected}, system {got}", file=sys.stderr)
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}, indent=2))


if __name__ == "__main__":
    main()
