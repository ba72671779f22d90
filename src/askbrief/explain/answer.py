"""Explain mode: why an answer, a decline or a summary came out as it did, stage by stage.

The stages fill a `Trace` as they run when one is passed (explain asked), keeping references to
what they computed anyway; nothing is done for it otherwise. `explain_answer` turns a trace into
the `Explanation` record (records.py), naming in words what moved each sentence; `answer_report`
and `summary_report` render the records as the CLI prints them. Every text in an explanation
is indexed text, cut at its offsets.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from askbrief.answer.dates import RECENT
from askbrief.answer.question import Question, kind_of_answer
from askbrief.answer.reader import (
    ANSWER_SENTENCES,
    CLOSEST,
    FEATURES,
    FOLLOW_ADJACENT,
    FOLLOW_GAP,
    Candidate,
    QuoteReading,
    ReaderModel,
    Scored,
    covering_sentences,
    idf_weights,
)
from askbrief.ingest.copies import first_per_cluster
from askbrief.ingest.text import STOP_WORDS, terms, words
from askbrief.records import (
    Answer,
    ChunkExplained,
    ConfidenceExplained,
    Evidence,
    Explanation,
    FeatureEffect,
    Hit,
    QuestionExplained,
    RetrievalExplained,
    SentenceExplained,
    Summary,
    SummaryExplanation,
    SummarySentenceExplained,
    TermExplained,
)
from askbrief.summary.summarise import ALREADY_SAID, REDUNDANT, Pool, SummaryTrace

EFFECTS = 3  # features named per sentence: the ones that moved it most
MENTIONED = 3  # terms named in one phrase


@dataclass
class Trace:
    """What the stages saw for one question, kept as they ran (explain mode only)."""

    dense: list[tuple[int, float]] = field(default_factory=list)  # (chunk id, best-sentence cosine), best first
    keyword: list[tuple[int, float]] = field(default_factory=list)  # (chunk id, BM25)
    fused: list[Hit] = field(default_factory=list)  # the fused list, a little past the chunks read
    excluded: dict[str, int] = field(default_factory=dict)
    searched: list[str] = field(default_factory=list)  # the terms keyword search matched
    headlines: list[Candidate] = field(default_factory=list)  # lines without a sentence ending, not read
    tokens: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # each read sentence's terms
    raw_logits: np.ndarray | None = None  # the ranker's, before the named adjustments
    scored: Scored | None = None
    span_model: float = 0.0
    confidence: float = 0.0
    threshold: float = 0.0
    quotes: QuoteReading | None = None
    path: str = "declined"
    chosen: list[Candidate] = field(default_factory=list)
    choices: dict[int, str] = field(default_factory=dict)  # candidate index -> the rule that took or left it


# ---- the question --------------------------------------------------------------------------


def _words_of_terms(text: str) -> dict[str, str]:
    """stem -> the question's own word for it."""
    out: dict[str, str] = {}
    for word in words(text):
        if word not in STOP_WORDS:
            for stem in terms(word):
                out.setdefault(stem, word)
    return out


def _by_weight(question: Question, idf: dict[str, float], said: dict[str, str]) -> list[str]:
    """The question's terms, rarest first; among equally rare ones, names and numbers ("World",
    "2022") before plain words ("won"): what a person would name as missing."""
    named = {w.lower() for w in question.text.split()[1:] if w[:1].isupper() or any(ch.isdigit() for ch in w)}
    named = {"".join(ch for ch in w if ch.isalnum()) for w in named}
    return sorted(idf, key=lambda t: (-round(idf[t], 6), said.get(t, t) not in named))


def _quoted(items: list[str], joiner: str = "and") -> str:
    items = [f"'{i}'" for i in items]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {joiner} {items[-1]}"


