"""The errors askbrief reports to people: the engine raises them, the CLI and the API translate.

Each carries a message that says what to do next; `BadInput` also names the offending field.
"""


class AskbriefError(Exception):
    """Base of every failure askbrief reports to a user; a subclass names its HTTP status in its
    header (`class IndexNotFound(AskbriefError, status=404)`)."""

    status = 400  # the HTTP status the API answers with

    def __init_subclass__(cls, status: int | None = None, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status


class BadInput(AskbriefError):
    """A request or a document that askbrief cannot accept as given."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class BadSetting(BadInput):
    """An ASKBRIEF_* setting that askbrief refuses to run with; `field` names the setting."""


class IndexNotFound(AskbriefError, status=404):
    """The named index does not exist under the index home."""


class EmptyIndex(AskbriefError, status=409):
    """The index holds no documents, so there is nothing to answer from."""


class DocumentNotFound(AskbriefError, status=404):
    """No document with that id is in the index."""

    @classmethod
    def by_id(cls, doc_id: str, index: str) -> "DocumentNotFound":
        return cls(f"no document {doc_id!r} in {index!r}; `askbrief search` lists what is there")


class FeedNotFound(AskbriefError, status=404):
    """No watched feed with that id or URL."""


class PollInProgress(AskbriefError, status=409):
    """Another process is polling the index's feeds (one at a time, PostgreSQL's advisory lock)."""


class JobNotFound(AskbriefError, status=404):
    """No queued write with that id."""


class CitationReplaced(AskbriefError, status=410):
    """A citation of a text that a newer version of its document replaced (a corrected article)."""

    def __init__(self, message: str, replaced_by: str, revision: int):
        super().__init__(message)
        self.replaced_by, self.revision = replaced_by, revision


class IndexIncompatible(AskbriefError, status=409):
    """The index was built with another embedding model or format version."""


class BackendUnavailable(AskbriefError, status=503):
    """The vector backend (a Milvus server) cannot be reached or refused the request."""
