"""An index's identity (format, embedding model, width) against this askbrief's: the one check
both stores make on opening."""

from askbrief.errors import IndexIncompatible
from askbrief.index.schema import FORMAT_VERSION


def reindex_message(index: str, recorded: str | None, model: str) -> str:
    return (f"index {index!r} holds vectors of {recorded}, and this askbrief embeds questions with {model}: re-embed it"
            f" in place with `askbrief reindex --index {index}` (its articles, citations and feeds stay)")


def check_identity(manifest: dict, model: str, dim: int, index: str, described: str) -> None:
    """Refuse an index this askbrief cannot read: one of another embedder (with the command that
    re-embeds it), or of another format or width (to be rebuilt). `described` names it in the
    message: its folder, or its place in PostgreSQL."""
    recorded = (manifest.get("format"), manifest.get("model"), manifest.get("dim"))
    if recorded[1] != model and (recorded[0], recorded[2]) == (FORMAT_VERSION, dim):
        raise IndexIncompatible(reindex_message(index, recorded[1], model))
    if recorded != (FORMAT_VERSION, model, dim):
        raise IndexIncompatible(f"{described} was built with model {recorded[1]} (format {recorded[0]}), not {model}"
                                f" (format {FORMAT_VERSION}); rebuild it into a new index")