def _question(question: Question, evidence: Evidence, trace: Trace) -> QuestionExplained:
    unique = list(dict.fromkeys(question.terms))
    idf = idf_weights(evidence.term_counts, evidence.chunk_total, unique)
    said = _words_of_terms(question.text)
    searched = set(trace.searched)
    recent = [w for w in question.time_words if RECENT.fullmatch(w)]
    span = [w for w in question.time_words if w not in recent]
    where = question.where
    bounds = f"{where.since or 'any date'} to {where.until or 'the newest'}"
    if question.dates_from == "options":
        dates = f"{bounds}, as given (the question's own time words are not read when dates are given)"
    elif question.dates_from == "question":
        dates = f"{bounds}: {_quoted(span)} read against {question.resolved_against}, the newest indexed article's date"
    else:
        dates = "none asked"
    if question.prefer_recent:
        dates += (f"; {_quoted(recent)} asks for the latest: newer articles rank up (an article a month older"
                  f" counts half), and among sentences within {FOLLOW_ADJACENT:g} of the best the newest article's sentences come first")
    return QuestionExplained(
        terms=[TermExplained(term=t, word=said.get(t, t), weight=round(idf[t], 3), chunks=evidence.term_counts.get(t, 0),
                             searched=t in searched) for t in unique],
        time_words=list(question.time_words), since=where.since, until=where.until, dates=dates,
        resolved_against=question.resolved_against, prefer_recent=question.prefer_recent, speaker=question.speaker,
        topic=question.topic, answer_type=kind_of_answer(question.wants), sources=list(where.sources))


# ---- retrieval -----------------------------------------------------------------------------


def _folds(evidence: Evidence) -> dict[str, str]:
    """Syndicated copies among the chunks read -> the document read in their place."""
    read = [evidence.chunks[h.chunk_id].doc_id for h in evidence.hits]
    kept = first_per_cluster(read, evidence.clusters)
    by_cluster = {evidence.clusters.get(d, d): d for d in kept}
    return {d: by_cluster[evidence.clusters.get(d, d)] for d in dict.fromkeys(read) if d not in kept}


def _retrieval(evidence: Evidence, trace: Trace) -> RetrievalExplained:
    dense = {cid: (r, s) for r, (cid, s) in enumerate(trace.dense, 1)}
    keyword = {cid: (r, s) for r, (cid, s) in enumerate(trace.keyword, 1)}
    read = {h.chunk_id for h in evidence.hits}
    folded = _folds(evidence)
    listed = []
    for rank, hit in enumerate(trace.fused, 1):
        chunk = evidence.chunks[hit.chunk_id]
        doc = evidence.documents[chunk.doc_id]
        d_rank, d_score = dense.get(hit.chunk_id, (None, None))
        k_rank, k_score = keyword.get(hit.chunk_id, (None, None))
        listed.append(ChunkExplained(
            doc_id=doc.id, title=doc.title, published=doc.published, start=chunk.start, end=chunk.end,
            found_by="retrieval", fused_rank=rank, fused_score=round(hit.score, 6), dense_rank=d_rank,
            dense_score=None if d_score is None else round(d_score, 4), keyword_rank=k_rank,
            keyword_score=None if k_score is None else round(k_score, 4),
            recency_weight=None if hit.recency is None else round(hit.recency, 4),
            read=hit.chunk_id in read, folded_into=folded.get(doc.id) if hit.chunk_id in read else None))
    if trace.quotes:
        for (doc_id, quote), cand in trace.quotes.opening.items():
            covering = covering_sentences(evidence, doc_id, quote)
            doc = evidence.documents[doc_id]
            listed.append(ChunkExplained(
                doc_id=doc_id, title=doc.title, published=doc.published,
                start=evidence.sentences[(doc_id, covering[0])].start, end=evidence.sentences[(doc_id, covering[-1])].end,
                found_by="the speaker's quotes", fused_rank=None, fused_score=None, dense_rank=None, dense_score=None,
                keyword_rank=None, keyword_score=None, recency_weight=None, read=True, folded_into=None))
    return RetrievalExplained(dense_candidates=len(trace.dense), keyword_candidates=len(trace.keyword),
                              read=len(evidence.hits), chunks=listed, excluded=trace.excluded, folded=folded)


