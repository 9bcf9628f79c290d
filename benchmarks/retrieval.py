"""Knowledge-base speed and quality: indexing, query latency at 10,000 chunks, recall@3.

Method (everything in a temporary folder, nothing under var/; offline MiniLM model):

1. Corpus. The shipped library (`knowledge/content/`) is the template. Synthetic assets are
   variations of its assets (seeded): programme and company names swapped for others of the
   demo company, numbers scaled by 0.7-1.3, and the sentences of each prose paragraph
   shuffled; each keeps its template's stage, segments and front matter, with its own url
   (`...?v=N`). They are chunked by the product's chunker like any asset.
2. Indexing (`index_1000_chunks_s`, wall clock; `index_1000_chunks_cpu_s`, CPU time of the
   process over all its threads, which other work on the machine does not inflate). Assets
   are added until they make 1,000 chunks (the last asset may overshoot a little; the time is
   scaled to 1,000), then indexed into an empty embedded Chroma with `KnowledgeBase.index`:
   chunking, embedding, upserts. Embedding time is also reported alone, and
   `embedding_texts_per_s` / `embedding_tokens_per_s` are the model's throughput over those
   chunks (one text per run, the embedder's default).
3. Query latency at 10,000 chunks. More synthetic assets are added until the index holds
   10,000 chunks (whole assets, so a few more). By default their vectors are not computed by
   the model (that alone would take several minutes here): each reuses the real vector of a
   chunk indexed in step 2, with Gaussian noise (cosine ~0.9 to the original) and
   renormalised, so the index holds 10,000 distinct unit vectors with the library's
   distribution; `--embed-all` embeds them for real. Then every query of the retrieval eval
   set runs 3 times, once with its own filters, once with none and once with a random stage,
   through `KnowledgeBase.search(k=3)` end to end (query embedding, nearest ids, filters and
   one result per asset, documents of the results): p50/p95 in ms. Five warm-up searches are
   not counted.
4. Incremental sync at that size (`reindex_unchanged_s`): `KnowledgeBase.index` over every
   asset again, nothing changed; it must embed nothing (checked).
5. Quality (`recall_at_3`, `mrr`): the retrieval eval (`evals/retrieval.py`) on a fresh index
   of the shipped library alone.

The machine's load average is reported before and after: other work on the same 2 cores
slows every figure here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from evals.retrieval import load_queries
from evals.retrieval import run as run_eval
from knowledge.base import KnowledgeBase, chunk_ids
from knowledge.chunking import chunk_markdown
from knowledge.embeddings import MiniLMEmbeddingFunction
from knowledge.library import STAGES, Asset, load_library

SEED = 11
INDEX_CHUNKS = 1_000
QUERY_CHUNKS = 10_000
QUERY_ROUNDS = 3
WARMUP = 5
# Per-dimension noise for synthetic vectors: cosine to the original ~ 1/sqrt(1 + 384 s^2).
NOISE_SIGMA = 0.025

PROGRAMMES = (
    "Data Science", "Product Management", "Business Analytics", "Digital Marketing",
    "Finance for Managers", "HR Analytics", "Supply Chain Analytics", "Healthcare Management",
    "MBA Essentials",
)  # fmt: skip
COMPANIES = (
    "Northwind", "Kestrel", "Bluefin", "Granite", "Saffron", "Meridian", "Lotus", "Cobalt",
    "Harbor", "Juniper", "Tamarind", "Orchid", "Vertex", "Summit", "Banyan", "Monsoon",
)  # fmt: skip
_PROGRAMME = re.compile("|".join(re.escape(p) for p in PROGRAMMES))
_COMPANY = re.compile(r"\b(" + "|".join(COMPANIES) + r")\b")
_NUMBER = re.compile(r"\b\d{2,}\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


class TimedEmbedder(MiniLMEmbeddingFunction):
    """The offline model, keeping the time and the texts of every call."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0
        self.texts = 0
        self.tokens = 0

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        out = super().embed_array(texts)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        self.tokens += sum(self.count_model_tokens(text) for text in texts)
        return out


