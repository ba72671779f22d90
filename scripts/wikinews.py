"""The 60 Wikinews articles of tests/data (CC BY 2.5, attribution in its README), as the tests,
the test news site and the hostile battery read them."""

import json
from pathlib import Path

NEWS = Path(__file__).resolve().parents[1] / "tests" / "data" / "wikinews-en.jsonl"
TOPICS = ("politics", "disasters", "science", "courts", "business", "health", "sport")


def news_articles(n: int | None = None, topics: tuple[str, ...] = TOPICS) -> list[dict]:
    """The first n Wikinews articles of each topic (all with n=None), in file order: id, title,
    published, source ("Wikinews"), topic, story (a developing story's name, or None), text."""
    rows = [json.loads(line) for line in NEWS.read_text(encoding="utf-8").splitlines()]
    taken: dict[str, list[dict]] = {t: [] for t in topics}
    for row in rows:
        if row["topic"] in taken and (n is None or len(taken[row["topic"]]) < n):
            taken[row["topic"]].append({k: row[k] for k in ("id", "title", "published", "source", "topic", "story", "text")})
    return [r for t in topics for r in taken[t]]