# ---- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What the feature phrases need to know about one question."""

    said: dict[str, str]
    idf: dict[str, float]
    kind: str | None
    total: int
    by_weight: list[str]  # the question's terms, the most telling first (_by_weight)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


# Features that move together are named together: the ranker's L2 fit shares weight evenly
# between collinear ones (cos and cos_gap, coverage and coverage_gap), so one alone would show half.
GROUPS = {
    "meaning": ("cos", "cos_gap", "cos_rank"),
    "terms": ("coverage", "coverage_gap", "matched", "bm25"),
    "neighbours": ("neighbour_cos", "window_coverage"),
    "missing": ("missing_rare",),
    "retrieval": ("chunk_rank", "dense_rank", "keyword_rank"),
    "phrase": ("bigrams",),
    "type": ("type_match",),
    "length": ("log_words",),
}


def _phrase(group: str, f: dict[str, float], effect: float, own: set[str], window: set[str], ctx: _Context) -> str:
    """A group of features of one sentence, in words."""
    by_weight = ctx.by_weight
    shared = [ctx.said.get(t, t) for t in by_weight if t in own][:MENTIONED]
    if group == "meaning":
        rank = round(1 / f["cos_rank"])
        place = "the closest" if rank == 1 else f"{_ordinal(rank)} closest"
        return f"{place} in meaning to the question of {ctx.total} sentences (cosine {f['cos']:.2f})"
    if group == "terms":
        if not shared:
            return "shares none of the question's terms"
        best = " (as many as any sentence)" if f["coverage_gap"] == 0 else " (fewer than the best-covering sentence)"
        return f"shares the question's terms {_quoted(shared)}{best}"
    if group == "neighbours":
        near = [ctx.said.get(t, t) for t in by_weight if t in window - own][:MENTIONED]
        adds = f"they add {_quoted(near)}" if near else "they add none of the question's terms"
        return f"the sentences beside it: cosine {f['neighbour_cos']:.2f} to the question; {adds}"
    if group == "missing":
        missing = [ctx.said.get(t, t) for t in by_weight if t not in window]
        return (f"neither it nor its neighbours mention {_quoted(missing[:MENTIONED], 'or')}" if missing
                else "it or its neighbours mention every term of the question")
    if group == "retrieval":
        chunk = round(1 / f["chunk_rank"])
        ranks = [f"{_ordinal(round(1 / f[k]))} by {how}" if f[k] > 0 else f"not found by {how}"
                 for k, how in (("dense_rank", "meaning"), ("keyword_rank", "keywords"))]
        return f"in the {_ordinal(chunk)} passage retrieved ({', '.join(ranks)})"
    if group == "phrase":
        return "repeats a word pair of the question" if f["bigrams"] > 0 else "repeats no word pair of the question"
    if group == "type":
        what = (ctx.kind or "the kind of answer asked").removeprefix("a ")
        return (f"holds {ctx.kind} the question does not already name" if f["type_match"] == 1
                else f"holds no {what}, which the question asks for")
    return f"{'long' if effect >= 0 else 'short'} ({round(math.exp(f['log_words']) - 1)} words)"


_GROUPING = np.array([[name in names for names in GROUPS.values()] for name in FEATURES], dtype=float)


def group_effects(feats: np.ndarray, model: ReaderModel) -> np.ndarray:
    """(candidates, groups): how far each feature group moved each sentence from the average
    candidate of its question, in nats of the ranker's logit (coefficient times the distance
    from the candidates' mean, summed over the group)."""
    return (model.ranker_coef * (feats - feats.mean(axis=0))) @ _GROUPING


