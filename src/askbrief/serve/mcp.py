"""askbrief as an MCP server (the official `mcp` SDK, stdio): tools for assistants that answer with
the same cited records as the REST API, and the indexed documents as resources.

A tool's result is the DESIGN.md record (Answer, Summary, ...) as structured content, so an
assistant can show each citation's doc id, offsets, quote and stable id. An askbrief error (bad
argument, empty index, unknown document) is a tool error with the same message the CLI prints.
"""

from collections.abc import Callable
from typing import TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError

from askbrief import __version__
from askbrief.engine import Engine
from askbrief.errors import AskbriefError
from askbrief.records import Answer, Citation, Document, QuoteRecord, SearchHit, Summary, Timeline
from askbrief.serve.requests import (
    MAX_LISTED,
    QUOTES_LIMIT,
    SEARCH_K,
    SUMMARY_SENTENCES,
    TOP_K,
    About,
    CitationId,
    Date,
    Dates,
    DocIds,
    Listed,
    PerDate,
    Question,
    Sentences,
    Sources,
    Speaker,
    Topic,
    TopK,
)

T = TypeVar("T")
INSTRUCTIONS = ("Answers and summaries over the news articles indexed in askbrief. Every sentence of an answer or "
                "summary is quoted verbatim from an article and cited [n]; quote it with its citation, and say so "
                "when `abstained` is true: the articles do not answer the question.")


def create_server(engine: Engine) -> MCPServer:
    server = MCPServer("askbrief", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool()
    def ask(question: Question, top_k: TopK = TOP_K, since: Date = None, until: Date = None,
            sources: Sources = [], explain: bool = False) -> Answer:  # noqa: B006 - pydantic copies
        """Answer a question about the indexed news articles with cited sentences, or abstain when
        they do not say. `since`/`until` limit the articles by publication date, `sources` to
        those outlets. `explain` adds why: the question as read, the passages retrieved, each
        sentence's score and what moved it, and what decided the confidence (or the decline)."""
        return _reported(lambda: engine.ask(question, top_k, since, until, sources, explain=explain))

    @server.tool()
    def search(query: Question, k: TopK = SEARCH_K, since: Date = None, until: Date = None) -> list[SearchHit]:
        """Ranked passages for a query, each with its document, offsets and text."""
        return _reported(lambda: engine.search(query, k, since, until))

    @server.tool()
    def summarize(doc_ids: DocIds = [], query: Topic = None,  # noqa: B006 - pydantic copies
                  max_sentences: Sentences = SUMMARY_SENTENCES, since: Date = None, explain: bool = False) -> Summary:
        """A one-paragraph summary, every sentence verbatim and cited: of the documents named, of
        the articles on a query, or of the newest articles. With `since`, only what articles
        published on or after that date add to the earlier ones. `explain` adds why each sentence
        was picked and what was left out (a near-duplicate, or not new since the date)."""
        return _reported(lambda: engine.summarize(doc_ids, query, max_sentences, since, explain))

    @server.tool()
    def timeline(query: Question, dates: Dates = None, per_date: PerDate = 1, since: Date = None, until: Date = None,
                 explain: bool = False) -> Timeline:
        """A story day by day: the days the articles about `query` report (askbrief chooses how
        many unless `dates` is given), each with `per_date` verbatim, cited sentences and the
        outlets that reported it. `explain` adds why these days and what was folded."""
        return _reported(lambda: engine.timeline(query, dates, per_date, since, until, explain))

    @server.tool()
    def quotes(speaker: Speaker = None, about: About = None, limit: Listed = QUOTES_LIMIT) -> list[QuoteRecord]:
        """Who said what: direct quotes with their speaker (part of a name, any case), ranked by
        a topic when `about` is given."""
        return _reported(lambda: engine.quotes(speaker, about, limit))

    @server.tool()
    def show_citation(citation_id: CitationId) -> Citation:
        """The cited sentence behind a citation id (as given in `citations[].id`), quoted from
        its source at its offsets, to check or show in context."""
        return _reported(lambda: engine.citation(citation_id))

    @server.resource("askbrief://documents", mime_type="application/json")
    def documents() -> list[dict]:
        """The indexed documents (uri, id, title, date, source), up to 500; read one at its uri."""
        listed = _reported(lambda: engine.list_documents(0, MAX_LISTED).documents, ResourceError)
        return [{"uri": f"askbrief://documents/{d.id}", **d.model_dump()} for d in listed]

    @server.resource("askbrief://documents/{doc_id}", mime_type="application/json")
    def document(doc_id: str) -> Document:
        """One indexed document, its text exactly as every citation's offsets count it."""
        return _reported(lambda: engine.document(doc_id), ResourceError)

    return server


def _reported(call: Callable[[], T], error: type[Exception] = ToolError) -> T:
    """askbrief's own errors reach the assistant as tool (or resource) errors, with their message."""
    try:
        return call()
    except AskbriefError as e:
        raise error(f"{type(e).__name__}: {e}") from None


def run_stdio(engine: Engine) -> None:
    engine.warm()
    create_server(engine).run("stdio")
