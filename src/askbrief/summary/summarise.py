"""Summaries: documents (and optionally a query, or a date for "what's new since") in, one cited
paragraph of verbatim sentences out.

Each sentence is read in the context of its article (centralities within it, position, headline,
neighbours, length) by a small trained scorer (scripts/train_summariser.py, int8 ONNX in models/,
card SUMMARISER.md); a query adds its similarity, earlier articles subtract what they already
said, and MMR picks salient sentences that do not repeat each other. Output keeps each article's
sentences in source order, articles by date.
"""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from askbrief.citations import cite, cited_text
from askbrief.errors import IndexIncompatible
from askbrief.records import Document, Summary
from askbrief.summary.ranks import graph_ranks, incidence, lexical_ranks, page_rank
from askbrief.text.language import ENGLISH
from askbrief.text.sentences import SENTENCE_ENDINGS, STOP_WORDS, terms, word_count, words

DEFAULT_SENTENCES = 4
QUERY_WEIGHT = 4.0  # in logit units per unit of cosine: the query outweighs generic salience
MMR_LAMBDA = 0.85  # Carbonell & Goldstein (1998): salience against novelty; 0.7-1.0 differ by <0.01 ROUGE-2 on BBC
REDUNDANT = 0.85  # never two sentences with embedding cosine at or above this
# "What's new since": a later sentence this close (MiniLM cosine) to an earlier article's says the
# same thing again. On the developing stories of tests/data, restated facts scored 0.76-0.91
# ("Rosselló resigned", "Britons voted in a 2016 referendum to leave"), new developments told in
# the same words 0.60-0.75 (the Supreme Court's ruling against the Court of Session's, 0.75).
# Below it, each unit of cosine costs NOVELTY_WEIGHT logits (as a query's QUERY_WEIGHT).
ALREADY_SAID = 0.76
NOVELTY_WEIGHT = 4.0
MIN_WORDS = 5  # shorter pieces are datelines and captions
REFERENCE_SHARE = 0.4  # of an article's sentences that BBC News Summary's references keep (0.402 on the odd-numbered)
# In logits per log word, at full room: chosen on the held-out fifth of the odd-numbered BBC articles
# (ROUGE-2 F1 at 3 sentences 0.580 -> 0.607 at 3.0, 0.608 at 4.0; at the reference's length unchanged).
LENGTH_WEIGHT = 3.0
# In logits per unit of headline cosine, for a one-sentence brief only; on the same held-out
# articles: ROUGE-2 to the reference 0.288 -> 0.287, ROUGE-1 to the headline 0.123 -> 0.144.
BRIEF_HEADLINE_WEIGHT = 2.0
# Sentences of one document read by a summary: the most central (cosine to the document's mean)
# when it has more. Bounds lex_rank's sentences x sentences matrix (a 6,000-sentence document took
# 18 s and 2.2 GB in the hostile-input battery); BBC articles have ~20, so the benchmark reads every one.
POOL_PER_DOCUMENT = 200
MODEL_FILE = Path(__file__).parents[1] / "models" / "summariser.int8.onnx"
FEATURES = ("centrality", "doc_centrality", "text_rank", "count_rank", "lex_rank", "freq_mean", "freq_sum",
            "text_rank_words", "count_rank_words", "embedding_rank",
            "text_rank_order", "text_rank_before", "text_rank_after", "position", "first", "relative_position",
            "log_sentences", "title_sim", "title_overlap", "log_words", "relative_words", "quote", "digits")
N_INPUTS = len(FEATURES)


@dataclass(frozen=True, slots=True)
class Pool:
    """Every candidate sentence of the documents being summarised."""

    doc_ids: list[str]
    idx: np.ndarray  # sentence index within its document
    position: np.ndarray  # 0 for a document's first summarisable sentence, 1 for the next…
    spans: list[tuple[int, int]]
    vectors: np.ndarray
    title_vectors: np.ndarray  # the headline's vector of each sentence's document
    titles: dict[str, str]  # each document's headline
    texts: list[str]
    langs: dict[str, str | None] = field(default_factory=dict)  # each document's language
    floor: float = 0.0  # the embedder's cosine of unrelated sentences, mapped to 0 (Embedder.similarity_floor)

    def similarity(self, cosines: np.ndarray) -> np.ndarray:
        """Cosines on the English embedder's scale, which REDUNDANT and ALREADY_SAID were set on."""
        return (cosines - self.floor) / (1.0 - self.floor)


class SummaryScorer:
    """The trained sentence scorer (scripts/train_summariser.py, models/SUMMARISER.md), int8 ONNX
    run by onnxruntime: model_inputs in, one score per sentence out (higher: summary-worthy)."""

    def __init__(self, path: Path = MODEL_FILE):
        import onnxruntime

        if not path.exists():
            raise IndexIncompatible(f"the summary model {path} is missing; reinstall askbrief or run `make train-summariser`")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = 1  # a few hundred rows: threads cost more than they save
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        expected = self.session.get_inputs()[0].shape[1]
        if expected != N_INPUTS:
            raise IndexIncompatible(f"{path} reads {expected} inputs a sentence, this askbrief computes {N_INPUTS};"
                                    " retrain it with `make train-summariser`")

    def score(self, inputs: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"inputs": inputs.astype(np.float32)})[0]