def _effects(feats: np.ndarray, moved: np.ndarray, row: int, own: set[str], window: set[str],
             ctx: _Context) -> list[FeatureEffect]:
    """The feature groups that moved this sentence most (`moved`: its row of group_effects)."""
    values = dict(zip(FEATURES, feats[row].tolist()))
    names = list(GROUPS)
    top = [int(i) for i in np.argsort(-np.abs(moved))[:EFFECTS] if abs(moved[i]) >= 0.1]
    return [FeatureEffect(feature=names[i], value=round(values[GROUPS[names[i]][0]], 4), effect=round(float(moved[i]), 3),
                          words=_phrase(names[i], values, float(moved[i]), own, window, ctx)) for i in top]


def _tokens(evidence: Evidence, doc_id: str, idx: int, known: dict) -> set[str]:
    """A read sentence's terms (the reader's own, kept in the trace, when it computed them)."""
    if (doc_id, idx) not in known:
        stored = evidence.sentences.get((doc_id, idx))
        known[(doc_id, idx)] = terms(evidence.documents[doc_id].text[stored.start:stored.end]) if stored else []
    return set(known[(doc_id, idx)])


def _adjustments(scored: Scored, raw: np.ndarray, row: int, published: list[str | None], first: bool) -> list[str]:
    """The named changes from the ranker's score to the one that ordered the sentences."""
    out = []
    shift = scored.logits[row] - raw[row]
    if shift < -FOLLOW_ADJACENT / 2:
        newest = max((p for p, r in zip(published, raw) if p and r >= raw.max() - FOLLOW_ADJACENT), default=None)
        out.append(f"stepped back {FOLLOW_ADJACENT:g}: the question asks for the latest, and this article"
                   f" ({published[row] or 'undated'}) is older than {newest}, the newest among the near-best sentences")
    elif first and (scored.logits - raw < -FOLLOW_ADJACENT / 2).any():
        near = {p for p, r in zip(published, raw) if p and r >= raw.max() - FOLLOW_ADJACENT}
        out.append(f"newest of the {len(near)} dated articles among the sentences within {FOLLOW_ADJACENT:g} of the best"
                   f" ({published[row]}): sentences of older ones stepped back {FOLLOW_ADJACENT:g}")
    ties = np.flatnonzero(np.abs(raw - raw[row]) < 1e-9)
    if len(ties) > 1:
        out.append("scores the same as a copy of it in another article: the newer article goes first")
    return out


def _choice(rule: str, n: int | None, gap: float) -> str:
    """`Reader.choose`'s decision on one sentence, in words."""
    return {
        "best": f"cited [{n}]: the best-scored sentence",
        "close": f"cited [{n}]: {gap:.2f} below the best, within {FOLLOW_GAP:g}",
        "follows": f"cited [{n}]: continues a cited sentence, {gap:.2f} below the best (within {FOLLOW_ADJACENT:g})",
        "far": (f"left out: {gap:.2f} below the best, too far to join (within {FOLLOW_GAP:g}, or {FOLLOW_ADJACENT:g}"
                " for a sentence that continues a cited one)"),
        "full": f"left out: close to the best ({gap:.2f} below) but the answer already has {ANSWER_SENTENCES} sentences",
        "apart": f"left out: {gap:.2f} below the best, more than {FOLLOW_GAP:g}, and it does not continue a cited sentence",
    }[rule]


def _sentences(evidence: Evidence, trace: Trace, answer: Answer, model: ReaderModel,
               ctx: _Context) -> list[SentenceExplained]:
    scored, raw = trace.scored, trace.raw_logits
    if scored is None or not scored.cands:
        return []
    cited = {(c.doc_id, c.start, c.end): c.n for c in answer.citations}
    published = [evidence.documents[c.doc_id].published for c in scored.cands]
    order = [int(i) for i in np.argsort(-scored.logits)]
    moved = group_effects(scored.feats, model)
    out = []
    for rank, row in enumerate(order, 1):
        c = scored.cands[row]
        own = _tokens(evidence, c.doc_id, c.idx, trace.tokens)
        window = own | _tokens(evidence, c.doc_id, c.idx - 1, trace.tokens) | _tokens(evidence, c.doc_id, c.idx + 1, trace.tokens)
        n = cited.get((c.doc_id, c.start, c.end)) if trace.path != "quotes" else None
        if trace.path == "declined":
            outcome = (f"cited [{n}]: one of the {CLOSEST} closest passages, for you to check" if n
                       else "not cited: the question was declined")
        elif trace.path == "quotes":
            outcome = "not cited: the speaker's quote answers a question about what they said"
        else:
            outcome = _choice(trace.choices[row], n, float(scored.logits[order[0]] - scored.logits[row]))
        out.append(SentenceExplained(
            doc_id=c.doc_id, start=c.start, end=c.end, text=evidence.documents[c.doc_id].text[c.start:c.end],
            kind="sentence", score=round(float(raw[row]), 4), adjusted=round(float(scored.logits[row]), 4),
            adjustments=_adjustments(scored, raw, row, published, rank == 1), rank=rank,
            effects=_effects(scored.feats, moved[row], row, own, window, ctx), cited=n, outcome=outcome))
    return out


