"""The retrieval eval: the labelled query set and recall@3 with the offline model."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.retrieval import DatasetError, load_queries, run
from knowledge.embeddings import MiniLMEmbeddingFunction
from knowledge.library import load_library


def test_the_query_set_is_labelled_with_real_assets_and_realistic_wording() -> None:
    queries = load_queries()
    assert len(queries) >= 30
    library = {asset.url: asset for asset in load_library()}
    assert {q.expected for q in queries} <= set(library)
    # Every asset is asked for at least twice, and no query copies its asset's title.
    for url, asset in library.items():
        asked = [q for q in queries if q.expected == url]
        assert len(asked) >= 2, url
        for item in asked:
            assert item.query.lower() not in asset.title.lower()
            assert asset.title.lower() not in item.query.lower()


def test_recall_at_3_with_the_offline_model_is_at_least_0_9() -> None:
    result = run()
    assert result["embedding_model"] == MiniLMEmbeddingFunction().model_id
    assert result["queries"] >= 30
    assert result["recall_at_3"] >= 0.9, result["misses"]
    assert result["found"] == result["queries"] - len(result["misses"])


def test_a_malformed_query_set_names_the_entry_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "queries.yaml"
    bad.write_text(
        "site: https://x.example\nqueries:\n  - {query: fees, expected: /p}\n"
        "  - {query: security, expected: /s, stage: late}\n"
    )
    with pytest.raises(DatasetError, match=r"query 2: 'stage' 'late' is not one of"):
        load_queries(bad)
    bad.write_text("queries:\n  - {query: '', expected: /p}\n")
    with pytest.raises(DatasetError, match=r"query 1: 'query' must be non-empty text"):
        load_queries(bad)