@cache
def load_summary_scorer() -> SummaryScorer:
    """One per process."""
    return SummaryScorer()


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v) or 1.0)


def _share_of(needles: list[set[str]], hay: set[str]) -> np.ndarray:
    return np.array([len(n & hay) / len(hay) if hay else 0.0 for n in needles])


def _doc_features(texts: list[str], position: np.ndarray, vectors: np.ndarray, title_vector: np.ndarray,
                  title: str, lang: str | None = ENGLISH) -> np.ndarray:
    """Each sentence against the rest of its own document, in its language's terms; see FEATURES."""
    n = len(texts)
    bags = [terms(t, lang) for t in texts]
    stemmed = lexical_ranks(bags)
    stop = STOP_WORDS if lang == ENGLISH else frozenset()
    plain = graph_ranks(incidence([[w for w in words(t) if w not in stop] for t in texts]))
    text_rank = stemmed[:, 0]
    embedding_rank = page_rank(vectors @ vectors.T)
    doc_centrality = vectors @ _unit(vectors.mean(axis=0))
    order = np.empty(n)
    order[np.argsort(-text_rank, kind="stable")] = np.arange(n)
    neighbour = np.pad(text_rank, 1)
    n_words = np.array([word_count(t, lang) for t in texts], dtype=float)
    return np.column_stack([
        doc_centrality, stemmed, plain, embedding_rank,
        order / max(n - 1, 1), neighbour[:-2], neighbour[2:],
        1.0 / np.sqrt(1.0 + position), position == 0, position / max(n - 1, 1), np.full(n, np.log(n)),
        vectors @ title_vector, _share_of([set(b) for b in bags], set(terms(title, lang))),
        np.log1p(n_words), n_words / max(n_words.max(), 1.0),
        [any(q in t for q in '"“”') for t in texts], [any(ch.isdigit() for ch in t) for t in texts],
    ]).astype(float)


def features(pool: Pool) -> np.ndarray:
    """(sentences, len(FEATURES)) matrix: the pool-wide centrality, then each document's own."""
    out = np.zeros((len(pool.texts), len(FEATURES)))
    out[:, 0] = pool.vectors @ _unit(pool.vectors.mean(axis=0)) if len(pool.texts) else 0.0
    ids = np.array(pool.doc_ids)
    for doc_id in dict.fromkeys(pool.doc_ids):
        rows = np.flatnonzero(ids == doc_id)
        out[rows, 1:] = _doc_features([pool.texts[i] for i in rows], pool.position[rows], pool.vectors[rows],
                                      pool.title_vectors[rows[0]], pool.titles[doc_id], pool.langs.get(doc_id, ENGLISH))
    return out


def model_inputs(pool: Pool) -> np.ndarray:
    """What the scorer reads of each sentence, float32: FEATURES. Its raw MiniLM vector and its
    document's mean vector as well made the scorer overfit (held-out AUC 0.895, features alone 0.908)."""
    return features(pool).astype(np.float32)


def salience(pool: Pool, n: int, query_vector: np.ndarray | None = None) -> np.ndarray:
    """The trained scorer's score for each sentence being summary-worthy, plus query relevance.
    A summary much shorter than a reference would be (REFERENCE_SHARE of the pool) has room for
    few sentences, so among likely ones it prefers those that say more (the longer)."""
    inputs = model_inputs(pool)
    score = load_summary_scorer().score(inputs)
    room = max(0.0, 1.0 - n / (REFERENCE_SHARE * len(pool.texts)))
    score = score + LENGTH_WEIGHT * room * inputs[:, FEATURES.index("log_words")]
    if n == 1:  # a brief stands for its article as the headline does
        score = score + BRIEF_HEADLINE_WEIGHT * inputs[:, FEATURES.index("title_sim")]
    if query_vector is not None:
        score = score + QUERY_WEIGHT * pool.similarity(pool.vectors @ query_vector)
    return score


def select(vectors: np.ndarray, scores: np.ndarray, n: int, allowed: np.ndarray | None = None,
           floor: float = 0.0) -> list[int]:
    """MMR: up to n rows (of the `allowed` ones), each the best trade of salience (scores scaled
    to 0..1 within the pool, so the trade does not depend on the model's scale) against
    similarity to those already chosen (a negative cosine counts as 0, unrelated); nothing at or
    above REDUNDANT cosine to a chosen one."""
    spread = scores.max() - scores.min() if len(scores) else 0.0
    salient = (scores - scores.min()) / spread if spread > 0 else np.ones(len(scores))
    chosen: list[int] = []
    max_sim = np.zeros(len(scores))
    available = np.ones(len(scores), dtype=bool) if allowed is None else allowed.copy()
    while len(chosen) < n and available.any():
        mmr = np.where(available, MMR_LAMBDA * salient - (1 - MMR_LAMBDA) * max_sim, -np.inf)
        pick = int(np.argmax(mmr))
        chosen.append(pick)
        sims = (vectors @ vectors[pick] - floor) / (1.0 - floor)  # as Pool.similarity
        max_sim = np.maximum(max_sim, sims)
        available &= sims < REDUNDANT
    return chosen