def _quote_sentences(question: Question, evidence: Evidence, trace: Trace, answer: Answer, model: ReaderModel,
                     ctx: _Context) -> list[SentenceExplained]:
    reading = trace.quotes
    if reading is None:
        return []
    relevance = {key: float(r) for key, r in zip(reading.quotes, reading.relevance)}
    scored = reading.scored
    order = [int(i) for i in np.argsort(-scored.logits)]
    moved = group_effects(scored.feats, model)
    first = answer.citations[0] if answer.citations else None
    about = question.topic or question.speaker
    out = []
    for rank, row in enumerate(order, 1):
        c = scored.cands[row]
        keys = [key for key, cand in reading.opening.items() if cand == c]
        best_relevance = max(relevance[k] for k in keys)
        own = _tokens(evidence, c.doc_id, c.idx, trace.tokens)
        window = own | _tokens(evidence, c.doc_id, c.idx - 1, trace.tokens) | _tokens(evidence, c.doc_id, c.idx + 1, trace.tokens)
        cited = (trace.path == "quotes" and first is not None and first.doc_id == c.doc_id
                 and c.start <= first.start < c.end)
        if cited:
            outcome = (f"cited [1]: of {question.speaker}'s quotes about '{about}' (relevance {best_relevance:.2f},"
                       f" at least {reading.bar:.2f}), the one whose opening sentence reads best")
        elif rank == 1:
            outcome = (f"not cited: the best of {question.speaker}'s quotes about '{about}', but its confidence"
                       f" {reading.confidence:.2f} is below {trace.threshold:.2f}, so the sentence answer stands")
        else:
            outcome = f"not cited: a quote about '{about}' (relevance {best_relevance:.2f}) that reads less well"
        out.append(SentenceExplained(
            doc_id=c.doc_id, start=c.start, end=c.end, text=evidence.documents[c.doc_id].text[c.start:c.end],
            kind="quote", score=round(float(scored.logits[row]), 4), adjusted=round(float(scored.logits[row]), 4),
            adjustments=[], rank=rank, effects=_effects(scored.feats, moved[row], row, own, window, ctx),
            cited=1 if cited else None, outcome=outcome))
    return out


