"""The explanations as the CLI prints them under an answer or a summary."""


from askbrief.explain.words import short
from askbrief.records import Explanation, SummaryExplanation

REPORT_SENTENCES = 6  # sentences the report shows (the record keeps every one)
REPORT_CHUNKS = 8


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
        lines.append(f"   {s.kind} {s.rank}: {s.score:+.2f}{adjusted}  \"{short(s.text)}\"")
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


def summary_report(explanation: SummaryExplanation) -> str:
    """The summary's explanation as the CLI prints it."""
    lines = ["", "Why these sentences", "", "1. Articles read"]
    lines += [f"   {d}" for d in explanation.documents]
    lines += ["", f"2. Picked, from {explanation.sentences_read} sentences (salience: the trained scorer, plus a"
              " query's pull, less what earlier articles said)"]
    for s in explanation.picked:
        lines.append(f"   [{s.cited}] {s.score:+.2f}  \"{short(s.text)}\"")
        lines.append(f"      about: {', '.join(s.covers) or '-'}")
        lines.append(f"      -> {s.outcome}")
    if explanation.left_out:
        lines += ["", "3. Left out, though salient"]
    for s in explanation.left_out:
        lines.append(f"   {s.score:+.2f}  \"{short(s.text)}\"")
        lines.append(f"      -> {s.outcome}")
    return "\n".join(lines)
