"""Evaluate single-article summaries on BBC News Summary: askbrief against LEAD-k, sumy's
TextRank-k and LexRank-k, a MiniLM centroid baseline and a greedy ROUGE oracle, at k = 1, 3 and
the reference's sentence count; ROUGE-1/2/L F1 (rouge-score, stemming on) per category and
overall, and the one-line brief (k = 1) against the headline too. Also times a 10-article
summary through the engine, warm.

    python -m scripts.eval_summary ../shared/data/bbc-news-summary.jsonl [--limit N] [--split test]
"""

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from rouge_score import rouge_scorer
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

from askbrief import Engine, Settings  # noqa: E402
from askbrief.encoders.embed import load_embedder  # noqa: E402

# The summariser's evaluation builds pools of sentences itself (for the baselines too).
from askbrief.summary.summarise import make_pool, summarise  # noqa: E402
from askbrief.text.sentences import words  # noqa: E402
from scripts.bbc import as_document, load_bbc, sentence_rows  # noqa: E402
from scripts.results import RESULTS, results_file

SYSTEMS = ("askbrief", "lead", "textrank", "lexrank", "centroid", "oracle")
BASELINES = ("lead", "textrank", "lexrank", "centroid")
METRICS = ("rouge1", "rouge2", "rougeL")
LENGTHS = (("k=1", 1), ("k=3", 3))


class WordTokenizer:
    """sumy's tokenizer interface over askbrief's word splitter (sumy's own needs NLTK data)."""

    language = "english"

    def to_words(self, text: str) -> list[str]:
        return words(text)


def sumy_pick(summarizer, sentences: list[str], k: int) -> list[int]:
    tokenizer = WordTokenizer()
    model = ObjectDocumentModel([Paragraph([Sentence(s, tokenizer) for s in sentences])])
    chosen = {str(s) for s in summarizer(model, k)}
    return [i for i, s in enumerate(sentences) if s.strip() in chosen][:k]


def centroid_pick(vectors: np.ndarray, k: int) -> list[int]:
    """The k sentences closest to the mean of the article's sentence vectors."""
    return sorted(np.argsort(-(vectors @ vectors.mean(axis=0)))[:k].tolist())


def ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(zip(*(tokens[i:] for i in range(n))))


def f1(candidate: Counter, reference: Counter) -> float:
    overlap = sum((candidate & reference).values())
    if not overlap:
        return 0.0
    p, r = overlap / sum(candidate.values()), overlap / sum(reference.values())
    return 2 * p * r / (p + r)


def oracle_pick(tokenize, sentences: list[str], reference: str, k: int) -> list[int]:
    """Greedy: add the sentence that most raises ROUGE-1 + ROUGE-2 F1, k times (rouge-score's
    own tokens, counted here so the search stays fast)."""
    tokens = [tokenize(s) for s in sentences]
    ref = [ngrams(tokenize(reference), n) for n in (1, 2)]
    chosen: list[int] = []

    def gain(i: int) -> float:
        picked = [t for j in sorted(chosen + [i]) for t in tokens[j]]
        return sum(f1(ngrams(picked, n), ref[n - 1]) for n in (1, 2))

    for _ in range(min(k, len(sentences))):
        chosen.append(max((i for i in range(len(sentences)) if i not in chosen), key=gain))
    return sorted(chosen)


