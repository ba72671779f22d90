"""Each sentence the reader weighed: its score, the feature groups that moved it most (in nats
and in words), the adjustments named, and why it was cited or left out."""

import math
from dataclasses import dataclass

import numpy as np

from askbrief.answer.candidates import Scored
from askbrief.answer.features import FEATURES
from askbrief.answer.ranker import ANSWER_SENTENCES, FOLLOW_ADJACENT, FOLLOW_GAP, ReaderModel
from askbrief.answer.reader import CLOSEST
from askbrief.explain.words import MENTIONED, ordinal, quoted
from askbrief.records import (
    Answer,
    Evidence,
    FeatureEffect,
    SentenceExplained,
)
from askbrief.records.trace import Trace
from askbrief.retrieve.question import Question
from askbrief.text.sentences import terms

EFFECTS = 3  # features named per sentence: the ones that moved it most


@dataclass(frozen=True)
class Context:
    """What the feature phrases need to know about one question."""

    said: dict[str, str]
    idf: dict[str, float]
    kind: str | None
    total: int
    by_weight: list[str]  # the question's terms, the most telling first (by_weight)


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


def phrase(group: str, f: dict[str, float], effect: float, own: set[str], window: set[str], ctx: Context) -> str:
    """A group of features of one sentence, in words."""
    by_weight = ctx.by_weight
    shared = [ctx.said.get(t, t) for t in by_weight if t in own][:MENTIONED]
    if group == "meaning":
        rank = round(1 / f["cos_rank"])
        place = "the closest" if rank == 1 else f"{ordinal(rank)} closest"
        return f"{place} in meaning to the question of {ctx.total} sentences (cosine {f['cos']:.2f})"
    if group == "terms":
        if not shared:
            return "shares none of the question's terms"
        best = " (as many as any sentence)" if f["coverage_gap"] == 0 else " (fewer than the best-covering sentence)"
        return f"shares the question's terms {quoted(shared)}{best}"
    if group == "neighbours":
        near = [ctx.said.get(t, t) for t in by_weight if t in window - own][:MENTIONED]
        adds = f"they add {quoted(near)}" if near else "they add none of the question's terms"
        return f"the sentences beside it: cosine {f['neighbour_cos']:.2f} to the question; {adds}"
    if group == "missing":
        missing = [ctx.said.get(t, t) for t in by_weight if t not in window]
        return (f"neither it nor its neighbours mention {quoted(missing[:MENTIONED], 'or')}" if missing
                else "it or its neighbours mention every term of the question")
    if group == "retrieval":
        chunk = round(1 / f["chunk_rank"])
        ranks = [f"{ordinal(round(1 / f[k]))} by {how}" if f[k] > 0 else f"not found by {how}"
                 for k, how in (("dense_rank", "meaning"), ("keyword_rank", "keywords"))]
        return f"in the {ordinal(chunk)} passage retrieved ({', '.join(ranks)})"
    if group == "phrase":
        return "repeats a word pair of the question" if f["bigrams"] > 0 else "repeats no word pair of the question"
    if group == "type":
        what = (ctx.kind or "the kind of answer asked").removeprefix("a ")
        return (f"holds {ctx.kind} the question does not already name" if f["type_match"] == 1
                else f"holds no {what}, which the question asks for")
    return f"{'long' if effect >= 0 else 'short'} ({round(math.exp(f['log_words']) - 1)} words)"


GROUPING = np.array([[name in names for names in GROUPS.values()] for name in FEATURES], dtype=float)


def group_effects(feats: np.ndarray, model: ReaderModel) -> np.ndarray:
    """(candidates, groups): how far each feature group moved each sentence from the average
    candidate of its question, in nats of the ranker's logit (coefficient times the distance
    from the candidates' mean, summed over the group)."""
    return (model.ranker_coef * (feats - feats.mean(axis=0))) @ GROUPING


def effects(feats: np.ndarray, moved: np.ndarray, row: int, own: set[str], window: set[str],
             ctx: Context) -> list[FeatureEffect]:
    """The feature groups that moved this sentence most (`moved`: its row of group_effects)."""
    values = dict(zip(FEATURES, feats[row].tolist()))
    names = list(GROUPS)
    top = [int(i) for i in np.argsort(-np.abs(moved))[:EFFECTS] if abs(moved[i]) >= 0.1]
    return [FeatureEffect(feature=names[i], value=round(values[GROUPS[names[i]][0]], 4), effect=round(float(moved[i]), 3),
                          words=phrase(names[i], values, float(moved[i]), own, window, ctx)) for i in top]


def tokens_of(evidence: Evidence, doc_id: str, idx: int, known: dict) -> set[str]:
    """A read sentence's terms (the reader's own, kept in the trace, when it computed them)."""
    if (doc_id, idx) not in known:
        stored = evidence.sentences.get((doc_id, idx))
        doc = evidence.documents[doc_id]
        known[(doc_id, idx)] = terms(doc.text[stored.start:stored.end], doc.lang or "en") if stored else []
    return set(known[(doc_id, idx)])


def adjustments(scored: Scored, raw: np.ndarray, row: int, published: list[str | None], first: bool,
                trace: Trace) -> list[str]:
    """The named changes from the ranker's score to the one that ordered the sentences: the
    newest-first step (behind `trace.newest`), the tie-break."""
    out = []
    newest = trace.newest
    shift = scored.logits[row] - raw[row]
    if shift < -FOLLOW_ADJACENT / 2:
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


def choice_words(rule: str, n: int | None, gap: float) -> str:
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


def sentence_entries(evidence: Evidence, trace: Trace, answer: Answer, model: ReaderModel,
               ctx: Context) -> list[SentenceExplained]:
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
        own = tokens_of(evidence, c.doc_id, c.idx, trace.tokens)
        window = own | tokens_of(evidence, c.doc_id, c.idx - 1, trace.tokens) | tokens_of(evidence, c.doc_id, c.idx + 1, trace.tokens)
        n = cited.get((c.doc_id, c.start, c.end)) if trace.path != "quotes" else None
        if trace.path == "declined":
            outcome = (f"cited [{n}]: one of the {CLOSEST} closest passages, for you to check" if n
                       else "not cited: the question was declined")
        elif trace.path == "quotes":
            outcome = "not cited: the speaker's quote answers a question about what they said"
        else:
            outcome = choice_words(trace.choices[row], n, float(scored.logits[order[0]] - scored.logits[row]))
        out.append(SentenceExplained(
            doc_id=c.doc_id, start=c.start, end=c.end, text=evidence.documents[c.doc_id].text[c.start:c.end],
            kind="sentence", score=round(float(raw[row]), 4), adjusted=round(float(scored.logits[row]), 4),
            adjustments=adjustments(scored, raw, row, published, rank == 1, trace), rank=rank,
            effects=effects(scored.feats, moved[row], row, own, window, ctx), cited=n, outcome=outcome))
    return out


def quote_entries(question: Question, evidence: Evidence, trace: Trace, answer: Answer, model: ReaderModel,
                     ctx: Context) -> list[SentenceExplained]:
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
        own = tokens_of(evidence, c.doc_id, c.idx, trace.tokens)
        window = own | tokens_of(evidence, c.doc_id, c.idx - 1, trace.tokens) | tokens_of(evidence, c.doc_id, c.idx + 1, trace.tokens)
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
            adjustments=[], rank=rank, effects=effects(scored.feats, moved[row], row, own, window, ctx),
            cited=1 if cited else None, outcome=outcome))
    return out
