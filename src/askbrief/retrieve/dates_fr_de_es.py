"""Dates in French, German and Spanish questions, read as dates.py reads English ones: against the
newest article in the index ("la semaine dernière", "letzte Woche", "la semana pasada"), months
("en mars 2024", "im März", "en marzo de 2024", "le 3 mars 2024", "am 3. März 2024"), years
("en 2023", "seit 2020", "hasta 2019") and "il y a deux semaines" / "vor zwei Wochen" / "hace
dos semanas". Another language gets no time scope: never English rules.
"""

import datetime as dt
import re

from askbrief.retrieve.dates import TimeScope, _month_range, _relative, _shift, _written

MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
}
RECENT = {
    "fr": r"dernière?s?|plus récente?s?|récemment|actuellement",
    "de": r"neueste[nrs]?|aktuell(?:e[nrs]?)?|zuletzt|jüngste[nrs]?",
    "es": r"últim[oa]s?|más recientes?|recientemente|actualmente",
}
# Relative words -> the English phrase dates.py resolves.
RELATIVE = {
    "fr": {"aujourd'hui": "today", "aujourd’hui": "today", "hier": "yesterday", "cette semaine": "this week",
           "ce mois-ci": "this month", "ce mois": "this month", "cette année": "this year",
           "la semaine dernière": "last week", "le mois dernier": "last month", "l'année dernière": "last year",
           "l’année dernière": "last year"},
    "de": {"heute": "today", "gestern": "yesterday", "diese woche": "this week", "diesen monat": "this month",
           "dieses jahr": "this year", "letzte woche": "last week", "vergangene woche": "last week",
           "letzten monat": "last month", "vergangenen monat": "last month", "letztes jahr": "last year",
           "vergangenes jahr": "last year"},
    "es": {"hoy": "today", "ayer": "yesterday", "esta semana": "this week", "este mes": "this month",
           "este año": "this year", "la semana pasada": "last week", "el mes pasado": "last month",
           "el año pasado": "last year"},
}
AGO = {"fr": r"il y a (\w+) (jours?|semaines?|mois|ans?|années?)",
       "de": r"vor (\w+) (Tag(?:en)?|Wochen?|Monat(?:en)?|Jahr(?:en)?)",
       "es": r"hace (\w+) (días?|semanas?|mes(?:es)?|años?)"}
NUMBERS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "einem": 1, "einer": 1, "zwei": 2, "drei": 3,
           "vier": 4, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4}
SINCE = {"fr": {"depuis": "since", "après": "after", "avant": "before", "jusqu'en": "until", "jusqu’en": "until"},
         "de": {"seit": "since", "nach": "after", "vor": "before", "bis": "until"},
         "es": {"desde": "since", "después de": "after", "antes de": "before", "hasta": "until"}}
IN = {"fr": r"en", "de": r"im", "es": r"en"}


def _compiled(lang: str) -> dict:
    months = MONTHS[lang].split()
    month = "(" + "|".join(months) + ")"
    day_month = {"fr": rf"\b(?:le )?(\d{{1,2}})(?:er)? {month} (\d{{4}})",
                 "de": rf"\b(?:am )?(\d{{1,2}})\. {month} (\d{{4}})",
                 "es": rf"\b(?:el )?(\d{{1,2}}) de {month} de (\d{{4}})"}[lang]
    return {
        "months": {m.lower(): i for i, m in enumerate(months, 1)},
        "recent": re.compile(rf"\b(?:{RECENT[lang]})\b", re.I),
        "relative": re.compile("|".join(re.escape(p) for p in sorted(RELATIVE[lang], key=len, reverse=True)), re.I),
        "ago": re.compile(rf"\b{AGO[lang]}\b", re.I),
        "day": re.compile(day_month, re.I),
        "month": re.compile(rf"\b{IN[lang]} {month}(?: (?:de )?(\d{{4}}))?\b", re.I),
        "since": re.compile(rf"\b({'|'.join(map(re.escape, SINCE[lang]))}) (\d{{4}})\b", re.I),
        "year": re.compile(r"\b(?:en|im(?: Jahr)?|in) (\d{4})\b", re.I),
    }


_PATTERNS = {lang: _compiled(lang) for lang in MONTHS}


def scope_in(lang: str, question: str, newest: dt.date | None) -> TimeScope:
    """The dates a French, German or Spanish question's own words ask for; none in another."""
    if lang not in _PATTERNS:
        return TimeScope()
    p = _PATTERNS[lang]
    recent_words = tuple(m.group(0) for m in p["recent"].finditer(question))
    if newest is None:
        return TimeScope(prefer_recent=bool(recent_words), recent_words=recent_words)
    span, m = (None, None), None
    if m := p["relative"].search(question):
        span = _relative(RELATIVE[lang][m.group(0).lower()], newest)
    elif m := p["ago"].search(question):
        span = _ago(m, newest)
    elif m := p["day"].search(question):
        day = _written(m.group(0), int(m.group(3)), p["months"][m.group(2).lower()], int(m.group(1)))
        span = (day, day)
    elif m := p["since"].search(question):
        word, year = SINCE[lang][m.group(1).lower()], int(m.group(2))
        first, last = _written(m.group(0), year), dt.date(year, 12, 31)
        span = {"since": (first, None), "after": (last, None), "before": (None, first), "until": (None, last)}[word]
    elif m := p["month"].search(question):
        month = p["months"][m.group(1).lower()]
        year = int(m.group(2)) if m.group(2) else (newest.year if month <= newest.month else newest.year - 1)
        span = _month_range(year, month)
    elif m := p["year"].search(question):
        year = int(m.group(1))
        span = (_written(m.group(0), year), dt.date(year, 12, 31))
    since, until = span
    if m:  # "dernière" in "la semaine dernière" is that week, not a wish for the latest
        recent_words = tuple(r.group(0) for r in p["recent"].finditer(question.replace(m.group(0), " ")))
    return TimeScope(since.isoformat() if since else None, until.isoformat() if until else None,
                     bool(recent_words), recent_words, (m.group(0),) if m else ())


def _ago(m: re.Match, newest: dt.date) -> tuple[dt.date, dt.date]:
    """'il y a deux semaines': the day, week, month or year that many before the newest date."""
    count = int(m.group(1)) if m.group(1).isdigit() else NUMBERS.get(m.group(1).lower(), 1)
    unit = m.group(2).lower()
    if unit.startswith(("jour", "tag", "día", "dia")):
        day = _shift(newest, -count)
        return day, day
    if unit.startswith(("semaine", "woche", "semana")):
        monday = _shift(newest, -newest.weekday() - 7 * count)
        return monday, _shift(monday, 6)
    if unit.startswith(("mois", "monat", "mes")):
        month = newest.month - count
        year = newest.year + (month - 1) // 12
        return _month_range(year, (month - 1) % 12 + 1)
    year = newest.year - count
    return dt.date(year, 1, 1), dt.date(year, 12, 31)