def _confidence(question: Question, evidence: Evidence, trace: Trace, ctx: _Context) -> ConfidenceExplained:
    scored = trace.scored
    answered = trace.path != "declined"
    confidence = trace.confidence
    if scored is None or not scored.cands:
        reason = "no passage was found to read: nothing in the index matches the question's words or meaning"
        if trace.excluded:
            reason += f" within its filters ({', '.join(f'{n} chunks kept out by {k}' for k, n in trace.excluded.items())})"
        return ConfidenceExplained(confidence=0.0, threshold=trace.threshold, answered=False, span_model=0.0, reason=reason)
    read = set().union(*(_tokens(evidence, c.doc_id, c.idx, trace.tokens) for c in scored.cands))
    missing = [ctx.said.get(t, t) for t in ctx.by_weight if t not in read]
    logits = np.sort(scored.logits)[::-1]
    lead = logits[0] - logits[1] if len(logits) > 1 else None
    if trace.path == "quotes":
        reason = (f"the quote's opening sentence scores {confidence:.2f}, at least {trace.threshold:.2f}: answered"
                  f" from {question.speaker}'s own words")
    elif answered:
        reason = f"the best sentence scores {confidence:.2f}, at least {trace.threshold:.2f}: answered"
        reason += (f"; the span model reads it as answering (logit {trace.span_model:.1f})" if trace.span_model > 0 else
                   f"; the span model doubts it (logit {trace.span_model:.1f}) but the ranker's evidence carries it")
    else:
        reason = f"the best sentence scores {confidence:.2f}, below {trace.threshold:.2f}: "
        if missing:
            reason += f"the closest passages do not mention {_quoted(missing[:MENTIONED], 'or')}"
        elif trace.span_model <= 0:
            reason += (f"the passages share the question's words, but the span model does not read the best one as"
                       f" answering it (logit {trace.span_model:.1f})")
        else:
            reason += "the passages share the question's words, but none reads clearly as the answer"
        if lead is not None and lead < 1.0:
            reason += f"; the best leads the next by only {lead:.2f}"
    return ConfidenceExplained(confidence=round(confidence, 4), threshold=trace.threshold, answered=answered,
                               span_model=round(trace.span_model, 3), reason=reason)


def explain_answer(question: Question, evidence: Evidence, trace: Trace, answer: Answer,
                   model: ReaderModel) -> Explanation:
    """The explanation of one answer, from the trace of the run that made it."""
    unique = list(dict.fromkeys(question.terms))
    n_cands = len(trace.scored.cands) if trace.scored else 0
    said = _words_of_terms(question.text)
    idf = idf_weights(evidence.term_counts, evidence.chunk_total, unique)
    ctx = _Context(said, idf, kind_of_answer(question.wants), n_cands, _by_weight(question, idf, said))
    reading = _sentences(evidence, trace, answer, model, ctx)
    reading += _quote_sentences(question, evidence, trace, answer, model, ctx)
    order = None
    best = next((s for s in reading if s.kind == "sentence" and s.rank == 1), None)
    if trace.path == "sentences" and best and best.cited and best.cited > 1:
        order = (f"[1] comes just before the best-scored sentence [{best.cited}] in the same article, so it is cited"
                 " first: cited sentences keep their article's reading order")
    return Explanation(question=_question(question, evidence, trace), retrieval=_retrieval(evidence, trace),
                       reading=reading, headlines=len(trace.headlines), path=trace.path, order=order,
                       confidence=_confidence(question, evidence, trace, ctx))


# ---- the CLI's report ----------------------------------------------------------------------

REPORT_SENTENCES = 6  # sentences the report shows (the record keeps every one)
REPORT_CHUNKS = 8


