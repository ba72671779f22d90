"""Small helpers that put explain mode's findings into words."""


from askbrief.retrieve.question import Question
from askbrief.text.language import ENGLISH
from askbrief.text.sentences import STOP_WORDS, terms, words

MENTIONED = 3  # terms named in one phrase


def words_of_terms(text: str, lang: str | None = ENGLISH) -> dict[str, str]:
    """stem -> the text's own word for it, in its language."""
    out: dict[str, str] = {}
    for word in words(text):
        if lang != ENGLISH or word not in STOP_WORDS:
            for stem in terms(word, lang):
                out.setdefault(stem, word)
    return out


def by_weight(question: Question, idf: dict[str, float], said: dict[str, str]) -> list[str]:
    """The question's terms, rarest first; among equally rare ones, names and numbers ("World",
    "2022") before plain words ("won"): what a person would name as missing."""
    named = {w.lower() for w in question.text.split()[1:] if w[:1].isupper() or any(ch.isdigit() for ch in w)}
    named = {"".join(ch for ch in w if ch.isalnum()) for w in named}
    return sorted(idf, key=lambda t: (-round(idf[t], 6), said.get(t, t) not in named))


def quoted(items: list[str], joiner: str = "and") -> str:
    items = [f"'{i}'" for i in items]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {joiner} {items[-1]}"


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def short(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
