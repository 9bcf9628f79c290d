"""The offline embedding model: sentence-transformers semantics from the int8 ONNX export."""

from __future__ import annotations

import numpy as np

from knowledge.embeddings import (
    MINILM_DIMENSIONS,
    MINILM_FP32_ID,
    MINILM_NAME,
    MiniLMEmbeddingFunction,
    int8_products_exact,
)


def test_similar_sentences_are_close_and_unrelated_ones_far() -> None:
    model = MiniLMEmbeddingFunction()
    vectors = model.embed_array(
        [
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "How much does the data science course cost?",
            "Fees and instalments for the data science programme",
            "The girl is carrying a baby.",
        ]
    )
    assert vectors.shape == (5, MINILM_DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = vectors @ vectors.T
    # all-MiniLM-L6-v2 (fp32, sentence-transformers) gives about 0.76 for the first pair.
    assert 0.68 < cosine[0, 1] < 0.84
    assert cosine[2, 3] > 0.6
    assert cosine[0, 2] < 0.2 and cosine[1, 4] < 0.2 and cosine[3, 4] < 0.2


def test_padding_to_the_longest_text_does_not_change_a_vector() -> None:
    # The exact option; the int8 default's batch-mates nudge a vector slightly (see
    # test_kb_minilm_graph).
    model = MiniLMEmbeddingFunction(batch_size=8, int8=False)
    short = "Book a counselling call"
    long = "A much longer passage about scholarships, instalments and employer sponsorship " * 4
    alone = model.embed_array([short])[0]
    padded = model.embed_array([long, short, long])[1]
    assert np.allclose(alone, padded, atol=1e-4)


def test_text_past_the_window_is_truncated_not_rejected() -> None:
    model = MiniLMEmbeddingFunction()
    text = "data " * 2000
    assert model.count_model_tokens(text) == 256
    assert model.embed_array([text]).shape == (1, MINILM_DIMENSIONS)
    assert model.embed_array([]).shape == (0, MINILM_DIMENSIONS)


def test_chroma_calls_it_and_rebuilds_it_from_its_config() -> None:
    model = MiniLMEmbeddingFunction(batch_size=4, int8=True)
    [vector] = model(["hello"])
    assert len(vector) == MINILM_DIMENSIONS
    rebuilt = MiniLMEmbeddingFunction.build_from_config(model.get_config())
    assert rebuilt.batch_size == 4 and rebuilt.name() == model.name()
    assert rebuilt.model_id == model.model_id == MINILM_NAME
    exact = MiniLMEmbeddingFunction.build_from_config({"int8": False})
    # The two graphs' vectors differ, so they never share a collection.
    assert not exact.int8 and exact.model_id != model.model_id


def test_the_default_graph_is_int8_only_where_the_cpu_multiplies_int8_exactly() -> None:
    default = MiniLMEmbeddingFunction()
    assert default.int8 is int8_products_exact()
    assert default.model_id == (MINILM_NAME if default.int8 else MINILM_FP32_ID)
    # A collection made on one machine reopens with the graph it was made with.
    assert MiniLMEmbeddingFunction.build_from_config({"int8": not default.int8}).int8 is not (
        default.int8
    )
