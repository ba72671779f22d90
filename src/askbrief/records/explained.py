"""Explain mode's records: why an answer (or a decline, or a summary) came out as it did.

Filled from the run that made the record (askbrief.explain), never from a second one; every text
in it is indexed text, cut at its offsets.
"""

from askbrief.records.base import Record


class TermExplained(Record):
    term: str  # stemmed, as the keyword index holds it
    word: str  # as the question wrote it
    weight: float  # BM25 IDF over the index's chunks: rarer terms weigh more
    chunks: int  # how many chunks hold it
    searched: bool  # False: so common that keyword search left it out (the reader still counts it)


class QuestionExplained(Record):
    terms: list[TermExplained]
    time_words: list[str]  # words read as time ("latest", "last month"), left out of the terms
    since: str | None
    until: str | None
    dates: str  # in words: where since/until came from
    resolved_against: str | None  # the newest indexed article's date, which "last month" counts from
    prefer_recent: bool
    speaker: str | None
    topic: str | None
    answer_type: str | None  # "a number", "a date", "a name"
    sources: list[str]


class ChunkExplained(Record):
    doc_id: str
    title: str
    published: str | None
    start: int
    end: int
    found_by: str  # "retrieval", or "the speaker's quotes" (read for "What did X say?")
    fused_rank: int | None  # 1-based places; None: not in that list
    fused_score: float | None
    dense_rank: int | None
    dense_score: float | None  # the cosine of its best sentence to the question
    keyword_rank: int | None
    keyword_score: float | None  # BM25
    recency_weight: float | None  # "latest" questions: 2^(-age / 30 days)
    read: bool  # among the chunks the reader read
    folded_into: str | None  # a syndicated copy: this document was read instead


class RetrievalExplained(Record):
    dense_candidates: int
    keyword_candidates: int
    read: int  # chunks read (top_k)
    chunks: list[ChunkExplained]  # the fused list, best first, then the speaker's quotes
    excluded: dict[str, int]  # filter ("dates", "sources") -> chunks it kept out
    folded: dict[str, str]  # syndicated copy -> the document read in its place


class FeatureEffect(Record):
    feature: str
    value: float
    effect: float  # nats against the average candidate of this question: + raised it, - lowered it
    words: str


class SentenceExplained(Record):
    doc_id: str
    start: int
    end: int
    text: str
    kind: str  # "sentence", or "quote" (an opening sentence of the speaker's quote)
    score: float  # the ranker's logit
    adjusted: float  # after the adjustments named
    adjustments: list[str]
    rank: int  # 1-based, by adjusted score within its kind
    effects: list[FeatureEffect]  # what moved it most
    cited: int | None  # its [n], when cited
    outcome: str  # in words: why it was cited, or left out


class ConfidenceExplained(Record):
    confidence: float
    threshold: float
    answered: bool
    span_model: float  # the span model's answer logit for the best sentence (the calibrator reads it)
    verifier: float | None = None  # the verifier's logit for it: above 0, it reads the sentence as answering
    reason: str


class Explanation(Record):
    question: QuestionExplained
    retrieval: RetrievalExplained
    reading: list[SentenceExplained]  # best first; quotes after sentences
    headlines: int  # lines of the chunks read without a sentence ending (headlines, bylines): not candidates
    path: str  # "sentences", "quotes" or "declined"
    order: str | None  # when reading order put a cited sentence before the best one
    confidence: ConfidenceExplained



class SummarySentenceExplained(Record):
    doc_id: str
    start: int
    end: int
    text: str
    score: float  # salience: the trained scorer, plus the query's pull, less what earlier articles said
    cited: int | None
    covers: list[str]  # its words that the other articles' sentences use most: what it is about
    outcome: str


class SummaryExplanation(Record):
    documents: list[str]  # in words: which articles were read and why
    sentences_read: int
    picked: list[SummarySentenceExplained]  # in citation order
    left_out: list[SummarySentenceExplained]  # the most salient sentences not picked, and why


