"""Which sentences make the answer, in what order, and the answer's words: cited sentences
after the date they speak for, or a decline citing the closest passages."""


import numpy as np

from askbrief.answer.candidates import Candidate
from askbrief.answer.ranker import ANSWER_SENTENCES, FOLLOW_ADJACENT, FOLLOW_GAP
from askbrief.citations import cite, cited_text
from askbrief.records import Answer, Document


def choose(cands: list[Candidate], logits: np.ndarray, why: dict[int, str] | None = None) -> list[Candidate]:
    """The best sentence, plus up to two more that score nearly as well or continue a chosen one.
    `why` (explain mode) hears the rule that decided each candidate, by its index: "best",
    "close" or "follows" (taken), "far", "full" or "apart" (left out)."""
    order = [int(i) for i in np.argsort(-logits)]
    best = logits[order[0]]
    chosen = [cands[order[0]]]
    decided = {order[0]: "best"}
    for place, i in enumerate(order[1:], 1):
        if len(chosen) == ANSWER_SENTENCES or best - logits[i] > FOLLOW_ADJACENT:
            rule = "full" if len(chosen) == ANSWER_SENTENCES else "far"
            decided.update({j: "far" if best - logits[j] > FOLLOW_ADJACENT else rule for j in order[place:]})
            break
        c = cands[i]
        follows = any(o.doc_id == c.doc_id and c.idx == o.idx + 1 for o in chosen)
        if best - logits[i] <= FOLLOW_GAP or follows:
            chosen.append(c)
        decided[i] = "close" if best - logits[i] <= FOLLOW_GAP else "follows" if follows else "apart"
    if why is not None:
        why.update(decided)
    return chosen


def in_reading_order(chosen: list[Candidate]) -> list[Candidate]:
    """Runs of adjacent sentences in source order, the runs in the order of their best sentence,
    so the first citation is the best one unless the sentence just before it was chosen too."""
    runs: list[list[Candidate]] = []
    for c in chosen:  # best first
        for run in runs:
            if run[0].doc_id == c.doc_id and (c.idx == run[0].idx - 1 or c.idx == run[-1].idx + 1):
                run.append(c)
                run.sort(key=lambda x: x.idx)
                break
        else:
            runs.append([c])
    return [c for run in runs for c in run]


def compose_answer(question: str, chosen: list[Candidate], docs: dict[str, Document], confidence: float,
                   copies: int = 0) -> Answer:
    """The cited sentences, preceded by the date they speak for and how many other outlets ran
    the same story (`copies`), e.g. "As of 2005-03-18 (also reported by 2 other sources): …"."""
    citations = [cite(n, docs[c.doc_id], c.start, c.end) for n, c in enumerate(in_reading_order(chosen), 1)]
    text = cited_text(citations)
    dated = [c.published for c in citations if c.published]
    also = f"also reported by {copies} other source{'s' * (copies != 1)}" if copies else ""
    if dated:  # news goes stale: say when the cited articles are from
        text = f"As of {max(dated)}{f' ({also})' if also else ''}: {text}"
    elif also:
        text = f"{also[0].upper()}{also[1:]}: {text}"
    return Answer(question=question, answer=text, abstained=False, confidence=round(confidence, 4),
                  citations=citations, timings_ms={})


def compose_abstention(question: str, closest: list[Candidate], docs: dict[str, Document], confidence: float) -> Answer:
    citations = [cite(n, docs[c.doc_id], c.start, c.end) for n, c in enumerate(closest, 1)]
    text = "The indexed articles do not answer this question."
    if citations:
        text += " The closest passages are cited for you to check."
    return Answer(question=question, answer=text, abstained=True, confidence=round(confidence, 4),
                  citations=citations, timings_ms={})
