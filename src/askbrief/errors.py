"""The errors askbrief reports to people: the engine raises them, the CLI and the API translate.

Each carries a message that says what to do next; `BadInput` also names the offending field.
"""


class AskbriefError(Exception):
    """Base of every failure askbrief reports to a user."""

    status = 400  # the HTTP status the API answers with


class BadInput(AskbriefError):
    """A request or a document that askbrief cannot accept as given."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class BadSetting(BadInput):
    """An ASKBRIEF_* setting that askbrief refuses to run with; `field` names the setting."""


class IndexNotFound(AskbriefError):
    """The named index does not exist under the index home."""

    status = 404


class EmptyIndex(AskbriefError):
    """The index holds no documents, so there is nothing to answer from."""

    status = 409


class DocumentNotFound(AskbriefError):
    """No document with that id is in the index."""

    status = 404

    @classmethod
    def by_id(cls, doc_id: str, index: str) -> "DocumentNotFound":
        return cls(f"no document {doc_id!r} in {index!r}; `askbrief search` lists what is there")


class FeedNotFound(AskbriefError):
    """No watched feed with that id or URL."""

    status = 404


class PollInProgress(AskbriefError):
    """Another process is polling the index's feeds (one at a time, PostgreSQL's advisory lock)."""

    status = 409


class JobNotFound(AskbriefError):
    """No queued write with that id."""

    status = 404


class CitationReplaced(AskbriefError):
    """A citation of a text that a newer version of its document replaced (a corrected article)."""

    status = 410

    def __init__(self, message: str, replaced_by: str, revision: int):
        super().__init__(message)
        self.replaced_by, self.revision = replaced_by, revision


class IndexIncompatible(AskbriefError):
    """The index was built with another embedding model or format version."""

    status = 409


class BackendUnavailable(AskbriefError):
    """The vector backend (a Milvus server) cannot be reached or refused the request."""

    status = 503
