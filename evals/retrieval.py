"""Retrieval eval: recall@k of the knowledge base on a labelled query set."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge.base import KnowledgeBase
from knowledge.library import DEFAULT_SOURCE, STAGES

DEFAULT_DATASET = Path(__file__).parent / "datasets" / "retrieval.yaml"
DEFAULT_K = 3


class DatasetError(ValueError):
    """The query set is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    expected: str
    stage: str | None = None
    segment: str | None = None


def load_queries(path: Path = DEFAULT_DATASET) -> list[LabelledQuery]:
    """The labelled queries of a dataset file; expected paths are joined to its `site`."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path}: cannot read the query set ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("queries"), list):
        raise DatasetError(f"{path}: expected a mapping with a 'queries' list")
    site = str(data.get("site") or "").rstrip("/")
    queries: list[LabelledQuery] = []
    for number, entry in enumerate(data["queries"], start=1):
        where = f"{path}: query {number}"
        if not isinstance(entry, dict):
            raise DatasetError(f"{where}: expected a mapping with 'query' and 'expected'")
        for key in ("query", "expected"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise DatasetError(f"{where}: '{key}' must be non-empty text")
        stage = entry.get("stage")
        if stage is not None and stage not in STAGES:
            raise DatasetError(f"{where}: 'stage' {stage!r} is not one of {', '.join(STAGES)}")
        expected = entry["expected"].strip()
        if expected.startswith("/"):
            expected = site + expected
        queries.append(LabelledQuery(entry["query"].strip(), expected, stage, entry.get("segment")))
    return queries


def evaluate(
    kb: KnowledgeBase, queries: list[LabelledQuery], *, k: int = DEFAULT_K
) -> dict[str, Any]:
    """recall@k (share of queries whose asset is in the top k) and MRR, with every miss."""
    found = 0
    reciprocal = 0.0
    misses: list[dict[str, Any]] = []
    latencies: list[float] = []
    for item in queries:
        started = time.perf_counter()
        results = kb.search(item.query, stage=item.stage, segment=item.segment, k=k)
        latencies.append(time.perf_counter() - started)
        urls = [r.url for r in results]
        if item.expected in urls:
            found += 1
            reciprocal += 1.0 / (urls.index(item.expected) + 1)
        else:
            misses.append({"query": item.query, "expected": item.expected, "got": urls})
    total = len(queries)
    return {
        f"recall_at_{k}": round(found / total, 4) if total else 0.0,
        "mrr": round(reciprocal / total, 4) if total else 0.0,
        "queries": total,
        "found": found,
        "misses": misses,
        "mean_query_ms": round(1000 * sum(latencies) / total, 2) if total else 0.0,
    }


def run(
    kb: KnowledgeBase | None = None,
    *,
    dataset: Path = DEFAULT_DATASET,
    source: Path = DEFAULT_SOURCE,
    k: int = DEFAULT_K,
) -> dict[str, Any]:
    """Evaluate `kb`, or a fresh embedded index of the library at `source` (offline model)."""
    queries = load_queries(dataset)
    if kb is not None:
        return evaluate(kb, queries, k=k)
    with tempfile.TemporaryDirectory(prefix="nurture-eval-") as folder:
        fresh = KnowledgeBase.open(Path(folder))
        fresh.index_folder(source)
        return {"embedding_model": fresh.embedder.model_id, **evaluate(fresh, queries, k=k)}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
