"""The records that pass between stages and leave through the CLI, the API and the MCP server
(DESIGN.md): the public ones (pydantic), explain mode's, and the plain ones between stages.

Invariant kept everywhere: `Citation.quote == Document.text[start:end]`.
"""

from askbrief.records.base import Record
from askbrief.records.explained import (
    ChunkExplained,
    ConfidenceExplained,
    Explanation,
    FeatureEffect,
    QuestionExplained,
    RetrievalExplained,
    SentenceExplained,
    SummaryExplanation,
    SummarySentenceExplained,
    TermExplained,
)
from askbrief.records.public import (
    Answer,
    Citation,
    Document,
    DocumentInfo,
    DocumentPage,
    Feed,
    FeedPoll,
    IngestResult,
    Job,
    QuoteRecord,
    SearchHit,
    SkippedEntry,
    Span,
    Summary,
)
from askbrief.records.stages import Chunk, ChunkRow, Evidence, Filter, Hit, Prepared, Quote, Sentence, StoredSentence
from askbrief.records.timelines import DayExplained, Timeline, TimelineEntry, TimelineExplanation, TimelineSentence

__all__ = [
    "Record", "TermExplained", "QuestionExplained", "ChunkExplained", "RetrievalExplained", "FeatureEffect",
    "SentenceExplained", "ConfidenceExplained", "Explanation", "SummarySentenceExplained",
    "SummaryExplanation", "Document", "Citation", "Span", "Answer", "Summary", "IngestResult", "Feed", "Job",
    "SkippedEntry", "FeedPoll", "DocumentInfo", "DocumentPage", "QuoteRecord", "SearchHit", "Sentence",
    "Chunk", "Quote", "Filter", "Prepared", "ChunkRow", "Hit", "StoredSentence", "Evidence",
    "Timeline", "TimelineEntry", "TimelineSentence", "TimelineExplanation", "DayExplained",
]
