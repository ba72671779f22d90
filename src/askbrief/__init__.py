"""askbrief: answers and summaries over news articles, every sentence cited to its source.

The public API is what `__all__` names; everything else is internal and may change. Names load
on first use, so `import askbrief` (and the CLI's `--help`) stays fast.

    from askbrief import Engine
    engine = Engine("news")
    engine.ingest_paths(["seeds/"])
    print(engine.ask("What did Putin say about trade?").answer)
"""

from importlib import import_module

__version__ = "0.1.0"

_PUBLIC = {
    "Engine": "askbrief.engine",
    "Settings": "askbrief.settings",
    "make_document": "askbrief.ingest.documents",
    "load_paths": "askbrief.ingest.documents",
    **dict.fromkeys(("Answer", "Citation", "Document", "DocumentInfo", "DocumentPage", "IngestResult", "QuoteRecord",
                     "SearchHit", "Span", "Summary"), "askbrief.records"),
    **dict.fromkeys(("AskbriefError", "BadInput", "BackendUnavailable", "DocumentNotFound", "EmptyIndex",
                     "IndexIncompatible", "IndexNotFound"), "askbrief.errors"),
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'askbrief' has no attribute {name!r}")
