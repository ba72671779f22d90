"""Loading: files, folders and JSON records in, `Document`s out.

The stored `text` is what every citation offset points into, so loaders only strip metadata
(the `date` header of .txt files, HTML markup) and never rewrite the article itself.
"""

import datetime as dt
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from askbrief.errors import BadInput
from askbrief.records import Document
from askbrief.text.language import detect, known

log = logging.getLogger("askbrief")
SUPPORTED = (".txt", ".md", ".html", ".htm", ".json", ".jsonl")
# `date 2023-12-27` or `date: 27 December 2023` opening a .txt file, as in seeds/; the seed
# article runs on after the date on the same line, so only the header itself is cut.
_DATE_HEADER = re.compile(r"\A\s*date:?[ \t]+(\d{4}-\d{2}-\d{2}|[^\n]*?\d{4})(?=\s)[ \t]*\n?", re.I)
# Ids are plain ASCII that every endpoint can carry in a URL path: no '/', no spaces, no control,
# bidi or zero-width characters, no look-alike letters from other scripts (tests/serve/test_hostile.py).
ID_CHARS = "letters A-Z a-z, digits, and . _ - : @ + ~ (not first)"
MAX_ID = 200
_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:@+~-]{{0,{MAX_ID - 1}}}")
_NOT_ID = re.compile(r"[^A-Za-z0-9._:@+~-]+")
MAX_TITLE = 120  # longer first lines are body text, not a headline
HEADLINE_CUT = 80  # characters of a long first line kept as the title (cut at a word)
# The largest document accepted: 200,000 characters (~30,000 words, ten times a long news
# feature) ingest in about 3 s on 2 cores (scripts/hostile.py); longer is a book, not an article.
MAX_DOCUMENT_CHARS = 200_000
MAX_DOCUMENT_SENTENCES = 3_000  # a text of thousands of one-word "sentences" is not an article
MAX_TITLE_CHARS = 1_000
MAX_SOURCE_CHARS = 2_000
_MD_HEADING = re.compile(r"^#{1,2}[ \t]+([^\n]+)$", re.M)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_date(value: object, where: str, field: str = "published") -> str | None:
    """An ISO date (YYYY-MM-DD) from a date, a datetime or a string; None stays None. A bad one
    is a `BadInput` on `field`."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            pass
        for fmt in ("%d %B %Y", "%B %d, %Y", "%d %b %Y", "%b %d, %Y"):
            try:
                return dt.datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
    raise BadInput(field, f"{where}: cannot read the date {value!r}; write it as YYYY-MM-DD")


def date_range(since: object, until: object) -> tuple[str | None, str | None]:
    """A request's since..until, both inclusive ISO dates or None; since after until is refused."""
    since, until = parse_date(since, "since", "since"), parse_date(until, "until", "until")
    if since and until and since > until:
        raise BadInput("since", f"since {since} is after until {until}; swap them")
    return since, until


def lenient_date(value: object, where: str) -> str | None:
    """A document's date, or None with a warning naming the file: a bad date in one article's
    metadata should not stop a whole ingest."""
    try:
        return parse_date(value, where)
    except BadInput as e:
        log.warning("%s; ingested with no date", e)
        return None


def make_document(
    text: object,
    *,
    where: str,
    id: object = None,
    title: object = None,
    published: object = None,
    source: object = None,
    lang: object = None,
) -> Document:
    """Validate one record and give it its hash, and an id and title where none was given."""
    if not isinstance(text, str) or not text.strip():
        raise BadInput("text", f"{where}: a document needs a non-empty 'text' string")
    if len(text) > MAX_DOCUMENT_CHARS:
        raise BadInput("text", f"{where}: the text is {len(text)} characters; the limit is {MAX_DOCUMENT_CHARS}"
                       " (split it into articles)")
    # NUL is no character of an article, and PostgreSQL cannot store it: the replacement character
    # stands in, one for one, so the stored text is still what every offset counts in.
    text = text.replace("\r\n", "\n").replace("\x00", "\ufffd")
    digest = content_hash(text)
    doc_id = str(id).strip() if id is not None and str(id).strip() else f"doc-{digest[:12]}"
    if not _ID.fullmatch(doc_id):
        raise BadInput("id", f"{where}: id {doc_id[:MAX_ID]!r} is not allowed; an id has 1-{MAX_ID} of {ID_CHARS}")
    title = str(title).replace("\x00", "\ufffd").strip() if title else headline(text)
    source = str(source or "").replace("\x00", "\ufffd")
    for field, value, limit in (("title", title, MAX_TITLE_CHARS), ("source", source, MAX_SOURCE_CHARS)):
        if len(value) > limit:
            raise BadInput(field, f"{where}: the {field} is {len(value)} characters; the limit is {limit}")
    return Document(
        id=doc_id,
        title=title,
        published=lenient_date(published, where),
        source=source,
        text=text,
        hash=digest,
        lang=known(lang) or detect(text),
    )


def headline(text: str) -> str:
    """The first line if it reads as a headline, else the opening words, cut at a word."""
    first = text.strip().split("\n", 1)[0].strip()
    if len(first) <= MAX_TITLE and not first.endswith((".", '"', "”")):
        return first
    cut = first[:HEADLINE_CUT].rsplit(" ", 1)[0]
    return cut + "…"


