"""The knowledge base: content chunks in Chroma, indexed incrementally, searched with filters."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, Embeddable, EmbeddingFunction, Where

from knowledge.chunking import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_OVERLAP,
    Chunk,
    chunk_markdown,
    plain_text,
)
from knowledge.embeddings import MiniLMEmbeddingFunction
from knowledge.library import DEFAULT_SOURCE, STAGES, Asset, load_library

DEFAULT_KB_DIR = Path("var") / "kb"
# Candidates fetched per wanted result, so that keeping one chunk per asset still leaves k.
OVERFETCH = 8
MIN_FETCH = 24


class Embedder(Protocol):
    """What the knowledge base needs from an embedding function (Chroma's, plus arrays)."""

    def __call__(self, input: Documents) -> Any: ...

    def embed_array(self, texts: Sequence[str]) -> np.ndarray: ...

    @property
    def model_id(self) -> str: ...


class KnowledgeBaseError(ValueError):
    """A search or index request the knowledge base cannot serve; the message says why."""


@dataclass
class IndexReport:
    """What one indexing run changed, counted in assets, plus the chunks it embedded."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_embedded: int = 0
    chunks_removed: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    changed_assets: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged; {self.chunks_embedded} chunks embedded, "
            f"{self.chunks_total} in the index ({self.seconds:.1f} s)"
        )


@dataclass(frozen=True)
class SearchResult:
    """One retrieved chunk with everything needed to cite it."""

    asset: str
    chunk: int
    score: float
    title: str
    url: str
    stage: str
    segments: tuple[str, ...]
    asset_type: str
    cta: str
    text: str
    heading: str | None = None

    @property
    def citation(self) -> str:
        return f"{self.title} ({self.url})"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["segments"] = list(self.segments)
        out["citation"] = self.citation
        return out


def collection_name(model_id: str) -> str:
    """One collection per embedding model: vectors of different models never mix."""
    safe = re.sub(r"[^a-zA-Z0-9._-]+", "-", model_id).strip("-._")
    return f"content-{safe}"[:512]


def asset_key(asset: Asset) -> str:
    """An asset is its url (unique in a library): renaming the file keeps its vectors."""
    return asset.url


def _chunk_ids(key: str, count: int) -> list[str]:
    stem = hashlib.sha1(key.encode()).hexdigest()[:16]
    return [f"{stem}:{index}" for index in range(count)]


def embedding_text(asset: Asset, chunk: Chunk) -> str:
    """What is embedded: the chunk as plain text, with its asset title and section as context."""
    body = plain_text(chunk.text)
    lines = [asset.title]
    if chunk.heading and chunk.heading != asset.title and chunk.heading not in body[:200]:
        lines.append(chunk.heading)
    lines.append(body)
    return "\n".join(lines)


class KnowledgeBase:
    """A content library in one Chroma collection: `index` keeps it in sync, `search` reads."""

    def __init__(
        self,
        client: ClientAPI,
        embedder: Embedder | None = None,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        overlap: int = DEFAULT_OVERLAP,
    ) -> None:
        self.client = client
        self.embedder: Embedder = embedder or MiniLMEmbeddingFunction()
        self.max_tokens = max_tokens
        self.overlap = overlap
        # Chunks made with other settings are re-embedded on the next run.
        self.chunker = f"md-{max_tokens}-{overlap}-v2"
        self._collection: Collection | None = None

    @classmethod
    def open(
        cls,
        path: Path | None = None,
        *,
        host: str | None = None,
        port: int = 8000,
        embedder: Embedder | None = None,
    ) -> KnowledgeBase:
        """Embedded Chroma under `path` (default var/kb), or the Chroma server at `host`."""
        import chromadb

        # Telemetry would call out to the network; nurture never does that on its own.
        settings = chromadb.Settings(anonymized_telemetry=False)
        if host:
            client = chromadb.HttpClient(host=host, port=port, settings=settings)
        else:
            folder = Path(path) if path is not None else DEFAULT_KB_DIR
            folder.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(folder), settings=settings)
        return cls(client, embedder)

    @property
    def collection(self) -> Collection:
        if self._collection is None:
            self._collection = self.client.get_or_create_collection(
                collection_name(self.embedder.model_id),
                embedding_function=cast(EmbeddingFunction[Embeddable], self.embedder),
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedding_model": self.embedder.model_id},
            )
        return self._collection

    def count(self) -> int:
        """Chunks in the index."""
        return self.collection.count()

    def indexed_assets(self) -> dict[str, dict[str, Any]]:
        """{asset key: {content_hash, chunker, ids}} for what the index holds now."""
        got = self.collection.get(include=["metadatas"])
        assets: dict[str, dict[str, Any]] = {}
        for chunk_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
            key = str(meta.get("asset_key"))
            entry = assets.setdefault(
                key,
                {
                    "content_hash": meta.get("content_hash"),
                    "chunker": meta.get("chunker"),
                    "chunks": meta.get("chunks"),
                    "ids": [],
                },
            )
            entry["ids"].append(chunk_id)
        return assets

    def index_folder(self, source: Path = DEFAULT_SOURCE) -> IndexReport:
        """Load and validate the library under `source`, then bring the index in line with it."""
        source = Path(source)
        return self.index(load_library(source), source=source)

    def index(
        self, assets: Sequence[Asset], *, source: Path | None = None, prune: bool = True
    ) -> IndexReport:
        """Embed new and changed assets, drop their old chunks and, with `prune`, lost assets.

        An asset whose file hash and chunking settings match the index is not touched.
        """
        started = time.perf_counter()
        report = IndexReport()
        stored = self.indexed_assets()
        seen: set[str] = set()
        pending: list[tuple[Asset, list[Chunk], list[str]]] = []
        for asset in assets:
            key = asset_key(asset)
            seen.add(key)
            old = stored.get(key)
            if old and self._is_current(old, asset):
                report.unchanged += 1
                continue
            chunks = chunk_markdown(asset.body, max_tokens=self.max_tokens, overlap=self.overlap)
            pending.append((asset, chunks, old["ids"] if old else []))
            report.added += old is None
            report.updated += old is not None
            report.changed_assets.append(self._label(asset, source))
        self._write(pending, source=source, report=report)
        if prune:
            for key, old in stored.items():
                if key not in seen:
                    self.collection.delete(ids=old["ids"])
                    report.removed += 1
                    report.chunks_removed += len(old["ids"])
                    report.changed_assets.append(str(key))
        report.chunks_total = self.count()
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _is_current(self, old: dict[str, Any], asset: Asset) -> bool:
        return (
            old["content_hash"] == asset.content_hash
            and old["chunker"] == self.chunker
            and old["chunks"] == len(old["ids"])
        )

    @staticmethod
    def _label(asset: Asset, source: Path | None) -> str:
        if source is not None:
            try:
                return str(asset.path.relative_to(source))
            except ValueError:
                pass
        return asset.path.name

    def _write(
        self,
        pending: list[tuple[Asset, list[Chunk], list[str]]],
        *,
        source: Path | None,
        report: IndexReport,
    ) -> None:
        if not pending:
            return
        ids: list[str] = []
        texts: list[str] = []
        documents: list[str] = []
        metadatas: list[dict[str, Any]] = []
        stale: list[str] = []
        for asset, chunks, old_ids in pending:
            new_ids = _chunk_ids(asset_key(asset), len(chunks))
            stale.extend(set(old_ids) - set(new_ids))
            label = self._label(asset, source)
            for chunk_id, chunk in zip(new_ids, chunks, strict=True):
                ids.append(chunk_id)
                texts.append(embedding_text(asset, chunk))
                documents.append(chunk.text)
                metadatas.append(self.chunk_metadata(asset, chunk, label, len(chunks)))
        # Embed everything before touching the index: a failure leaves the old version whole.
        vectors = self.embedder.embed_array(texts)
        if stale:
            self.collection.delete(ids=stale)
            report.chunks_removed += len(stale)
        batch = max(1, min(self.client.get_max_batch_size(), 1000))
        for start in range(0, len(ids), batch):
            end = start + batch
            self.collection.upsert(
                ids=ids[start:end],
                embeddings=vectors[start:end],
                documents=documents[start:end],
                metadatas=cast(Any, metadatas[start:end]),
            )
        report.chunks_embedded += len(ids)

    def chunk_metadata(self, asset: Asset, chunk: Chunk, label: str, total: int) -> dict[str, Any]:
        """What Chroma stores with a chunk: citation, filters and what incremental sync needs."""
        meta: dict[str, Any] = {
            "asset_key": asset_key(asset),
            "asset": label,
            "content_hash": asset.content_hash,
            "chunker": self.chunker,
            "chunk": chunk.index,
            "chunks": total,
            "tokens": chunk.tokens,
            "title": asset.title,
            "url": asset.url,
            "stage": asset.stage,
            "segments": list(asset.segments),
            "asset_type": asset.asset_type,
            "cta": asset.cta,
        }
        optional = {"heading": chunk.heading, "persona": asset.persona, "industry": asset.industry}
        meta.update({key: value for key, value in optional.items() if value})
        return meta

    def search(
        self,
        query: str,
        *,
        stage: str | None = None,
        segment: str | None = None,
        k: int = 3,
        per_asset: int = 1,
    ) -> list[SearchResult]:
        """The `k` best chunks for `query`, at most `per_asset` from any one asset.

        `stage` keeps one funnel stage; `segment` keeps assets that list that segment.
        """
        if not query or not query.strip():
            raise KnowledgeBaseError("query: empty; say what the content should be about")
        if k < 1:
            raise KnowledgeBaseError(f"k: must be at least 1, got {k}")
        if per_asset < 1:
            raise KnowledgeBaseError(f"per_asset: must be at least 1, got {per_asset}")
        where = self._where(stage=stage, segment=segment)
        total = self.count()
        if total == 0:
            return []
        vector = self.embedder.embed_array([query.strip()])
        fetch = min(total, max(k * per_asset * OVERFETCH, MIN_FETCH))
        while True:
            found = self.collection.query(
                query_embeddings=vector,
                n_results=fetch,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
            hits = list(self._hits(found))
            chosen = _diverse(hits, k=k, per_asset=per_asset)
            # Too few distinct assets among the candidates: widen the net, once per doubling.
            if len(chosen) >= k or len(hits) < fetch or fetch >= total:
                return chosen
            fetch = min(total, fetch * 4)

    @staticmethod
    def _where(*, stage: str | None, segment: str | None) -> Where | None:
        clauses: list[dict[str, Any]] = []
        if stage:
            if stage not in STAGES:
                raise KnowledgeBaseError(f"stage: {stage!r} is not one of {', '.join(STAGES)}")
            clauses.append({"stage": stage})
        if segment:
            clauses.append({"segments": {"$contains": segment.strip()}})
        if not clauses:
            return None
        return cast(Where, clauses[0] if len(clauses) == 1 else {"$and": clauses})

    @staticmethod
    def _hits(found: Any) -> Iterable[SearchResult]:
        documents = (found.get("documents") or [[]])[0]
        metadatas = (found.get("metadatas") or [[]])[0]
        distances = (found.get("distances") or [[]])[0]
        for text, meta, distance in zip(documents, metadatas, distances, strict=True):
            yield SearchResult(
                asset=str(meta.get("asset", "")),
                chunk=int(meta.get("chunk", 0)),
                score=round(1.0 - float(distance), 4),
                title=str(meta.get("title", "")),
                url=str(meta.get("url", "")),
                stage=str(meta.get("stage", "")),
                segments=tuple(str(s) for s in meta.get("segments") or ()),
                asset_type=str(meta.get("asset_type", "")),
                cta=str(meta.get("cta", "")),
                text=text or "",
                heading=cast(str | None, meta.get("heading")),
            )


def _diverse(hits: list[SearchResult], *, k: int, per_asset: int) -> list[SearchResult]:
    """Best first, skipping chunks of an asset that already has `per_asset` results."""
    taken: dict[str, int] = {}
    chosen: list[SearchResult] = []
    for hit in sorted(hits, key=lambda h: -h.score):
        if taken.get(hit.url, 0) >= per_asset:
            continue
        taken[hit.url] = taken.get(hit.url, 0) + 1
        chosen.append(hit)
        if len(chosen) == k:
            break
    return chosen
