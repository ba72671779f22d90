"""The index: prepared documents in, stored rows and nearest chunks out.

One contract, two databases: `SqliteStore` (index/sqlite.py, one file beside one process, the
default) and `PostgresStore` (index/postgres.py, a server that many askbrief processes share,
chosen by ASKBRIEF_STORE_URL; index/factory.py picks). What both do alike is written once, in
SQL both speak (`?` placeholders, ON CONFLICT upserts, "end" quoted), in the parts below over the
hooks of index/base.py; each database brings its connection handling, its keyword index and
where the index's identity lives. The database is the single source of truth; the vector index
(FAISS or Milvus) holds derived state. Feeds, hosts and jobs are ledgers of their own
(index/ledgers.py) on the same connection.
"""

from askbrief.index.ledgers import FeedLedger, HostLedger, JobLedger
from askbrief.index.reads import Reads
from askbrief.index.reembed import Reembed
from askbrief.index.search import Search
from askbrief.index.writes import Writes


class Store(Writes, Reads, Search, Reembed):
    """Documents and search: what the engine and the retriever may ask of an index; beside them
    the ledgers `feeds`, `hosts` and `jobs`, for the feed poller, the fetcher and the job worker."""

    def __init__(self) -> None:
        super().__init__()
        self.feeds = FeedLedger(self)
        self.hosts = HostLedger(self)
        self.jobs = JobLedger(self)
