"""No flag needed (issue 40): an index of English articles keeps the English embedder, the first
article in another language moves it to the multilingual one (every stored vector re-embedded),
and `--embedder` pins a choice the index keeps; `show` and /health say which and why."""

import json
from types import SimpleNamespace

import numpy as np
from conftest import SEED_QUESTION, SEEDS, assert_faithful
from scripts.wikinews import NEWS
from typer.testing import CliRunner

from askbrief.cli import app
from askbrief.encoders.embed import MODELS, load_embedder
from askbrief.engine import Engine
from askbrief.index.embedder_choice import auto_embedder, embedder_reason, moves_to_multilingual
from askbrief.ingest.documents import make_document
from askbrief.settings import Settings

FRENCH = NEWS.with_name("wikinews-multilingual.jsonl")


def engine_document(row: dict):
    return make_document(row["text"], where=row["id"], id=row["id"], title=row["title"], published=row["published"])


def french_articles(n: int) -> list[dict]:
    rows = [json.loads(line) for line in FRENCH.read_text(encoding="utf-8").splitlines()]
    return [{k: r[k] for k in ("id", "title", "published", "text")} for r in rows if r["lang"] == "fr"][:n]


def index_of(model: str, pinned: str | None = None) -> SimpleNamespace:
    """What the rule reads of an index: its manifest's model and its kept pin."""
    return SimpleNamespace(manifest={"model": model}, pinned_embedder=lambda: pinned)


def test_the_rule_follows_the_languages_unless_pinned():
    assert auto_embedder("auto", ["en", None]) == "english" and auto_embedder("auto", ["en", "fr"]) == "multilingual"
    assert auto_embedder("english", ["fr"]) == "english"
    assert moves_to_multilingual(index_of(MODELS["english"]), "auto", None, ["en", "de"])
    assert not moves_to_multilingual(index_of(MODELS["english"]), "auto", "english", ["de"])
    assert not moves_to_multilingual(index_of(MODELS["english"], pinned="english"), "auto", None, ["de"])
    assert not moves_to_multilingual(index_of(MODELS["english"]), "english", None, ["de"])  # the default: no move
    assert not moves_to_multilingual(index_of(MODELS["multilingual"]), "auto", None, ["de"])
    assert not moves_to_multilingual(index_of(MODELS["english"]), "auto", None, ["en", None])
    assert "de, fr" in embedder_reason(MODELS["multilingual"], ["en", "fr", "de"], None, "auto")
    assert "--embedder english" in embedder_reason(MODELS["english"], ["fr"], "english", "auto")
    assert "the default" in embedder_reason(MODELS["english"], ["en"], None, "english")
    assert "built or reindexed" in embedder_reason(MODELS["multilingual"], ["fr"], None, "english")


def test_an_english_index_turns_multilingual_at_its_first_french_article(tmp_path, monkeypatch):
    engine = Engine("mixed", Settings(home=tmp_path, embedder="auto"))
    engine.ingest_paths([SEEDS])
    assert engine.health()["model"] == MODELS["english"] and "English articles only" in engine.health()["embedder_reason"]
    french = french_articles(2)
    engine.ingest([engine_document(a) for a in french])
    health = engine.health()
    assert health["model"] == MODELS["multilingual"] and health["languages"] == ["en", "fr"]
    assert "fr" in health["embedder_reason"]
    # every sentence's stored vector is the multilingual model's, the seed's included
    e5, store = load_embedder(MODELS["multilingual"]), engine.store()
    for doc_id in [store.page(0, 10).documents[0].id, french[0]["id"]]:
        text = store.document_view(doc_id).text
        rows, vectors = store.sentences(doc_id)
        fresh = e5.encode([text[start:end] for _, start, end in rows])
        assert np.min(np.sum(fresh * vectors.astype(np.float32), axis=1) / np.linalg.norm(vectors, axis=1)) > 0.95
    assert engine.search(french[0]["title"], k=1)[0].doc_id == french[0]["id"]
    answer = engine.ask(SEED_QUESTION)
    assert answer.citations
    assert_faithful(engine, answer)
    monkeypatch.setenv("ASKBRIEF_HOME", str(tmp_path))
    monkeypatch.setenv("ASKBRIEF_EMBEDDER", "auto")
    shown = CliRunner().invoke(app, ["show", "--index", "mixed"])
    assert shown.exit_code == 0 and "multilingual-e5-small" in shown.output and "fr" in shown.output


def test_a_pinned_english_index_stays_english(tmp_path):
    Engine("pinned", Settings(home=tmp_path, embedder="auto"), embedder="english").ingest_paths([SEEDS])
    engine = Engine("pinned", Settings(home=tmp_path, embedder="auto"))
    engine.ingest([engine_document(a) for a in french_articles(1)])
    health = engine.health()
    assert health["model"] == MODELS["english"] and "--embedder english" in health["embedder_reason"]


def test_a_new_index_warmed_before_its_first_article_gets_the_model_it_records(tmp_path):
    """A server warms the English embedder before any index exists; a first batch in French makes
    the index multilingual, and its vectors must be e5's, not the embedder warmed before."""
    engine = Engine("warmed", Settings(home=tmp_path, embedder="auto"))
    engine.warm()
    french = french_articles(1)
    engine.ingest([engine_document(a) for a in french])
    assert engine.store().manifest["model"] == engine.embedder.name == MODELS["multilingual"]
    text = engine.store().document_view(french[0]["id"]).text
    rows, vectors = engine.store().sentences(french[0]["id"])
    fresh = load_embedder(MODELS["multilingual"]).encode([text[a:b] for _, a, b in rows])
    assert np.min(np.sum(fresh * vectors.astype(np.float32), axis=1) / np.linalg.norm(vectors, axis=1)) > 0.95


def test_a_default_index_says_it_follows_the_setting(tmp_path):
    engine = Engine("plain", Settings(home=tmp_path))
    engine.ingest_paths([SEEDS])
    assert "ASKBRIEF_EMBEDDER=english, the default" in engine.health()["embedder_reason"]