def vary(text: str, rng: random.Random) -> str:
    """A plausible sibling of `text`: other names and numbers, prose sentences reordered."""
    text = _PROGRAMME.sub(lambda _: rng.choice(PROGRAMMES), text)
    text = _COMPANY.sub(lambda _: rng.choice(COMPANIES), text)
    text = _NUMBER.sub(lambda m: str(max(10, round(int(m.group()) * rng.uniform(0.7, 1.3)))), text)
    paragraphs = []
    for paragraph in text.split("\n\n"):
        if paragraph.lstrip().startswith(("#", "|", "-", "*", ">")) or "\n-" in paragraph:
            paragraphs.append(paragraph)
            continue
        sentences = _SENTENCE.split(paragraph.strip())
        rng.shuffle(sentences)
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


def synthetic_assets(templates: list[Asset], seed: int = SEED) -> Iterator[tuple[Asset, int]]:
    """(asset, chunk count) for endless variations of the template assets."""
    rng = random.Random(seed)
    variant = 0
    while True:
        variant += 1
        for template in templates:
            body = vary(template.body, rng)
            asset = template.model_copy(
                update={
                    "url": f"{template.url}?v={variant}",
                    "title": f"{template.title} · {variant}",
                    "body": body,
                    "content_hash": hashlib.sha256(body.encode()).hexdigest(),
                    "path": template.path.with_name(f"{template.path.stem}-{variant}.md"),
                }
            )
            yield asset, len(chunk_markdown(asset.body))


def take_chunks(source: Iterator[tuple[Asset, int]], n: int) -> tuple[list[Asset], int]:
    assets, chunks = [], 0
    while chunks < n:
        asset, count = next(source)
        assets.append(asset)
        chunks += count
    return assets, chunks


def grow_with_noisy_vectors(
    kb: KnowledgeBase, source: Iterator[tuple[Asset, int]], target: int, seed: int = SEED
) -> list[Asset]:
    """Add whole synthetic assets until the index holds at least `target` chunks, reusing
    real vectors plus noise; returns the assets added."""
    base = np.asarray(kb.collection.get(include=["embeddings"])["embeddings"], dtype=np.float32)
    rng = np.random.default_rng(seed)
    batch = max(1, min(kb.client.get_max_batch_size(), 2000))
    added: list[Asset] = []
    while (missing := target - kb.count()) > 0:
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        while len(ids) < min(missing, batch):
            asset, _ = next(source)
            added.append(asset)
            chunks = chunk_markdown(asset.body)
            for chunk, chunk_id in zip(
                chunks, chunk_ids(asset, kb.chunker, len(chunks)), strict=True
            ):
                ids.append(chunk_id)
                docs.append(chunk.text)
                metas.append(kb.chunk_metadata(asset, chunk, asset.path.name, len(chunks)))
        picks = base[rng.integers(0, len(base), len(ids))]
        noisy = picks + rng.normal(0, NOISE_SIGMA, picks.shape).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        for start in range(0, len(ids), batch):
            end = start + batch
            kb.collection.add(
                ids=ids[start:end],
                embeddings=noisy[start:end],
                documents=docs[start:end],
                metadatas=cast(Any, metas[start:end]),
            )
    return added


def query_latencies(kb: KnowledgeBase, rounds: int = QUERY_ROUNDS) -> list[float]:
    """End-to-end search times (ms) over the eval queries: own filters, none, a stage."""
    queries = load_queries()
    rng = random.Random(SEED)
    plans = []
    for _ in range(rounds):
        for item in queries:
            plans.append((item.query, item.stage, item.segment))
            plans.append((item.query, None, None))
            plans.append((item.query, rng.choice(STAGES), None))
    for query, stage, segment in plans[:WARMUP]:
        kb.search(query, stage=stage, segment=segment, k=3)
    times = []
    for query, stage, segment in plans:
        started = time.perf_counter()
        kb.search(query, stage=stage, segment=segment, k=3)
        times.append(1000 * (time.perf_counter() - started))
    return times


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