def evaluate(rows: list[dict]) -> dict:
    embedder = load_embedder()
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    tokenize = scorer._tokenizer.tokenize  # the exact tokens ROUGE counts, for the oracle
    textrank = TextRankSummarizer(Stemmer("english"))
    lexrank = LexRankSummarizer(Stemmer("english"))
    textrank.stop_words = lexrank.stop_words = get_stop_words("english")
    scores = defaultdict(list)  # (length, system, category) -> [(r1, r2, rL)]
    for n, row in enumerate(rows, 1):
        doc = as_document(row)
        sentences = sentence_rows(doc)
        vectors = embedder.encode([doc.text[a:b] for _, a, b in sentences] + [doc.title])
        pool = make_pool([(doc, sentences, vectors[:-1])], vectors[-1:])
        texts = pool.texts  # every system picks from these: no headline, no fragments
        ref_k = max(1, sum(t in row["reference_summary"] for t in texts))
        for length, k in LENGTHS + (("k=ref", ref_k),):
            ours = summarise(pool, {doc.id: doc}, k)
            picks = {
                "askbrief": [texts.index(c.quote) for c in ours.citations],
                "lead": list(range(min(k, len(texts)))),
                "textrank": sumy_pick(textrank, texts, k),
                "lexrank": sumy_pick(lexrank, texts, k),
                "centroid": centroid_pick(pool.vectors, k),
                "oracle": oracle_pick(tokenize, texts, row["reference_summary"], k),
            }
            for system, chosen in picks.items():
                s = scorer.score(row["reference_summary"], "\n".join(texts[i] for i in sorted(chosen)))
                value = tuple(s[m].fmeasure for m in METRICS)
                scores[(length, system, row["category"])].append(value)
                scores[(length, system, "overall")].append(value)
                if k == 1:  # the one-line brief against the headline as well
                    s = scorer.score(row["title"], texts[chosen[0]] if chosen else "")
                    scores[("k=1 vs headline", system, "overall")].append(tuple(s[m].fmeasure for m in METRICS))
        if n % 200 == 0:
            print(f"  {n}/{len(rows)} articles", file=sys.stderr)
    table: dict = {}
    for (length, system, category), values in scores.items():
        means = np.mean(values, axis=0).round(4).tolist()
        table.setdefault(length, {}).setdefault(system, {})[category] = dict(zip(METRICS, means))
    return table


def time_multi_summary(rows: list[dict], runs: int = 5) -> dict:
    """Median wall time of a 10-article summary through the engine, warm (index built first)."""
    with tempfile.TemporaryDirectory() as home:
        engine = Engine("bench", Settings(home=Path(home)))
        picked = rows[:10]
        engine.ingest([as_document(r) for r in picked])
        ids = [r["id"] for r in picked]
        engine.summarize(ids)  # warm
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            engine.summarize(ids, max_sentences=5)
            times.append((time.perf_counter() - started) * 1000)
    return {"articles": 10, "runs": runs, "median_ms": round(statistics.median(times), 1)}


def print_table(table: dict) -> None:
    for length in ("k=1", "k=3", "k=ref"):
        categories = sorted(table[length]["askbrief"])
        print(f"\nROUGE-2 F1, {length}")
        print(f"{'system':<10}" + "".join(f"{c:>15}" for c in categories))
        for system in SYSTEMS:
            print(f"{system:<10}" + "".join(f"{table[length][system][c]['rouge2']:>15.4f}" for c in categories))
        best = {c: max(table[length][s][c]["rouge2"] for s in BASELINES) for c in categories}
        print(f"{'ratio':<10}" + "".join(f"{table[length]['askbrief'][c]['rouge2'] / best[c]:>15.3f}" for c in categories)
              + "   (askbrief / best baseline)")
        print(f"{'/textrank':<10}" + "".join(
            f"{table[length]['askbrief'][c]['rouge2'] / table[length]['textrank'][c]['rouge2']:>15.3f}" for c in categories))
    print("\noverall ROUGE-1 / ROUGE-2 / ROUGE-L F1")
    for length in ("k=1", "k=3", "k=ref", "k=1 vs headline"):
        for system in SYSTEMS:
            r = table[length][system]["overall"]
            print(f"{length:<6} {system:<10} {r['rouge1']:.4f} {r['rouge2']:.4f} {r['rougeL']:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="bbc-news-summary.jsonl")
    parser.add_argument("--limit", type=int, help="only the first N articles of each category")
    parser.add_argument("--split", default="test", choices=("test", "train", "all"),
                        help="test: the even-numbered articles the summariser was not fitted on (default)")
    args = parser.parse_args()
    rows = load_bbc(args.data, args.split, args.limit)
    table = evaluate(rows)
    table["multi_article_summary"] = time_multi_summary(rows)
    table.update({"articles": len(rows), "split": args.split, "data": args.data.name,
                  "date": dt.date.today().isoformat()})
    print_table(table)
    print(f"\n10-article summary, warm: median {table['multi_article_summary']['median_ms']} ms")
    out = results_file("eval_summary/main.json")
    out.write_text(json.dumps(table, indent=2) + "\n")
    print(f"written to {out.relative_to(RESULTS.parent)}")


if __name__ == "__main__":
    main()
