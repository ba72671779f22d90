"""The trace of one question's run (explain mode only): the stages record what they saw and
decided as they go, keeping references to what they computed anyway; askbrief.explain turns it
into words. Nothing here decides anything. It lies low, beside the records, so that every stage
that records into it (retrieval, reading, summaries) imports it downward; the reader's own types
are named for the type checker only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from askbrief.records.stages import Hit

if TYPE_CHECKING:
    from askbrief.answer.candidates import Candidate, QuoteReading, Scored


@dataclass
class Trace:
    """What the stages saw for one question, kept as they ran (explain mode only)."""

    dense: list[tuple[int, float]] = field(default_factory=list)  # (chunk id, best-sentence cosine), best first
    ranker: str = ""  # "across languages" or "other languages": which special ranker read (reader.py)
    keyword: list[tuple[int, float]] = field(default_factory=list)  # (chunk id, BM25)
    fused: list[Hit] = field(default_factory=list)  # the fused list, a little past the chunks read
    excluded: dict[str, int] = field(default_factory=dict)
    searched: list[str] = field(default_factory=list)  # the terms keyword search matched
    headlines: list[Candidate] = field(default_factory=list)  # lines without a sentence ending, not read
    tokens: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # each read sentence's terms
    idf: dict[str, float] = field(default_factory=dict)  # each question term's weight, as the reader used it
    folded: dict[str, str] = field(default_factory=dict)  # syndicated copy among the chunks read -> the one read
    raw_logits: np.ndarray | None = None  # the ranker's, before the named adjustments
    verified: list[Candidate] = field(default_factory=list)  # what the verifier read together, best first
    verdict: float | None = None  # its logit for them: above 0, it reads them as answering
    newest: str | None = None  # "latest": the newest near-best article's date, which older ones stepped behind
    scored: Scored | None = None
    span_model: float = 0.0
    confidence: float = 0.0
    threshold: float = 0.0
    quotes: QuoteReading | None = None
    path: str = "declined"
    chosen: list[Candidate] = field(default_factory=list)
    choices: dict[int, str] = field(default_factory=dict)  # candidate index -> the rule that took or left it
