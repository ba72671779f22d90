""""What did X say about Y?": how much a stored quote is about Y, and the sentences it lies in."""


import numpy as np

from askbrief.answer.candidates import Candidate
from askbrief.index.store import Store
from askbrief.limits import MAX_QUOTES_RANKED
from askbrief.records import Evidence, Quote, QuoteRecord
from askbrief.text.sentences import terms

# A quote answers "what did X say about Y" only at this relevance to Y (see quote_relevance): among
# the seed and 60 BBC business articles, Putin's trade quote scores 1.43 for "trade", his others 0.12 at most.
QUOTE_RELEVANCE = 0.5


def quote_relevance(topic: str, topic_vector: np.ndarray, text: str, vectors: list[np.ndarray]) -> float:
    """How much a quote is about the topic: the best cosine of the sentences it lies in, plus the
    share of the topic's content words it uses (a one-word topic, "trade", embeds poorly, so the
    words carry as much weight as the vectors)."""
    wanted = set(terms(topic))  # an English question's topic (only English questions take the quotes path)
    overlap = len(wanted & set(terms(text))) / len(wanted) if wanted else 0.0
    return max((float(v @ topic_vector) for v in vectors), default=0.0) + overlap


def covering_sentences(evidence: Evidence, doc_id: str, quote: Quote) -> list[int]:
    """The indexes of the read sentences a quote lies in, in order."""
    return sorted(idx for (d, idx), s in evidence.sentences.items()
                  if d == doc_id and s.end > quote.start and s.start < quote.end)


def quote_vectors(evidence: Evidence, doc_id: str, quote: Quote) -> list[np.ndarray]:
    """The stored vectors of the sentences a quote lies in."""
    return [evidence.sentences[(doc_id, idx)].vector for idx in covering_sentences(evidence, doc_id, quote)]


def opening_sentence(evidence: Evidence, doc_id: str, quote: Quote) -> Candidate | None:
    """The sentence a quote starts in, as a candidate ranked where its chunk was retrieved."""
    covering = covering_sentences(evidence, doc_id, quote)
    if not covering:
        return None
    idx = covering[0]
    stored = evidence.sentences[(doc_id, idx)]
    rank, hit = next(((r, h) for r, h in enumerate(evidence.hits) if evidence.chunks[h.chunk_id].doc_id == doc_id
                      and evidence.chunks[h.chunk_id].first <= idx <= evidence.chunks[h.chunk_id].last),
                     (len(evidence.hits), None))
    return Candidate(doc_id, idx, stored.start, stored.end, rank, hit and hit.dense_rank, hit and hit.keyword_rank)


def quote_records(store: Store, speaker: str | None, about: str | None, limit: int | None,
                  encode_topic) -> list[QuoteRecord]:
    """Stored quotes, of one speaker if named (a part of the name, any case), ranked by
    similarity to `about` when given (its vector from `encode_topic`, the newest MAX_QUOTES_RANKED
    read), else oldest article first; at most `limit`. No match is an empty list."""
    about = about.strip() if about and about.strip() else None
    with store.snapshot():
        found = store.quotes(speaker.strip() if speaker and speaker.strip() else None)
        if about:
            found = found[-MAX_QUOTES_RANKED:]
        docs = store.documents({d for d, _ in found})
    records = [QuoteRecord(speaker=q.speaker, quote=docs[d].text[q.start:q.end], cue=q.cue, doc_id=d,
                           start=q.start, end=q.end, speaker_start=q.speaker_start, speaker_end=q.speaker_end,
                           published=docs[d].published) for d, q in found]
    if about and records:
        records = by_relevance(store, records, about, encode_topic(about))
    return records[:limit]


def by_relevance(store: Store, records: list[QuoteRecord], topic: str, topic_vector: np.ndarray) -> list[QuoteRecord]:
    """Quotes, the most about `topic` first, ranked as the reader ranks a speaker's quotes: by the
    stored vectors of the sentences each lies in and the topic's words."""
    with store.snapshot():
        spans = [store.sentence_range(r.doc_id, r.start, r.end) for r in records]
        vectors = [list(store.sentences(r.doc_id, *span)[1]) if span else [] for r, span in zip(records, spans)]
    relevance = np.array([quote_relevance(topic, topic_vector, r.quote, v) for r, v in zip(records, vectors)])
    return [records[i] for i in np.argsort(-relevance, kind="stable")]
