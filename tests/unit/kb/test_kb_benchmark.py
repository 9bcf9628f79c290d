"""The retrieval benchmark's corpus builder and measurements, on a small scale."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from benchmarks.retrieval import (
    grow_with_noisy_vectors,
    query_latencies,
    synthetic_assets,
    take_chunks,
    vary,
)
from knowledge.base import KnowledgeBase
from knowledge.library import load_library


def test_variations_change_names_and_order_but_keep_the_structure() -> None:
    text = "# Fees\n\nNorthwind paid 40 seats. The Data Science fee is high. Ask us.\n\n- one"
    varied = {vary(text, random.Random(seed)) for seed in range(6)}
    assert len(varied) > 1
    for other in varied:
        assert other.startswith("# Fees\n\n") and other.endswith("\n\n- one")
        assert "Ask us." in other and len(other.split("\n\n")[1].split(". ")) == 3
    # Names and numbers are swapped, and sentences reordered, in some variants.
    assert any("Northwind" not in other for other in varied)
    assert any(" 40 " not in other for other in varied)
    assert len({other.split("\n\n")[1].split(". ")[0] for other in varied}) > 1


def test_synthetic_assets_keep_front_matter_with_their_own_urls() -> None:
    templates = load_library()
    assets, chunks = take_chunks(synthetic_assets(templates), 60)
    assert chunks >= 60 and len({a.url for a in assets}) == len(assets)
    for asset in assets:
        template = next(t for t in templates if asset.url.startswith(t.url + "?v="))
        assert (asset.stage, asset.segments, asset.cta) == (
            template.stage,
            template.segments,
            template.cta,
        )


def test_the_index_grows_with_distinct_unit_vectors_and_stays_searchable(tmp_path: Path) -> None:
    source = synthetic_assets(load_library())
    kb = KnowledgeBase.open(tmp_path / "kb")
    assets, _ = take_chunks(source, 20)
    kb.index(assets)
    grown = grow_with_noisy_vectors(kb, source, 300)
    total = kb.count()
    assert 300 <= total < 340
    vectors = np.asarray(kb.collection.get(include=["embeddings"])["embeddings"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert len({v.tobytes() for v in vectors}) == total
    # Whole assets were added: re-indexing all of them finds nothing to do.
    again = kb.index(assets + grown)
    assert again.unchanged == len(assets) + len(grown) and again.chunks_embedded == 0
    times = query_latencies(kb, rounds=1)
    assert len(times) > 30 and all(t > 0 for t in times)
