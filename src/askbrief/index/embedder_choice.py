"""Which embedder an index uses, and why (issue 40).

Under ASKBRIEF_EMBEDDER=auto an index of English articles keeps the fast English embedder (MiniLM
tuned for questions), and the first article in another language moves it to the multilingual one
(multilingual-e5-small), re-embedding what it holds in place (index/reembed.py: readers see the old
vectors or the new). Auto is opt-in for now: the default, "english", keeps an index's embedder as
built. `--embedder` pins a choice; a pin given to a command that writes the index is kept in it,
so later articles do not move it.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from askbrief.encoders.embed import MODELS
from askbrief.text.language import ENGLISH

if TYPE_CHECKING:
    from askbrief.index.store import Store

AUTO = "auto"  # ASKBRIEF_EMBEDDER=auto: follow the articles' languages


def auto_embedder(setting: str, languages: Iterable[str | None]) -> str:
    """The embedder the rule gives: the setting's when it names one, else English until one of the
    articles is in another language."""
    if setting != AUTO:
        return setting
    return "multilingual" if any(lang and lang != ENGLISH for lang in languages) else "english"


def moves_to_multilingual(store: "Store", setting: str, chosen: str | None, languages: Iterable[str | None]) -> bool:
    """Whether articles of these languages move the index to the multilingual embedder: only under
    "auto", only an English index, and only one nobody pinned with --embedder (now or before)."""
    return (setting == AUTO and chosen is None and store.manifest["model"] == MODELS["english"]
            and store.pinned_embedder() is None and any(lang and lang != ENGLISH for lang in languages))


def embedder_reason(model: str, languages: Iterable[str], pinned: str | None, setting: str) -> str:
    """Why the index uses `model`, in words for `askbrief show` and /health."""
    others = sorted(lang for lang in languages if lang != ENGLISH)
    if pinned:
        return f"chosen with --embedder {pinned} (kept whatever the articles' languages)"
    if setting != AUTO:
        if model != MODELS[setting]:
            return f"the embedder the index was built or reindexed with (ASKBRIEF_EMBEDDER={setting} is a new index's)"
        default = setting == "english"
        return f"ASKBRIEF_EMBEDDER={setting}" + (", the default (auto follows the languages)" if default else "")
    if model == MODELS["multilingual"]:
        return (f"articles in {', '.join(others)} besides English" if others else
                "multilingual when it was built (the English embedder is faster for English articles alone:"
                " `askbrief reindex --embedder english`)")
    return "English articles only (the first article in another language moves it to multilingual)"
