"""The trained sentence scorer: a question and candidate sentences (each with the sentence before
it) in, how well each answers and where its short answer lies out.

A cross-encoder fine-tuned from the bundled MiniLM on SQuAD 1.1 train by scripts/train_reader.py,
shipped int8 ONNX in models/ (see its model card), run by onnxruntime with the MiniLM tokenizer;
torch is never imported. The encoding here is the one the trainer uses, so both read alike.
"""

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from askbrief.errors import IndexIncompatible

MODEL_FILE = Path(__file__).parents[1] / "models" / "reader.int8.onnx"
MAX_TOKENS = 128  # question + context + sentence in word pieces; longer contexts are cut from the left
CONTEXT_CHARS = 240  # of the previous sentence, its end kept
TITLE_CHARS = 100  # of the article's title, its start kept (the verifier reads it; the span model does not)
MAX_QUESTION_TOKENS = 64  # a longer question is cut at its end: the sentence always gets room
SEPARATOR = " | "  # between the previous sentence and the sentence read
MAX_SPAN_TOKENS = 30  # SQuAD answers are short; a longer span is the head wandering
BATCH = 32


@dataclass(frozen=True)
class Encoded:
    ids: list[int]
    types: list[int]
    offsets: list[tuple[int, int]]  # into `context + SEPARATOR + sentence` for the second segment
    in_sentence: list[bool]  # which tokens belong to the sentence (the span head's choices)
    sentence_at: int  # where the sentence starts in the second segment


def encode_pair(tokenizer, question: str, context: str, sentence: str, title: str = "",
                max_tokens: int = MAX_TOKENS) -> Encoded:
    """One (question, [title |] context | sentence) as the model reads it, at most `max_tokens` word
    pieces. Cut in this order: the question past MAX_QUESTION_TOKENS (a 1,000-character question
    must still leave room for the sentence), then the context from the left, then the title, then
    the sentence's end."""
    context = context[-CONTEXT_CHARS:]
    head = title[:TITLE_CHARS] + SEPARATOR if title else ""
    second = head + (context + SEPARATOR if context else "") + sentence
    at = len(second) - len(sentence)
    enc = tokenizer.encode(question, second)
    keep = _kept(enc.sequence_ids, enc.offsets, len(head), at, max_tokens)
    ids, types, offsets = ([column[i] for i in keep] for column in (enc.ids, enc.type_ids, enc.offsets))
    in_sentence = [enc.sequence_ids[i] == 1 and enc.offsets[i][0] >= at for i in keep]
    return Encoded(ids, types, offsets, in_sentence, at)


def _kept(sequence: list, offsets: list[tuple[int, int]], head_end: int, at: int, max_tokens: int) -> list[int]:
    """The word pieces left after the cuts encode_pair describes, in order: computed in one pass
    (a 12,000-word sentence is cut at once, not a piece at a time)."""
    question = [i for i, s in enumerate(sequence) if s == 0]
    second = [i for i, s in enumerate(sequence) if s == 1]
    excess = len(sequence) - max_tokens
    dropped: set[int] = set()
    if excess > 0 and len(question) > MAX_QUESTION_TOKENS:
        cut = min(len(question) - MAX_QUESTION_TOKENS, excess)
        dropped.update(question[len(question) - cut:])
        excess -= cut
    context = [i for i in second if head_end <= offsets[i][0] < at]
    title = [i for i in second if offsets[i][0] < head_end]
    for part in (context, title):
        cut = max(0, min(len(part), excess))
        dropped.update(part[:cut])
        excess -= cut
    if excess > 0:  # the sentence's end, keeping its start
        left = [i for i in second if i not in dropped]
        dropped.update(left[len(left) - min(excess, len(left)):])
    return [i for i in range(len(sequence)) if i not in dropped]


def tokenizer():
    from tokenizers import Tokenizer

    from askbrief.encoders.embed import TOKENIZER_FILE

    t = Tokenizer.from_file(str(TOKENIZER_FILE))
    t.no_padding()
    t.no_truncation()
    return t


class SentenceScorer:
    def __init__(self, path: Path = MODEL_FILE, rebuild: str = "make train-reader", max_tokens: int = MAX_TOKENS):
        import onnxruntime

        if not path.exists():
            raise IndexIncompatible(f"the model {path} is missing; reinstall askbrief or run `{rebuild}`")
        from askbrief.encoders.embed import onnx_threads

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = onnx_threads()
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer()
        self.max_tokens = max_tokens
        self._lock = threading.Lock()  # the tokenizer is not safe across threads

    def score(self, question: str, pairs: list[tuple[str, str]],
              titles: list[str] | None = None) -> tuple[np.ndarray, list[tuple[int, int] | None]]:
        """For each (context, sentence), with its article's title where the model reads titles:
        the answer logit, and the short answer's char offsets inside the sentence (None where the
        head finds none)."""
        logits = np.zeros(len(pairs), dtype=np.float32)
        spans: list[tuple[int, int] | None] = [None] * len(pairs)
        with self._lock:
            titles = titles or [""] * len(pairs)
            encoded = [encode_pair(self.tokenizer, question, c, s, t, self.max_tokens) for (c, s), t in zip(pairs, titles)]
            for at in range(0, len(pairs), BATCH):
                rows = encoded[at:at + BATCH]
                width = max(len(r.ids) for r in rows)
                ids = np.zeros((len(rows), width), dtype=np.int64)
                types, mask = np.zeros_like(ids), np.zeros_like(ids)
                for i, r in enumerate(rows):
                    n = len(r.ids)
                    ids[i, :n], types[i, :n], mask[i, :n] = r.ids, r.types, 1
                answers, starts, ends = self.session.run(
                    None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
                logits[at:at + len(rows)] = answers
                for i, r in enumerate(rows):
                    spans[at + i] = _best_span(r, starts[i, :len(r.ids)], ends[i, :len(r.ids)])
        return logits, spans


def _best_span(r: Encoded, start: np.ndarray, end: np.ndarray) -> tuple[int, int] | None:
    allowed = np.array(r.in_sentence)
    if not allowed.any():
        return None
    s = np.where(allowed, start, -np.inf)
    e = np.where(allowed, end, -np.inf)
    scores = s[:, None] + e[None, :]
    n = len(s)
    band = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(np.ones((n, n), dtype=bool), MAX_SPAN_TOKENS)
    i, j = np.unravel_index(np.argmax(np.where(band, scores, -np.inf)), scores.shape)
    return r.offsets[i][0] - r.sentence_at, r.offsets[j][1] - r.sentence_at


@cache
def load_scorer() -> SentenceScorer:
    """One scorer per process."""
    return SentenceScorer()
