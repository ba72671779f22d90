"""Which store an index opens: PostgreSQL when ASKBRIEF_STORE_URL is set, else SQLite in the
index's folder."""

from collections.abc import Callable, Iterable

import numpy as np
from tqdm import tqdm

from askbrief.encoders.embed import DIM
from askbrief.errors import BadInput
from askbrief.index.store import Store
from askbrief.settings import Settings


def open_store(settings: Settings, name: str, model: str, dim: int, create: bool = False,
               any_model: bool = False) -> Store:
    """The store the settings name: PostgreSQL when ASKBRIEF_STORE_URL is set, else SQLite in
    the index's folder. `any_model`: open an index whatever model embedded it (to re-embed it)."""
    if settings.store_url:
        from askbrief.index.postgres import PostgresStore

        return PostgresStore(settings, name, model, dim, create, any_model=any_model)
    from askbrief.index.sqlite import SqliteStore

    return SqliteStore(settings.home / name, model, dim, create=create, vector_backend=settings.vector_backend,
                       milvus_uri=settings.milvus_uri, milvus_token=settings.milvus_token,
                       milvus_consistency=settings.milvus_consistency, any_model=any_model)


def open_index(settings: Settings, name: str, wanted: str, known: Iterable[str], dim: int,
               create: bool = False, insist: str | None = None) -> Store:
    """An existing index opens with the model it records when askbrief has that model (each
    index keeps its own embedder); an index of an unknown model is refused with the reindex
    command, and a new one records `wanted`. `insist` (the embedder's name a caller chose):
    an index of another model is an error."""
    if store_exists(settings, name):
        store = open_store(settings, name, wanted, dim, any_model=True)
        recorded = store.manifest["model"]
        if recorded in known and (not insist or recorded == wanted):
            return store
        store.close()
        if recorded in known:
            raise BadInput("embedder", f"index {name!r} holds vectors of {recorded}, not {wanted}; "
                           f"`askbrief reindex --index {name} --embedder {insist}` moves it")
    return open_store(settings, name, wanted, dim, create=create)


def store_exists(settings: Settings, name: str) -> bool:
    """Whether the index has been created (without creating it)."""
    if settings.store_url:
        from askbrief.index.postgres_schema import index_exists

        return index_exists(settings.store_url, name)
    return (settings.home / name / "manifest.json").exists()


def index_languages(settings: Settings, name: str) -> frozenset[str]:
    """The languages an index holds (none where it does not exist), whatever model embedded it."""
    if not store_exists(settings, name):
        return frozenset()
    store = open_store(settings, name, "", DIM, any_model=True)
    try:
        return store.languages()
    finally:
        store.close()


def reembed_index(settings: Settings, name: str, model: str, dim: int, encode: Callable[[list[str]], np.ndarray],
                  progress: bool = False) -> str:
    """Re-embed an index built with another embedding model in place (atomically: readers see the
    old vectors or the new; a stopped run resumes); the model it had."""
    store = open_store(settings, name, model, dim, any_model=True)
    try:
        before = store.manifest["model"]
        if before != model:
            bar = tqdm(desc="re-embed", unit="doc", disable=not progress, total=store.count())
            try:
                store.reembed(encode, model, lambda done, total: bar.update(done - bar.n))
            finally:
                bar.close()
    finally:
        store.close()
    return before
