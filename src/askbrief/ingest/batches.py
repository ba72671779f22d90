"""The ingest loop: documents in, written in batches of one transaction each (split and checked
first, so a bad document stops the ingest before any write); exact copies resolve to the stored
text. What Engine.ingest runs over its store."""

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from tqdm import tqdm

from askbrief.encoders.embed import Embedder
from askbrief.ingest.prepare import batched, prepare, split_all
from askbrief.limits import check_distinct_ids
from askbrief.records import Document, IngestResult
from askbrief.text.copies import exact_copies

if TYPE_CHECKING:
    from askbrief.index.store import Store

INGEST_BATCH = 64  # documents embedded and written per transaction


def ingest_into(store: "Store", embedder: Embedder, documents: Iterable[Document], progress: bool = False,
                deduplicate: bool = True, on_batch: Callable[[int], None] | None = None,
                batch_size: int = INGEST_BATCH) -> list[IngestResult]:
    """Add documents in batches, in input order; `deduplicate=False` (benchmarks) skips the
    near-copy check; `on_batch` hears how many are written after each batch (a job's progress)."""
    documents = list(documents)
    check_distinct_ids(documents)
    splits = dict(zip((d.id for d in documents), split_all(documents)))
    results: list[IngestResult] = []
    bar = tqdm(desc="ingest", unit="doc", disable=not progress, total=len(documents))
    try:
        for batch in batched(iter(documents), batch_size):
            fresh, known = exact_copies(batch, store.holder_of)
            aliases = [(r.id, r.duplicate_of) for r in known if r]
            prepared = prepare(fresh, embedder, [splits[d.id] for d in fresh])
            added = iter(store.add(prepared, syndication=deduplicate, aliases=aliases))
            results += [r or next(added) for r in known]  # in input order
            bar.update(len(batch))
            if on_batch:
                on_batch(len(results))
    finally:
        bar.close()
        store.save_vectors()
    return results
