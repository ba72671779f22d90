import pytest
from conftest import SEED_ID, SEEDS

from askbrief.errors import BadInput
from askbrief.ingest.documents import load_bytes, load_paths


def test_seed_header_sets_published_and_is_cut_from_the_text():
    (doc,) = load_paths([SEEDS])
    assert doc.id == SEED_ID
    assert doc.published == "2023-12-27"
    assert doc.text.startswith("External Affairs Minister Dr S Jaishankar")
    assert "date 2023" not in doc.text


def test_txt_with_date_line_and_headline():
    raw = b"date: 27 December 2023\nPutin meets Jaishankar\n\nThe two met in Moscow. They spoke of trade.\n"
    (doc,) = load_bytes(raw, name="story.txt", source="wire")
    assert (doc.id, doc.title, doc.published, doc.source) == ("story", "Putin meets Jaishankar", "2023-12-27", "wire")
    assert doc.text.startswith("Putin meets Jaishankar\n")


def test_markdown_heading_is_the_title():
    (doc,) = load_bytes(b"# Oil prices rise\n\nBrent crude rose $1.89 to $48.62.\n", name="oil.md", source="x")
    assert doc.title == "Oil prices rise"
    assert "$48.62" in doc.text


def test_html_main_text_and_metadata_are_extracted():
    html = """<html><head><title>Putin meets Jaishankar | The Daily</title>
    <meta property="article:published_time" content="2023-12-27T10:00:00Z">
    <meta property="og:site_name" content="The Daily"></head><body>
    <nav>Home | World | Sport | Subscribe now</nav><article><h1>Putin meets Jaishankar</h1>
    <p>External Affairs Minister Dr S Jaishankar on Wednesday met Russian President Vladimir Putin in Moscow.</p>
    <p>Putin said that trade turnover between Russia and India is growing at a steady pace this year.</p>
    </article><footer>Copyright The Daily, all rights reserved</footer></body></html>"""
    (doc,) = load_bytes(html.encode(), name="page.html", source="page.html")
    assert doc.title == "Putin meets Jaishankar"
    assert doc.published == "2023-12-27"
    assert doc.source == "The Daily"
    assert "trade turnover" in doc.text
    assert "Subscribe" not in doc.text and "<p>" not in doc.text


def test_json_and_jsonl_records_keep_their_fields():
    (a, b) = load_bytes(b'[{"id": "a1", "text": "One story here.", "published": "2024-03-01"},'
                        b' {"text": "Another story.", "title": "T", "source": "AP"}]', name="x.json", source="x.json")
    assert (a.id, a.published, a.source) == ("a1", "2024-03-01", "x.json")
    assert b.id.startswith("doc-") and (b.title, b.source) == ("T", "AP")
    docs = load_bytes(b'{"id": "n1", "text": "First."}\n\n{"id": "n2", "text": "Second."}\n', name="x.jsonl", source="s")
    assert [d.id for d in docs] == ["n1", "n2"]


@pytest.mark.parametrize("raw, name, field, words", [
    (b'{"id": "ok", "text": "Fine."}\n{"id": "bad"}\n', "x.jsonl", "text", "x.jsonl:2"),
    (b'{"text": "   "}', "x.json", "text", "non-empty"),
    (b"caf\xe9 au lait", "latin1.txt", "file", "not UTF-8"),
    (b"%PDF-1.4", "paper.pdf", "file", "unsupported type .pdf"),
    (b"{not json", "x.json", "file", "not valid JSON"),
])
def test_bad_input_names_the_problem(raw, name, field, words):
    with pytest.raises(BadInput) as e:
        load_bytes(raw, name=name, source=name)
    assert e.value.field == field
    assert words in str(e.value)


def test_folders_recurse_and_skip_what_is_not_an_article(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("Second story in a subfolder.")
    (tmp_path / "a.md").write_text("# A\n\nFirst story.")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden.txt").write_text("not me")
    assert [d.id for d in load_paths([tmp_path])] == ["a", "b"]
    with pytest.raises(BadInput, match="no such file"):
        list(load_paths([tmp_path / "missing"]))


def test_a_bad_date_is_ingested_as_undated_with_a_warning_naming_the_file(caplog):
    (doc,) = load_bytes(b'{"text": "Markets rose.", "published": "last Tuesday"}', name="x.json", source="x.json")
    assert doc.published is None
    assert "x.json[0]: cannot read the date 'last Tuesday'" in caplog.text and "ingested with no date" in caplog.text
