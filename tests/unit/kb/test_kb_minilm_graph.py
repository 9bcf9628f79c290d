"""The in-memory rewrite of the shipped MiniLM graph: exact where it claims to be, int8 on the
shipped weights, and refusing graphs it was not made for (real model, real onnxruntime)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from knowledge.embeddings import (
    EmbeddingModelUnavailableError,
    MiniLMEmbeddingFunction,
    _int8_graph,
    _MiniLM,
    minilm_model_path,
    minilm_tokenizer_path,
)
from knowledge.minilm_graph import (
    GraphRewriteError,
    int8_minilm_graph,
    quantize_weight_matmuls,
    remove_safe_softmax,
)

# Different lengths (4 to 60 tokens), so that one batch pads all but the longest.
TEXTS = [
    "Fees?",
    "Book a counselling call",
    "Our procurement team needs a vendor security questionnaire and a DPA.",
    "A much longer passage about scholarships, instalments and employer sponsorship, "
    "written for a finance team that wants to know what the company pays, when, and what "
    "the learner pays if they leave within a year of finishing the programme.",
]


def test_dropping_the_safe_softmax_changes_no_vector() -> None:
    model = onnx.load(str(minilm_model_path()))
    assert remove_safe_softmax(model) == 6  # one per layer
    assert not any(node.op_type == "IsNaN" for node in model.graph.node)
    shipped = MiniLMEmbeddingFunction(int8=False).model.embed(TEXTS)  # one padded batch
    rewritten = _MiniLM(model.SerializeToString(), minilm_tokenizer_path(), threads=0)
    agreement = (shipped * rewritten.embed(TEXTS)).sum(axis=1)
    assert agreement.min() > 0.99999, agreement


def test_the_int8_graph_runs_every_weight_product_on_the_shipped_int8_weights() -> None:
    shipped = onnx.load(str(minilm_model_path()))
    weights = {tensor.name: tensor for tensor in shipped.graph.initializer}
    model = onnx.load_from_string(int8_minilm_graph(minilm_model_path()))
    ops = Counter(node.op_type for node in model.graph.node)
    # q, k, v, attention output and the two feed-forward products of each of the 6 layers;
    # the 12 products of two activations (attention scores and mixing) stay fp32.
    assert ops["DynamicQuantizeMatMul"] == 36 and ops["MatMul"] == 12
    assert ops["IsNaN"] == 0
    for node in model.graph.node:
        if node.op_type == "DynamicQuantizeMatMul":
            weight = next(t for t in model.graph.initializer if t.name == node.input[1])
            assert weight.raw_data == weights[node.input[1]].raw_data  # exactly as shipped


def test_a_text_gets_the_same_vector_in_a_list_as_alone() -> None:
    model = MiniLMEmbeddingFunction()  # one text per run: nothing is padded
    together = model.embed_array(TEXTS)
    alone = np.stack([model.embed_array([text])[0] for text in TEXTS])
    assert np.array_equal(together, alone)


def test_in_a_padded_batch_a_text_keeps_nearly_its_own_vector() -> None:
    model = MiniLMEmbeddingFunction(batch_size=8)
    together = model.embed_array(TEXTS)
    alone = np.stack([model.embed_array([text])[0] for text in TEXTS])
    agreement = (together * alone).sum(axis=1)
    # The int8 graph quantises a run's activations with one scale, so batch-mates nudge a
    # vector: measured cosine 0.978 for the 4-token text in a batch with a 60-token one (the
    # worst), 0.988-0.994 for sentences. Padding that leaked into the mean would fall far below.
    assert agreement.min() > 0.97, agreement


def _tiny_model(*, safe_softmax: bool, weight: str) -> onnx.ModelProto:
    """y = softmax(x @ W), with W a plain fp32 constant or int8 scaled per tensor or column."""
    rng = np.random.default_rng(0)
    nodes: list[onnx.NodeProto] = []
    inits: list[TensorProto] = [numpy_helper.from_array(np.array(0.0, np.float32), "zero")]
    if weight == "fp32":
        inits.append(numpy_helper.from_array(rng.normal(size=(4, 4)).astype(np.float32), "W"))
    else:
        q = rng.integers(-127, 128, size=(4, 4)).astype(np.int8)
        shape = (1, 4) if weight == "per_column" else ()
        scale = np.full(shape, 0.01, np.float32)
        inits += [numpy_helper.from_array(q, "W_q"), numpy_helper.from_array(scale, "W_scale")]
        nodes += [
            helper.make_node("Cast", ["W_q"], ["W_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["W_f", "W_scale"], ["W"]),
        ]
    nodes += [
        helper.make_node("MatMul", ["x", "W"], ["scores"], name="matmul"),
        helper.make_node("Softmax", ["scores"], ["probs" if safe_softmax else "y"], name="softmax"),
    ]
    if safe_softmax:
        nodes += [
            helper.make_node("IsNaN", ["probs"], ["nan"]),
            helper.make_node("Where", ["nan", "zero", "probs"], ["y"]),
        ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_tiny_graph_of_the_expected_shape_is_rewritten_and_still_runs() -> None:
    model = _tiny_model(safe_softmax=True, weight="per_column")
    x = np.random.default_rng(1).normal(size=(2, 4)).astype(np.float32)
    before = onnxruntime.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]
    assert remove_safe_softmax(model) == 1 and quantize_weight_matmuls(model) == 1
    assert [node.op_type for node in model.graph.node] == ["DynamicQuantizeMatMul", "Softmax"]
    after = onnxruntime.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]
    assert np.allclose(before, after, atol=0.02)


def test_a_graph_of_another_shape_is_refused_with_what_was_expected(tmp_path: Path) -> None:
    plain = _tiny_model(safe_softmax=False, weight="per_column")
    with pytest.raises(GraphRewriteError, match=r"Softmax 'softmax' read only by Where\(IsNaN"):
        remove_safe_softmax(plain)
    fp32 = _tiny_model(safe_softmax=True, weight="fp32")
    with pytest.raises(GraphRewriteError, match=r"Cast\(int8 initializer\) \* per-column scale"):
        quantize_weight_matmuls(fp32)
    per_tensor = _tiny_model(safe_softmax=True, weight="per_tensor")
    with pytest.raises(GraphRewriteError, match=r"of shape \[1, 4\] \(one scale per output"):
        quantize_weight_matmuls(per_tensor)
    # Through the embedder: the file, what to do, and the error the CLI reports cleanly.
    path = tmp_path / "model.onnx"
    onnx.save(plain, str(path))
    with pytest.raises(EmbeddingModelUnavailableError) as caught:
        _int8_graph(path)
    assert str(path) in str(caught.value) and "int8=False" in str(caught.value)