def run(
    *,
    index_chunks: int = INDEX_CHUNKS,
    query_chunks: int = QUERY_CHUNKS,
    embed_all: bool = False,
    workdir: Path | None = None,
) -> dict[str, Any]:
    load_before = os.getloadavg()
    templates = load_library()
    source = synthetic_assets(templates)
    with tempfile.TemporaryDirectory(prefix="nurture-bench-kb-", dir=workdir) as folder:
        embedder = TimedEmbedder()
        kb = KnowledgeBase.open(Path(folder) / "kb", embedder=embedder)
        embedder.embed_array(["warm up the model"])  # session start-up is not indexing
        embedder.seconds, embedder.texts, embedder.tokens = 0.0, 0, 0
        assets, chunks = take_chunks(source, index_chunks)
        started, cpu_started = time.perf_counter(), time.process_time()
        report = kb.index(assets)
        index_s = time.perf_counter() - started
        index_cpu_s = time.process_time() - cpu_started
        embed_s, texts, tokens = embedder.seconds, embedder.texts, embedder.tokens

        grow_started = time.perf_counter()
        everything = list(assets)
        if embed_all:
            while kb.count() < query_chunks:
                more, _ = take_chunks(source, min(1000, query_chunks - kb.count()))
                kb.index(more, prune=False)
                everything.extend(more)
        else:
            everything.extend(grow_with_noisy_vectors(kb, source, query_chunks))
        grow_s = time.perf_counter() - grow_started
        times = query_latencies(kb)
        indexed_total = kb.count()
        embedder.texts = 0
        resync = kb.index(everything)
        if embedder.texts or resync.unchanged != len(everything):
            raise RuntimeError(f"re-indexing an unchanged library changed it: {resync.summary()}")

    quality = run_eval()
    load_after = os.getloadavg()
    mean_text_tokens = tokens / texts if texts else 0.0
    return {
        "index_1000_chunks_s": round(index_s * 1000 / chunks, 2),
        # CPU seconds of this process (all its threads): what the indexing costs without load.
        "index_1000_chunks_cpu_s": round(index_cpu_s * 1000 / chunks, 2),
        "query_ms": {
            "p50": percentile(times, 50),
            "p95": percentile(times, 95),
            "mean": round(statistics.fmean(times), 2),
            "queries": len(times),
        },
        "recall_at_3": quality["recall_at_3"],
        "mrr": quality["mrr"],
        "eval_queries": quality["queries"],
        "embedding_texts_per_s": round(texts / embed_s, 1) if embed_s else None,
        "embedding_tokens_per_s": round(tokens / embed_s) if embed_s else None,
        "embedding_share_of_indexing": round(embed_s / index_s, 3) if index_s else None,
        "mean_tokens_per_embedded_text": round(mean_text_tokens, 1),
        "reindex_unchanged_s": resync.seconds,
        "chunks_indexed_timed": report.chunks_embedded,
        "chunks_at_query_time": indexed_total,
        "extra_chunks_vectors": "model" if embed_all else "noisy copies of real vectors",
        "grow_to_query_size_s": round(grow_s, 2),
        "embedding_model": kb.embedder.model_id,
        "method": {
            "doc": "benchmarks/retrieval.py",
            "cpus": os.cpu_count(),
            "load_avg_1m_before": round(load_before[0], 2),
            "load_avg_1m_after": round(load_after[0], 2),
            "chunker": kb.chunker,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--index-chunks", type=int, default=INDEX_CHUNKS)
    parser.add_argument("--query-chunks", type=int, default=QUERY_CHUNKS)
    parser.add_argument("--embed-all", action="store_true")
    args = parser.parse_args()
    result = run(
        index_chunks=args.index_chunks, query_chunks=args.query_chunks, embed_all=args.embed_all
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
