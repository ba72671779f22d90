"""Which embedder an index uses, and why (issue 40): no flag needed.

An index of English articles keeps the fast English embedder (MiniLM tuned for questions); the
first article in another language moves it to the multilingual one (multilingual-e5-small),
re-embedding what it holds in place (index/reembed.py: readers see the old vectors or the new).
`--embedder` (or ASKBRIEF_EMBEDDER) pins a choice; a pin given to a command that writes the index
is kept in it, so later articles do not move it.
"""

from collections.abc import Iterable

from askbrief.encoders.embed import MODELS
from askbrief.text.language import ENGLISH

AUTO = "auto"  # Settings.embedder's default: follow the articles' languages


def auto_embedder(setting: str, languages: Iterable[str | None]) -> str:
    """The embedder the rule gives: the setting's when it names one, else English until one of the
    articles is in another language."""
    if setting != AUTO:
        return setting
    return "multilingual" if any(lang and lang != ENGLISH for lang in languages) else "english"


def pin_of(setting: str) -> str | None:
    """The embedder a setting pins (ASKBRIEF_EMBEDDER=english or multilingual), or None for "auto"."""
    return None if setting == AUTO else setting


def moves_to_multilingual(model: str | None, pinned: str | None, languages: Iterable[str | None]) -> bool:
    """Whether articles of these languages move an index of `model` to the multilingual embedder."""
    return pinned is None and model == MODELS["english"] and any(lang and lang != ENGLISH for lang in languages)


def embedder_reason(model: str, languages: Iterable[str], pinned: str | None) -> str:
    """Why the index uses `model`, in words for `askbrief show` and /health."""
    others = sorted(lang for lang in languages if lang != ENGLISH)
    if pinned:
        return f"{pinned}, chosen (--embedder or ASKBRIEF_EMBEDDER; kept whatever the articles' languages)"
    if model == MODELS["multilingual"]:
        return (f"articles in {', '.join(others)} besides English" if others else
                "multilingual when it was built (the English embedder is faster for English articles alone:"
                " `askbrief reindex --embedder english`)")
    if others:
        return f"English embedder chosen by ASKBRIEF_EMBEDDER although articles are in {', '.join(others)}"
    return "English articles only (the first article in another language moves it to multilingual)"