def load_paths(paths: Iterable[Path]) -> Iterator[Document]:
    """Every document in the files and folders given; folders recurse, in name order.

    Inside a folder, hidden and unsupported files are skipped; a file named on its own must
    be of a supported type.
    """
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if file.suffix.lower() in SUPPORTED and not file.name.startswith("."):
                    yield from load_file(file)
        elif path.is_file():
            yield from load_file(path)
        else:
            raise BadInput("path", f"{path}: no such file or folder")


def load_file(path: Path) -> list[Document]:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise BadInput("file", f"{path}: unsupported type {suffix or '(none)'}; use one of {', '.join(SUPPORTED)}")
    return load_bytes(path.read_bytes(), name=path.name, source=str(path))


def load_bytes(data: bytes, *, name: str, source: str) -> list[Document]:
    """Documents from a file's bytes; its suffix picks the format (used for uploads too)."""
    suffix = Path(name).suffix.lower()
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadInput("file", f"{name}: not UTF-8 text (byte {e.start}); convert it to UTF-8 first") from e
    if suffix in (".txt", ".md"):
        return [_from_text(raw, name, source, markdown=suffix == ".md")]
    if suffix in (".html", ".htm"):
        return [_from_html(raw, name, source)]
    if suffix == ".json":
        return _from_json(raw, name, source)
    if suffix == ".jsonl":
        return _from_jsonl(raw, name, source)
    raise BadInput("file", f"{name}: unsupported type {suffix or '(none)'}; use one of {', '.join(SUPPORTED)}")


def file_id(stem: str) -> str:
    """A file name's stem as an id: accents dropped, other characters outside the id set turned
    into '-' ("Économie 2024.txt" -> "Economie-2024")."""
    plain = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    return _NOT_ID.sub("-", plain).strip("-._:@+~")[:MAX_ID] or "file"


def _from_text(raw: str, name: str, source: str, markdown: bool) -> Document:
    published = None
    header = _DATE_HEADER.match(raw)
    if header:
        published = header.group(1)
        raw = raw[header.end() :]
    title = None
    if markdown:
        heading = _MD_HEADING.search(raw)
        title = heading.group(1).strip() if heading else None
    return make_document(raw, where=name, id=file_id(Path(name).stem), title=title, published=published, source=source)


def _from_html(raw: str, name: str, source: str) -> Document:
    fields = html_fields(raw)
    return make_document(fields.get("text"), where=name, id=file_id(Path(name).stem), title=fields.get("title"),
                         published=fields.get("date"), source=fields.get("sitename") or source)


def html_fields(raw: str | bytes, url: str | None = None) -> dict:
    """An HTML page's main text (one paragraph a line, blank lines between), title, date, site
    name and canonical URL, by trafilatura; {} when it finds no article."""
    import trafilatura  # imported here: it is slow to import and only HTML needs it

    extracted = trafilatura.bare_extraction(raw, url=url, with_metadata=True)
    fields = extracted.as_dict() if extracted is not None else {}
    fields["text"] = (fields.get("text") or "").replace("\n", "\n\n")
    return fields


def url_id(url: str) -> str:
    """A readable id for a web page, host and path with a short hash of the whole URL
    ("www.bbc.co.uk/news/world-1" -> "www.bbc.co.uk-news-world-1~3f9a2c1d"): one URL, one id."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    readable = _NOT_ID.sub("-", url.split("://", 1)[-1]).strip("-._:@+~")[: MAX_ID - 10] or "page"
    return f"{readable}~{digest}"


def _from_record(record: object, where: str, source: str) -> Document:
    if not isinstance(record, dict):
        raise BadInput("text", f"{where}: expected a JSON object with 'text'")
    return make_document(
        record.get("text"),
        where=where,
        id=record.get("id"),
        title=record.get("title"),
        published=record.get("published"),
        source=record.get("source") or source,
        lang=record.get("lang") or record.get("language"),
    )


def _from_json(raw: str, name: str, source: str) -> list[Document]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise BadInput("file", f"{name}: not valid JSON ({e.msg} at line {e.lineno})") from e
    except RecursionError as e:
        raise BadInput("file", f"{name}: JSON nested too deeply to be a document") from e
    records = value if isinstance(value, list) else [value]
    return [_from_record(r, f"{name}[{i}]", source) for i, r in enumerate(records)]


def json_lines(raw: str, name: str, field: str) -> Iterator[tuple[int, object]]:
    """(line number, value) of each non-blank line of a JSON-lines text; a bad line is a
    `BadInput` on `field` that names the file and the line."""
    for lineno, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            raise BadInput(field, f"{name}:{lineno}: not valid JSON ({e.msg})") from e
        except RecursionError as e:
            raise BadInput(field, f"{name}:{lineno}: JSON nested too deeply") from e
        yield lineno, value


def _from_jsonl(raw: str, name: str, source: str) -> list[Document]:
    return [_from_record(record, f"{name}:{lineno}", source) for lineno, record in json_lines(raw, name, "file")]
