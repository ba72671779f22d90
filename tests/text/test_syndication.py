"""Syndicated copies: real news articles and edited copies of them (a new headline, boilerplate,
small edits) are clustered; different articles are not; exact copies stay rejected."""

import random

import pytest
from conftest import assert_faithful, news_articles

from askbrief.engine import Engine
from askbrief.ingest.documents import make_document
from askbrief.settings import Settings
from askbrief.text.copies import signature


def edited_copy(text: str, title: str, rng: random.Random) -> str:
    """What a second outlet does to wire copy: a new headline, a dropped or reworded sentence,
    a standfirst and a footer."""
    paragraphs = text.split("\n\n")
    body = paragraphs[1:]
    if len(body) > 3:
        body.pop(rng.randrange(1, len(body)))
    body[0] = body[0].replace(" said ", " told reporters ", 1)
    return "\n\n".join([f"{title.upper()} - WIRE REPORT", "By our business staff.", *body,
                        "Copyright 2005 Newswire. All rights reserved."])


@pytest.mark.slow
def test_clusters_edited_copies_and_nothing_else(tmp_path):
    rng = random.Random(3)
    rows = news_articles()  # 59 real articles, seven topics
    originals = [make_document(r["text"], where=r["id"], id=r["id"], title=r["title"], published="2005-01-10")
                 for r in rows]
    copies = [make_document(edited_copy(r["text"], r["title"], rng), where="copy", id=f"copy-of-{r['id']}",
                            published="2005-01-11") for r in rows[::2]]
    engine = Engine("synd", Settings(home=tmp_path))
    engine.ingest(originals + copies)
    truth = {(c.id, c.id.removeprefix("copy-of-")) for c in copies}
    found = {(doc.id, other) for doc in originals + copies for other in engine.document(doc.id).also_reported_by}
    found_pairs = {tuple(sorted(p)) for p in found}
    true_pairs = {tuple(sorted(p)) for p in truth}
    precision = len(found_pairs & true_pairs) / max(len(found_pairs), 1)
    recall = len(found_pairs & true_pairs) / len(true_pairs)
    print(f"syndicated-copy clustering on {len(originals)} Wikinews articles + {len(copies)} edited copies: "
          f"precision {precision:.2f}, recall {recall:.2f}")
    assert precision == 1.0 and recall >= 0.9

    again = engine.ingest([make_document(rows[0]["text"], where="dup", id="exact-dup")])
    assert again[0].duplicate_of == rows[0]["id"]  # exact copies are still rejected

    answers = engine.ask_many([r["title"] for r in rows[:12:2]], explain=True)  # articles that have a copy
    answered = [(r, a) for r, a in zip(rows[:12:2], answers)
                if not a.abstained and a.citations[0].doc_id in (r["id"], f"copy-of-{r['id']}")]
    assert answered
    folds = 0
    for row, answer in answered:
        pair = {row["id"], f"copy-of-{row['id']}"}
        assert "also reported by 1 other source" in answer.answer
        # the explanation says which copy was folded into which, when both were retrieved
        read = {c.doc_id for c in answer.explanation.retrieval.chunks if c.read}
        cited = answer.citations[0].doc_id
        if read >= pair:
            folded = answer.explanation.retrieval.folded
            assert folded[(pair - {cited}).pop()] == cited, folded
            folds += 1
        assert len({c.doc_id for c in answer.citations} & pair) == 1
        assert_faithful(engine, answer)
        summary = engine.summarize(sorted(pair))
        assert {c.doc_id for c in summary.citations} == {row["id"]}  # the earlier copy speaks for both
        hits = engine.search(row["title"], k=5)
        assert len({h.doc_id for h in hits} & pair) == 1
    assert folds  # the copies were read side by side at least once


def test_signatures_of_different_stories_differ():
    a, b = news_articles(2, ("sport",))
    from datasketch import MinHash

    sa, sb = (MinHash(num_perm=128, hashvalues=signature(r["text"]), scheme="affine32") for r in (a, b))
    assert sa.jaccard(sb) < 0.1 and sa.jaccard(sa) == 1.0


GERMAN_STORY = (
    "Die Bundesregierung hat am Montag ein neues Programm für den Ausbau der Windenergie beschlossen.\n\n"
    "Bis zum Jahr 2030 sollen an Land und auf See Anlagen mit zusammen mehr als hundert Gigawatt Leistung stehen. "
    "Die Genehmigungsverfahren werden dafür deutlich verkürzt, teilte das Wirtschaftsministerium in Berlin mit.\n\n"
    "Die Branche begrüßte die Pläne, warnte aber vor fehlenden Fachkräften und langen Lieferzeiten für Turbinen. "
    "Umweltverbände forderten zugleich einen besseren Schutz von Vögeln und Fledermäusen in der Nähe der Anlagen.\n\n"
    "Im vergangenen Jahr stammte bereits gut ein Viertel des deutschen Stroms aus Windkraft, mehr als aus Kohle.")
GERMAN_OTHER = (
    "Der Fußballverein aus Bremen hat seinen Trainer nach sieben Niederlagen in Folge entlassen.\n\n"
    "Der Vorstand sprach von einer schweren, aber notwendigen Entscheidung für die Zukunft des Vereins. "
    "Bis auf Weiteres übernimmt der bisherige Co-Trainer die Mannschaft, die auf dem vorletzten Tabellenplatz steht.\n\n"
    "Die Fans hatten schon seit Wochen einen Neuanfang gefordert und beim letzten Heimspiel lautstark protestiert.")


def test_french_and_german_copies_cluster_and_other_stories_do_not(tmp_path):
    import json
    from pathlib import Path

    rng = random.Random(5)
    rows = [json.loads(line) for line in (Path(__file__).parents[1] / "data" / "wikinews-multilingual.jsonl")
            .read_text(encoding="utf-8").splitlines()]
    originals = [make_document(r["text"], where=r["id"], id=r["id"], title=r["title"], published=r["published"])
                 for r in rows]
    copies = [make_document(edited_copy(r["text"], r["title"], rng).replace("Copyright 2005 Newswire",
                                                                          "© Agence de presse"),
                            where="copy", id=f"copy-of-{r['id']}")
              for r in rows if r["text"].count("\n\n") >= 3]  # a copy keeps most of the article
    german = [make_document(GERMAN_STORY, where="de", id="de-wind"), make_document(GERMAN_OTHER, where="de", id="de-sport"),
              make_document("WINDKRAFT: NEUES PROGRAMM\n\n" + GERMAN_STORY.replace("am Montag ", "")
                            + "\n\n(dpa) Alle Rechte vorbehalten.", where="de", id="copy-of-de-wind")]
    engine = Engine("synd", Settings(home=tmp_path))
    engine.ingest(originals + copies + german)
    for doc in originals + copies + german:
        reported = set(engine.document(doc.id).also_reported_by)
        partner = doc.id.removeprefix("copy-of-") if doc.id.startswith("copy-of-") else f"copy-of-{doc.id}"
        has_copy = any(d.id == partner for d in originals + copies + german)
        assert reported == ({partner} if has_copy else set()), doc.id
    assert engine.document("de-wind").lang == "de" and engine.document(rows[0]["id"]).lang == "fr"
