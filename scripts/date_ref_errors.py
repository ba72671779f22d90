"""Where a date finder goes wrong on the date-reference set (scripts/eval_date_refs.py): each
error by kind and by the phrase's shape (digits and month names folded), the most common ones,
and which kinds of phrase a method fires on at all."""

import datetime as dt
import re
from collections import Counter

TOP_ERRORS = 15
_MONTH_WORDS = (r"january|february|march|april|may|june|july|august|september|october|november|december"
                r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec")
_WEEKDAY_WORDS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"


# A phrase that may name a day, to show what a miss was near (not a method: it resolves nothing).
_PHRASE = re.compile(
    rf"\b(?:(?:last|next|this|on|late|early|by|until|since)\s+)?(?:(?:{_WEEKDAY_WORDS})\b(?:,?\s+\d{{1,2}}"
    rf"(?:st|nd|rd|th)?\s+(?:{_MONTH_WORDS})\b\.?(?:,?\s+\d{{4}})?|,?\s+(?:{_MONTH_WORDS})\b\.?\s+\d{{1,2}}"
    rf"(?:,?\s+\d{{4}})?)?(?:\s+(?:morning|afternoon|evening|night))?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTH_WORDS})\b\.?(?:,?\s*\d{{4}})?"
    rf"|(?:{_MONTH_WORDS})\b\.?\s*\d{{1,2}}(?:st|nd|rd|th)?\b(?:[,.]?\s*\d{{4}})?"
    r"|today|tonight|tomorrow|yesterday|last night|this (?:morning|afternoon|evening)|\d{4}-\d\d-\d\d)",
    re.I)


Found = list[tuple[int, int, str]]  # (start, end, ISO day) of each day a sentence names
DAY_PERIODS = ("day", "time", "part_of_day")


def _days_between(a: str, b: str) -> int:
    return (dt.date.fromisoformat(a) - dt.date.fromisoformat(b)).days


def shape(text: str) -> str:
    """An error's pattern: the matched words with months, weekdays and digits generalised."""
    text = re.sub(rf"\b(?:{_WEEKDAY_WORDS})\b", "<weekday>", text.lower().strip())
    text = re.sub(rf"\b(?:{_MONTH_WORDS})\b", "<month>", text)
    return re.sub(r"\d+", lambda m: "9" * min(len(m[0]), 4), re.sub(r"\s+", " ", text))


def errors_of(g: dict, found: Found) -> list[dict]:
    """The sentence's errors: a found day not in the gold ("false positive"), a gold day not found
    ("miss"), or, where a sentence has both, the two paired ("wrong day")."""
    gold = set(g["days"])
    texts: dict[str, list[str]] = {}
    for s, e, day in found:
        texts.setdefault(day, []).append(g["sentence"][s:e])
    extra = sorted(set(texts) - gold)
    missed = sorted(gold - set(texts))
    taken = [(s, e) for s, e, _ in found]
    near = [m for m in _PHRASE.finditer(g["sentence"]) if not any(a < m.end() and m.start() < b for a, b in taken)]
    where = {"doc_id": g["doc_id"], "line": g["line"], "topic": g["topic"]}
    out = []
    for day in extra:
        text = " | ".join(dict.fromkeys(texts[day]))[:60]
        if missed:  # the missed day this match was meant to name: same month and day, else the nearest
            wanted = min(missed, key=lambda d: (d[5:] != day[5:], abs(_days_between(d, day))))
            missed.remove(wanted)
            out.append(where | {"kind": "wrong day", "text": text, "day": day, "gold": wanted})
        else:
            out.append(where | {"kind": "false positive", "text": text, "day": day})
    for day in missed:
        text = " | ".join(m[0] for m in near)[:60]
        out.append(where | {"kind": "miss", "text": text or None, "gold": day})
    return out


def common_errors(errors: list[dict], top: int = TOP_ERRORS) -> list[dict]:
    """The most common error patterns (kind and shape of the text), with their examples."""
    groups: dict[tuple, list[dict]] = {}
    for e in errors:
        groups.setdefault((e["kind"], shape(e["text"]) if e["text"] else "(no date phrase)"), []).append(e)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:top]
    return [{"kind": kind, "pattern": pattern, "count": len(items), "examples": items}
            for (kind, pattern), items in ranked]


_NAMED_DAY = re.compile(rf"\d|\b(?:{_MONTH_WORDS}|{_WEEKDAY_WORDS}|today|tonight|tomorrow|yesterday"
                        r"|night|morning|afternoon|evening)\b", re.I)


def match_profile(outputs: list[Found], rows: list[tuple[str, str]], find) -> dict:
    """What a method finds in unlabelled sentences: matches per 1,000 sentences, and those whose
    text has no digit, month, weekday or today/tonight/tomorrow/yesterday/night/morning ("now", "we",
    "one of two", ...), with their most common texts; for dateparser, also what it found that
    was not a day (by period: "may" a month, "in 2005" a year), which the method drops."""
    matches = [s[a:b] for (s, _), found in zip(rows, outputs) for a, b, _ in found]
    wordy = Counter(m.lower().strip() for m in matches if not _NAMED_DAY.search(m))
    profile = {"sentences": len(rows), "matches_per_1000": round(1000 * len(matches) / len(rows), 1),
               "no_day_word_per_1000": round(1000 * sum(wordy.values()) / len(rows), 1),
               "no_day_word_top": wordy.most_common(10)}
    if hasattr(find, "raw"):
        periods, dropped = Counter(), Counter()
        for sentence, published in rows:
            for matched, _, period in find.raw(sentence, published):
                periods[period] += 1
                if period not in DAY_PERIODS:
                    dropped[f"{matched.lower().strip()} ({period})"] += 1
        profile |= {"raw_by_period": dict(periods.most_common()), "dropped_top": dropped.most_common(10)}
    return profile