def _short(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def answer_report(explanation: Explanation) -> str:
    """The explanation as the CLI prints it under an answer."""
    q, r = explanation.question, explanation.retrieval
    lines = ["", "Why this answer", "", "1. The question"]
    weighted = sorted(q.terms, key=lambda t: -t.weight)
    lines.append("   terms (rarer weighs more): " + (", ".join(
        f"{t.word} {t.weight:.2f}" + ("" if t.searched else " (too common to search)") for t in weighted) or "none"))
    lines.append(f"   dates: {q.dates}")
    if q.speaker:
        lines.append(f"   asks what {q.speaker} said" + (f" about '{q.topic}'" if q.topic else ""))
    if q.answer_type:
        lines.append(f"   wants {q.answer_type}")
    if q.sources:
        lines.append(f"   sources: {', '.join(q.sources)}")
    lines += ["", f"2. Retrieval: {r.dense_candidates} passages by meaning, {r.keyword_candidates} by keywords, fused;"
              f" the top {r.read} read"]
    retrieved = [c for c in r.chunks if c.found_by == "retrieval"]
    for c in retrieved[:REPORT_CHUNKS]:
        dense = f"meaning #{c.dense_rank} ({c.dense_score:.2f})" if c.dense_rank else "meaning -"
        keyword = f"keywords #{c.keyword_rank} ({c.keyword_score:.3g})" if c.keyword_rank else "keywords -"
        recency = f", recency x{c.recency_weight:.2f}" if c.recency_weight is not None else ""
        state = "read" if c.read else "not read"
        folded = f"; a copy of {c.folded_into} is read instead" if c.folded_into else ""
        lines.append(f"   #{c.fused_rank:<2} {dense}, {keyword}{recency}  {state}{folded}  {c.doc_id} ({c.published or 'undated'})")
    for c in r.chunks[len(retrieved):]:
        lines.append(f"   quote  {c.doc_id} {c.start}-{c.end}  found by the speaker's quotes")
    for name, n in r.excluded.items():
        lines.append(f"   the {name} filter kept out {n} chunks")
    lines += ["", "3. Reading: each sentence's score (the ranker's logit) and what moved it most"]
    if explanation.headlines:
        n = explanation.headlines
        lines.append(f"   ({n} line{'s' * (n != 1)} without a sentence ending, headlines and bylines, not read)")
    shown = [s for s in explanation.reading if s.rank <= REPORT_SENTENCES or s.cited]
    if explanation.path == "quotes":  # the quotes decided: they come first
        shown = [s for s in shown if s.kind == "quote"] + [s for s in shown if s.kind != "quote"]
    for s in shown:
        adjusted = f" -> {s.adjusted:+.2f}" if abs(s.adjusted - s.score) > 1e-3 else ""
        lines.append(f"   {s.kind} {s.rank}: {s.score:+.2f}{adjusted}  \"{_short(s.text)}\"")
        for e in s.effects:
            lines.append(f"      {e.effect:+.2f} {e.words}")
        for a in s.adjustments:
            lines.append(f"      {a}")
        lines.append(f"      -> {s.outcome}")
    hidden = len(explanation.reading) - len(shown)
    if hidden:
        lines.append(f"   ({hidden} more sentences, none cited: --json lists every one)")
    if explanation.order:
        lines.append(f"   {explanation.order}")
    c = explanation.confidence
    lines += ["", f"4. Confidence {c.confidence:.2f}, threshold {c.threshold:.2f}: {c.reason}"]
    return "\n".join(lines)


# ---- summaries -----------------------------------------------------------------------------

LEFT_OUT = 5  # the most salient sentences not picked that a summary's explanation names


def _covers(pool: Pool, rows: list[int]) -> dict[int, list[str]]:
    """Each row's words that the pool's other sentences use most: what the sentence is about,
    in the article's own words (a stem shown as the sentence spells it)."""
    bags = [terms(t) for t in pool.texts]
    frequency: dict[str, int] = {}
    for bag in bags:
        for t in set(bag):
            frequency[t] = frequency.get(t, 0) + 1
    out = {}
    for row in rows:
        spelled = _words_of_terms(pool.texts[row])
        shared = sorted((t for t in set(bags[row]) if frequency[t] > 1), key=lambda t: (-frequency[t], t))
        out[row] = [spelled.get(t, t) for t in shared[:MENTIONED + 1]]
    return out


def explain_summary(pool: Pool, trace: SummaryTrace, summary: Summary, documents: list[str],
                    since: str | None) -> SummaryExplanation:
    """Why each sentence of a summary was picked, and what the most salient others lost to."""
    if trace.scores is None or not len(pool.texts):
        return SummaryExplanation(documents=documents, sentences_read=0, picked=[], left_out=[])
    scores = trace.scores
    spread = float(scores.max() - scores.min()) or 1.0
    salient = (scores - scores.min()) / spread
    row_of = {(pool.doc_ids[i], *pool.spans[i]): i for i in range(len(pool.texts))}
    cited_rows = {row_of[(c.doc_id, c.start, c.end)]: c.n for c in summary.citations}
    selected = trace.selected or []
    by_salience = [int(i) for i in np.argsort(-scores)]
    passed = [i for i in by_salience if i not in cited_rows][:LEFT_OUT]
    covers = _covers(pool, list(cited_rows) + passed)
    sims = pool.vectors @ pool.vectors.T

    def entry(row: int, outcome: str) -> SummarySentenceExplained:
        start, end = pool.spans[row]
        return SummarySentenceExplained(doc_id=pool.doc_ids[row], start=start, end=end, text=pool.texts[row],
                                        score=round(float(scores[row]), 4), cited=cited_rows.get(row),
                                        covers=covers[row], outcome=outcome)

    picked = []
    for row, n in sorted(cited_rows.items(), key=lambda item: item[1]):
        rank = by_salience.index(row) + 1
        if row in selected:
            before = selected[:selected.index(row)]
            closest = max((float(sims[row, j]) for j in before), default=0.0)
            why = (f"picked {_ordinal(len(before) + 1)}: {_ordinal(rank)} most salient of {len(pool.texts)} sentences"
                   f" ({salient[row]:.2f} of the pool's range)")
            if before:
                why += f"; its closest already-picked sentence is {closest:.2f} alike (below {REDUNDANT:g})"
        else:
            twin = next((j for j in selected if j not in cited_rows and sims[row, j] >= REDUNDANT), row)
            why = (f"the same fact as a picked sentence of {pool.doc_ids[twin]} (cosine {sims[row, twin]:.2f}),"
                   " cited to this article, which told it first")
        if trace.repeat is not None:
            why += f"; new since {since}: its closest earlier sentence is {trace.repeat[row]:.2f} alike (below {ALREADY_SAID:g})"
        picked.append(entry(row, why))
    left_out = []
    for row in passed:
        if trace.repeat is not None and trace.repeat[row] >= ALREADY_SAID:
            why = (f"not new since {since}: an earlier article said the same ({trace.repeat[row]:.2f} alike,"
                   f" at least {ALREADY_SAID:g})")
        elif row in selected:
            why = "the same fact told first by an earlier article, cited there"
        else:
            twin = max(cited_rows, key=lambda j: sims[row, j], default=None)
            if twin is not None and sims[row, twin] >= REDUNDANT:
                why = f"a near-duplicate of [{cited_rows[twin]}] ({sims[row, twin]:.2f} alike, at least {REDUNDANT:g})"
            elif twin is not None and by_salience.index(row) < len(selected):
                why = (f"{_ordinal(by_salience.index(row) + 1)} most salient, passed over for a sentence less like those"
                       f" picked: it is {sims[row, twin]:.2f} alike to [{cited_rows[twin]}]")
            elif twin is not None:
                why = (f"{_ordinal(by_salience.index(row) + 1)} most salient: the summary holds {len(selected)} sentences"
                       f" (closest picked: [{cited_rows[twin]}], {sims[row, twin]:.2f} alike)")
            else:
                why = "not picked"
        left_out.append(entry(row, why))
    return SummaryExplanation(documents=documents, sentences_read=len(pool.texts), picked=picked, left_out=left_out)


def summary_report(explanation: SummaryExplanation) -> str:
    """The summary's explanation as the CLI prints it."""
    lines = ["", "Why these sentences", "", "1. Articles read"]
    lines += [f"   {d}" for d in explanation.documents]
    lines += ["", f"2. Picked, from {explanation.sentences_read} sentences (salience: the trained scorer, plus a"
              " query's pull, less what earlier articles said)"]
    for s in explanation.picked:
        lines.append(f"   [{s.cited}] {s.score:+.2f}  \"{_short(s.text)}\"")
        lines.append(f"      about: {', '.join(s.covers) or '-'}")
        lines.append(f"      -> {s.outcome}")
    if explanation.left_out:
        lines += ["", "3. Left out, though salient"]
    for s in explanation.left_out:
        lines.append(f"   {s.score:+.2f}  \"{_short(s.text)}\"")
        lines.append(f"      -> {s.outcome}")
    return "\n".join(lines)
