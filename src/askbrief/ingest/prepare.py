"""Ingest preparation: a batch of `Document`s in, `Prepared` records out, ready for one write.

Each text is split into sentences and chunks, its sentences embedded in one call (so the model
sees full batches), its keyword terms, MinHash signature and quotes computed. A chunk's vector
is the normalised mean of its sentences' vectors, never a second pass through the model.
"""

from collections.abc import Iterator
from itertools import islice

import numpy as np

from askbrief.encoders.embed import Embedder
from askbrief.errors import BadInput
from askbrief.ingest.documents import MAX_DOCUMENT_SENTENCES
from askbrief.records import Document, Prepared
from askbrief.text.copies import signature
from askbrief.text.dated import sentence_days
from askbrief.text.language import ENGLISH
from askbrief.text.quotes import extract as extract_quotes
from askbrief.text.quotes_fr_de_es import extract_other
from askbrief.text.sentences import make_chunks, split_sentences, terms


def split_all(documents: list[Document]) -> list[list[tuple[int, int]]]:
    """Every document's sentence spans, checked against MAX_DOCUMENT_SENTENCES before anything
    is embedded or written."""
    splits = [split_sentences(d.text) for d in documents]
    for doc, spans in zip(documents, splits):
        if len(spans) > MAX_DOCUMENT_SENTENCES:
            raise BadInput("text", f"document {doc.id!r} has {len(spans)} sentences; the limit is {MAX_DOCUMENT_SENTENCES}")
    return splits


def prepare(documents: list[Document], embedder: Embedder,
            splits: list[list[tuple[int, int]]] | None = None) -> list[Prepared]:
    """Split (unless `splits` are given) and embed a batch. Encoding chunks as well as sentences
    cost 60% of ingest for -0.8/+0.3 points of fused recall@5 on SQuAD 2.0/1.1 (docs/speed.md)."""
    splits = split_all(documents) if splits is None else splits
    chunks = [make_chunks(s) for s in splits]
    sentence_texts = [d.text[a:b] for d, spans in zip(documents, splits) for a, b in spans]
    sentence_vectors = encode_once(embedder, sentence_texts)
    chunk_vectors = chunk_vectors_from(sentence_vectors, [len(s) for s in splits], chunks)
    prepared, s_at, c_at = [], 0, 0
    for doc, spans, runs in zip(documents, splits, chunks):
        prepared.append(Prepared(
            document=doc, sentences=spans, chunks=runs,
            sentence_vectors=sentence_vectors[s_at:s_at + len(spans)],
            chunk_vectors=chunk_vectors[c_at:c_at + len(runs)],
            chunk_terms=[" ".join(terms(doc.text[spans[f][0]:spans[l][1]], doc.lang)) for f, l in runs],
            signature=signature(doc.text), quotes=quotes_of(doc), days=days_of(doc, spans)))
        s_at += len(spans)
        c_at += len(runs)
    return prepared


def encode_once(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Each distinct text embedded once: a line repeated through a batch (a feed's boilerplate, a
    run of junk cut into identical pieces) costs one pass through the model, not one a copy."""
    distinct = {text: row for row, text in enumerate(dict.fromkeys(texts))}
    vectors = embedder.encode(list(distinct))
    return vectors[[distinct[text] for text in texts]] if texts else vectors


def chunk_vectors_from(sentence_vectors: np.ndarray, sentence_counts: list[int],
                       chunks: list[list[tuple[int, int]]]) -> np.ndarray:
    """Unit chunk vectors: the mean of each chunk's sentence vectors (first..last of its document)."""
    rows, at = [], 0
    for count, runs in zip(sentence_counts, chunks):
        rows += [sentence_vectors[at + first: at + last + 1].sum(axis=0) for first, last in runs]
        at += count
    if not rows:
        return np.zeros((0, sentence_vectors.shape[1]), dtype=np.float32)
    vectors = np.array(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def batched(items: Iterator, size: int) -> Iterator[list]:
    """Lists of up to `size` items, in order (itertools.batched from Python 3.12)."""
    while batch := list(islice(items, size)):
        yield batch


def days_of(doc: Document, spans: list[tuple[int, int]]) -> list[tuple[int, str, int, int]]:
    """The days its sentences name, for timelines: English patterns, so English (or unknown) only."""
    return sentence_days(doc.text, doc.published, spans) if doc.lang in (ENGLISH, None) else []


def quotes_of(doc: Document) -> list:
    """English rules for English (or, given before languages, unknown) articles; French, German
    and Spanish marks and verbs for theirs; none for the rest."""
    return extract_quotes(doc.text) if doc.lang in (ENGLISH, None) else extract_other(doc.text, doc.lang)
