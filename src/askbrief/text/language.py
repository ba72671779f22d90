"""Which language a text is in, and what keyword analysis that language gets.

Detection is py3langid (BSD; Lui & Baldwin's langid.py with its model in the wheel, 97 languages,
about 0.3 ms for a 2,000-character article on these cores): documents are detected at ingest
(unless the input names its `lang`), questions when asked, each constrained to the languages the
index holds, since a five-word question is easily taken for a neighbouring language ("Apple" is
Latin to it). Stemming is Snowball's for the languages PyStemmer has; a language without a
stemmer keeps plain lower-cased words; Chinese, Japanese and Thai, written without spaces, are
indexed as overlapping character pairs. Only English has a stop list (its IDF does the rest).
"""

from functools import cache

DETECT_CHARS = 2000  # the opening of an article says its language; the rest costs time
# ISO 639-1 -> PyStemmer's Snowball algorithm.
SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french",
    "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian", "fa": "persian",
    "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "es": "spanish",
    "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}
UNSPACED = frozenset({"zh", "ja", "th", "lo", "km", "my"})  # scripts without spaces between words
ENGLISH = "en"
# The model's varieties that askbrief analyses as their macro-language (Wu and Cantonese are
# Chinese script to a keyword index; Egyptian and Moroccan Arabic are Arabic).
FOLDED = {"wuu": "zh", "yue": "zh", "cmn": "zh", "arz": "ar", "ary": "ar", "nb": "no", "nn": "no"}


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE)


def detect(text: str, among: frozenset[str] | None = None) -> str:
    """The ISO 639-1 code of `text`'s language; with `among`, the likeliest of those (a question
    is asked of an index that holds these languages). The model is shared and never restricted
    in place, so threads may detect at once."""
    ranked = _identifier().rank(text[:DETECT_CHARS])
    if among:
        ranked = [r for r in ranked if FOLDED.get(r[0], r[0]) in among] or ranked
    return FOLDED.get(ranked[0][0], ranked[0][0])


def question_language(text: str, languages: frozenset[str]) -> str:
    """The language a question is read in: English over an index of English only (or of one that
    predates languages), else the likeliest of the index's languages and English (a question
    asked in English of French articles is still English)."""
    return ENGLISH if languages <= {ENGLISH} else detect(text, languages | {ENGLISH})


def asked_across(lang: str, languages: frozenset[str]) -> bool:
    """An English question over an index that holds articles, none of them English."""
    return lang == ENGLISH and bool(languages) and ENGLISH not in languages


def reading(text: str, languages: frozenset[str]) -> tuple[str, bool]:
    """How a question is read over an index of these languages: its language, and whether it is
    an English question asked across languages."""
    lang = question_language(text, languages)
    return lang, asked_across(lang, languages)


def known(lang: str | None) -> str | None:
    """A language code as given by a user ('FR', 'fr-CA'), as askbrief stores it; None if it is none."""
    if not lang or not isinstance(lang, str):
        return None
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    return code if 2 <= len(code) <= 3 and code.isalpha() else None