def prefer_earliest(picks: list[int], pool: Pool, doc_order: dict[str, int]) -> list[int]:
    """A fact that several articles tell (a near-copy, cosine >= REDUNDANT) is cited to the
    article published first."""
    out: list[int] = []
    for i in picks:
        twins = np.flatnonzero(pool.similarity(pool.vectors @ pool.vectors[i]) >= REDUNDANT)
        earliest = int(min(twins, key=lambda j: (doc_order[pool.doc_ids[j]], pool.idx[j])))
        if earliest not in out:
            out.append(earliest)
    return out


def already_said(pool: Pool, earlier: np.ndarray) -> np.ndarray:
    """Each pool sentence's highest cosine to a sentence of the earlier articles (0 with none)."""
    if not len(earlier) or not len(pool.texts):
        return np.zeros(len(pool.texts))
    return np.maximum(pool.similarity((pool.vectors @ earlier.T).max(axis=1)), 0.0)


@dataclass
class SummaryTrace:
    """What a summary weighed (explain mode): each pool sentence's salience, its closeness to
    what earlier articles said, and the sentences MMR selected, in the order it took them."""

    scores: np.ndarray | None = None
    repeat: np.ndarray | None = None
    selected: list[int] | None = None


def summarise(pool: Pool, docs: dict[str, Document], n: int, query: str | None = None,
              query_vector: np.ndarray | None = None, earlier: np.ndarray | None = None,
              trace: SummaryTrace | None = None) -> Summary:
    """The paragraph: the n most salient sentences that do not repeat each other, each article's
    in source order, articles by date. With `earlier` (the sentence vectors of articles already
    read), only what they did not say: a sentence at or above ALREADY_SAID cosine to one of them
    is left out, and the closer the rest come to them, the less they count."""
    doc_order = {d: i for i, d in enumerate(sorted(docs, key=lambda d: (docs[d].published or "9999", d)))}
    scores, allowed = (salience(pool, n, query_vector), None) if pool.doc_ids else (np.zeros(0), None)
    repeat = None
    if earlier is not None and pool.doc_ids:
        repeat = already_said(pool, earlier)
        scores, allowed = scores - NOVELTY_WEIGHT * repeat, repeat < ALREADY_SAID
    picks = select(pool.vectors, scores, n, allowed, pool.floor) if pool.doc_ids else []
    if trace is not None:
        trace.scores, trace.repeat, trace.selected = scores, repeat, list(picks)
    picks = prefer_earliest(picks, pool, doc_order)
    picks.sort(key=lambda i: (doc_order[pool.doc_ids[i]], pool.idx[i]))
    citations = [cite(k, docs[pool.doc_ids[i]], *pool.spans[i]) for k, i in enumerate(picks, 1)]
    return Summary(summary=cited_text(citations), citations=citations,
                   doc_ids=sorted(docs, key=doc_order.get), query=query)


def make_pool(parts: list[tuple[Document, list[tuple[int, int, int]], np.ndarray]], titles: np.ndarray,
              floor: float = 0.0) -> Pool:
    """Gather summarisable sentences (long enough, ending like a sentence, so not a headline);
    `titles` holds each part's headline vector, in the order of `parts`."""
    doc_ids, idx, position, spans, vectors, title_vectors, texts = [], [], [], [], [], [], []
    for (doc, rows, vecs), title in zip(parts, titles):
        usable = [(i, start, end, vec) for (i, start, end), vec in zip(rows, vecs)
                  if word_count(doc.text[start:end], doc.lang) >= MIN_WORDS
                  and doc.text[start:end].endswith(SENTENCE_ENDINGS)]
        read = set(range(len(usable)))
        if len(usable) > POOL_PER_DOCUMENT:
            own = np.array([u[3] for u in usable])
            read = set(np.argsort(-(own @ _unit(own.mean(axis=0))))[:POOL_PER_DOCUMENT].tolist())
        for kept, (i, start, end, vec) in enumerate(usable):
            if kept not in read:
                continue
            doc_ids.append(doc.id)
            idx.append(i)
            position.append(kept)  # its place among the document's summarisable sentences
            spans.append((start, end))
            vectors.append(vec)
            title_vectors.append(title)
            texts.append(doc.text[start:end])
    dim = titles.shape[1] if len(titles) else 0
    return Pool(doc_ids, np.array(idx), np.array(position, dtype=float), spans,
                np.array(vectors, dtype=np.float32).reshape(len(vectors), dim),
                np.array(title_vectors, dtype=np.float32).reshape(len(vectors), dim),
                {doc.id: doc.title for doc, _, _ in parts}, texts, {doc.id: doc.lang for doc, _, _ in parts}, floor)
