"""The knowledge base: content chunks in Chroma, indexed incrementally, searched with filters."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
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
# Nearest chunks fetched per search (ids and distances only, which is cheap); filters and
# one-chunk-per-asset are applied to them here. Chroma's own metadata filter costs 10-50 ms
# at 10,000 chunks, so it is only the fallback when this many candidates hold too few matches.
CANDIDATES = 100
MAX_CANDIDATES = 1600

# Query embeddings kept per knowledge base (oldest evicted first).
QUERY_CACHE_SIZE = 1024
# Search answers kept when `result_ttl_s` is set (the agent's); oldest evicted first.
RESULT_CACHE_SIZE = 512


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
    # Collections of an earlier release's embedding model, replaced by this complete index.
    dropped_collections: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        text = (
            f"{self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged; {self.chunks_embedded} chunks embedded, "
            f"{self.chunks_total} in the index ({self.seconds:.1f} s)"
        )
        if self.dropped_collections:
            dropped = ", ".join(self.dropped_collections)
            text += f"; dropped {dropped} (an earlier embedding model's index)"
        return text


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


def chunk_ids(asset: Asset, chunker: str, count: int) -> list[str]:
    """`<asset>-<version>-<count>:<index>`: the version changes with the asset's content or
    the chunking, and the count makes a half-written version visible from the ids alone.

    A chunk id therefore always means the same text and metadata, so what a process has
    learned about an id (its asset, stage, segments) never goes stale.
    """
    prefix = f"{_asset_stem(asset)}-{_version(asset, chunker)}-{count}"
    return [f"{prefix}:{index}" for index in range(count)]


def _asset_stem(asset: Asset) -> str:
    return hashlib.sha1(asset_key(asset).encode()).hexdigest()[:16]


def _version(asset: Asset, chunker: str) -> str:
    return hashlib.sha1(f"{asset.content_hash}:{chunker}".encode()).hexdigest()[:12]


def _version_of(chunk_id: str) -> str:
    """The asset version a chunk id belongs to: everything before its ':index'."""
    return chunk_id.rsplit(":", 1)[0]


def _is_complete(prefix: str, ids: list[str]) -> bool:
    """Every chunk the version's id promises is there."""
    count = prefix.rsplit("-", 1)[-1]
    return count.isdigit() and len(set(ids)) == int(count)


@dataclass(frozen=True)
class _ChunkFacts:
    """What filtering and diversity need to know about a chunk id."""

    asset: str
    stage: str
    segments: frozenset[str]

    def matches(self, stage: str | None, segment: str | None) -> bool:
        return (stage is None or self.stage == stage) and (
            segment is None or segment in self.segments
        )


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
        self._query_vectors: dict[str, np.ndarray] = {}
        self._known: dict[str, _ChunkFacts] = {}
        # The agent asks the same templated questions for lead after lead: with a TTL, an
        # answer is reused for that long (an index written by another process shows up
        # within it; this object's own writes clear it at once). 0 = always ask Chroma.
        self.result_ttl_s = 0.0
        self._answers: dict[tuple[Any, ...], tuple[float, list[SearchResult]]] = {}

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

    def stored_versions(self) -> dict[str, dict[str, list[str]]]:
        """{asset stem: {version prefix: chunk ids}} for what the index holds now.

        Read from the ids alone: reading every chunk's metadata is slow (seconds at 10,000).
        """
        stored: dict[str, dict[str, list[str]]] = {}
        for chunk_id in self.collection.get(include=[])["ids"]:
            prefix = _version_of(chunk_id)
            stored.setdefault(prefix.split("-", 1)[0], {}).setdefault(prefix, []).append(chunk_id)
        return stored

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
        stored = self.stored_versions()
        seen: set[str] = set()
        pending: list[tuple[Asset, list[Chunk], list[str]]] = []
        for asset in assets:
            stem = _asset_stem(asset)
            seen.add(stem)
            versions = stored.get(stem, {})
            if self._is_current(versions, asset):
                report.unchanged += 1
                continue
            chunks = chunk_markdown(asset.body, max_tokens=self.max_tokens, overlap=self.overlap)
            old_ids = [chunk_id for ids in versions.values() for chunk_id in ids]
            pending.append((asset, chunks, old_ids))
            report.added += not versions
            report.updated += bool(versions)
            report.changed_assets.append(self._label(asset, source))
        self._write(pending, source=source, report=report)
        if prune:
            for stem, versions in stored.items():
                if stem in seen:
                    continue
                ids = [chunk_id for version_ids in versions.values() for chunk_id in version_ids]
                report.changed_assets.append(self._stored_label(ids[0]))
                self.collection.delete(ids=ids)
                report.removed += 1
                report.chunks_removed += len(ids)
        report.chunks_total = self.count()
        if report.chunks_total:
            report.dropped_collections = self._drop_superseded()
        report.seconds = round(time.perf_counter() - started, 3)
        self._answers.clear()
        return report

    def _drop_superseded(self) -> list[str]:
        """Delete the collections of the embedder's earlier releases (their vectors would
        never be searched again), once this index is complete."""
        from chromadb.errors import NotFoundError

        # Optional in the Embedder protocol: only the offline model has had earlier releases.
        retired = getattr(self.embedder, "superseded_model_ids", ())
        current = collection_name(self.embedder.model_id)
        dropped = []
        for model_id in retired:
            name = collection_name(model_id)
            if name == current:
                continue
            try:
                self.client.delete_collection(name)
            except NotFoundError:
                continue
            dropped.append(name)
        return dropped

    def _is_current(self, versions: dict[str, list[str]], asset: Asset) -> bool:
        """One complete version, made from this content with these chunking settings."""
        if len(versions) != 1:
            return False
        [(prefix, ids)] = versions.items()
        expected = f"{_asset_stem(asset)}-{_version(asset, self.chunker)}-"
        return prefix.startswith(expected) and _is_complete(prefix, ids)

    def _stored_label(self, chunk_id: str) -> str:
        """The file name a stored chunk came from, for the report of removed assets."""
        metas = self.collection.get(ids=[chunk_id], include=["metadatas"])["metadatas"] or []
        return str(metas[0].get("asset") or metas[0].get("url")) if metas else chunk_id

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
            new_ids = chunk_ids(asset, self.chunker, len(chunks))
            stale.extend(set(old_ids) - set(new_ids))
            label = self._label(asset, source)
            for chunk_id, chunk in zip(new_ids, chunks, strict=True):
                ids.append(chunk_id)
                texts.append(embedding_text(asset, chunk))
                documents.append(chunk.text)
                metadatas.append(self.chunk_metadata(asset, chunk, label, len(chunks)))
        # Embed, write the new versions, then drop the old ones: a failure at any point leaves
        # a complete version of every asset (ids differ between versions), and the next run
        # repairs the rest.
        vectors = self.embedder.embed_array(texts)
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
        if stale:
            self.collection.delete(ids=stale)
            report.chunks_removed += len(stale)

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

    def _query_vector(self, query: str) -> np.ndarray:
        """The query's embedding; the agent asks the same templated questions many times."""
        cached = self._query_vectors.get(query)
        if cached is None:
            cached = self.embedder.embed_array([query])
            if len(self._query_vectors) >= QUERY_CACHE_SIZE:
                self._query_vectors.pop(next(iter(self._query_vectors)))
            self._query_vectors[query] = cached
        return cached

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
        segment = segment.strip() if segment else None
        key = (query.strip(), stage, segment, k, per_asset)
        kept = self._answers.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return list(kept[1])
        results = self._search(query.strip(), stage, segment, where, k=k, per_asset=per_asset)
        if self.result_ttl_s > 0:
            if len(self._answers) >= RESULT_CACHE_SIZE:
                self._answers.pop(next(iter(self._answers)))
            self._answers[key] = (time.monotonic() + self.result_ttl_s, list(results))
        return results

    def _search(
        self,
        query: str,
        stage: str | None,
        segment: str | None,
        where: Where | None,
        *,
        k: int,
        per_asset: int,
    ) -> list[SearchResult]:
        total = self.count()
        if total == 0:
            return []
        vector = self._query_vector(query)
        fetch = min(total, max(CANDIDATES, k * per_asset * 8))
        while True:
            found = self.collection.query(
                query_embeddings=vector, n_results=fetch, include=["distances"]
            )
            ids, distances = found["ids"][0], (found.get("distances") or [[]])[0]
            facts = self._facts(ids)
            matching = [
                (chunk_id, distance)
                for chunk_id, distance in zip(ids, distances, strict=True)
                if chunk_id in facts and facts[chunk_id].matches(stage, segment)
            ]
            chosen = _diverse(matching, facts, k=k, per_asset=per_asset)
            if len(chosen) >= k or fetch >= total:
                break
            if fetch >= MAX_CANDIDATES:
                # A rare segment or stage: let Chroma filter (slower, but complete).
                found = self.collection.query(
                    query_embeddings=vector,
                    n_results=min(total, fetch),
                    where=where,
                    include=["distances"],
                )
                ids, distances = found["ids"][0], (found.get("distances") or [[]])[0]
                facts = self._facts(ids)
                pairs = list(zip(ids, distances, strict=True))
                chosen = _diverse(pairs, facts, k=k, per_asset=per_asset)
                break
            fetch = min(total, fetch * 4)
        return self._results(chosen)

    def _facts(self, ids: list[str]) -> dict[str, _ChunkFacts]:
        """Asset, stage and segments of these chunk ids, from memory or else from Chroma.

        Facts are kept per asset version (the id before ':'), so one lookup serves every
        chunk of that version: a fresh process learns the library within a few searches.
        """
        unknown: dict[str, str] = {}
        for chunk_id in ids:
            version = _version_of(chunk_id)
            if version not in self._known and version not in unknown:
                unknown[version] = chunk_id
        if unknown:
            got = self.collection.get(ids=list(unknown.values()), include=["metadatas"])
            for chunk_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                segments = cast(list[Any], meta.get("segments") or [])
                self._known[_version_of(chunk_id)] = _ChunkFacts(
                    asset=str(meta.get("asset_key")),
                    stage=str(meta.get("stage")),
                    segments=frozenset(str(s) for s in segments),
                )
        return {
            chunk_id: self._known[_version_of(chunk_id)]
            for chunk_id in ids
            if _version_of(chunk_id) in self._known
        }

    def _results(self, chosen: list[tuple[str, float]]) -> list[SearchResult]:
        if not chosen:
            return []
        got = self.collection.get(
            ids=[chunk_id for chunk_id, _ in chosen], include=["documents", "metadatas"]
        )
        rows = {
            chunk_id: (document, meta)
            for chunk_id, document, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
            )
        }
        results = []
        for chunk_id, distance in chosen:
            if chunk_id not in rows:
                continue  # removed by another process since the query
            document, meta = rows[chunk_id]
            results.append(_result(document, meta, distance))
        return results

    @staticmethod
    def _where(*, stage: str | None, segment: str | None) -> Where | None:
        clauses: list[dict[str, Any]] = []
        if stage:
            if stage not in STAGES:
                raise KnowledgeBaseError(f"stage: {stage!r} is not one of {', '.join(STAGES)}")
            clauses.append({"stage": stage})
        if segment and segment.strip():
            clauses.append({"segments": {"$contains": segment.strip()}})
        if not clauses:
            return None
        return cast(Where, clauses[0] if len(clauses) == 1 else {"$and": clauses})


def _result(document: str | None, meta: Any, distance: float) -> SearchResult:
    return SearchResult(
        asset=str(meta.get("asset", "")),
        chunk=int(meta.get("chunk", 0)),
        score=round(1.0 - float(distance), 4),
        title=str(meta.get("title", "")),
        url=str(meta.get("url", "")),
        stage=str(meta.get("stage", "")),
        segments=tuple(str(s) for s in meta.get("segments") or ()),
        asset_type=str(meta.get("asset_type", "")),
        cta=str(meta.get("cta", "")),
        text=document or "",
        heading=cast(str | None, meta.get("heading")),
    )


def _diverse(
    candidates: list[tuple[str, float]],
    facts: dict[str, _ChunkFacts],
    *,
    k: int,
    per_asset: int,
) -> list[tuple[str, float]]:
    """Nearest first, skipping chunks of an asset that already has `per_asset` results."""
    taken: dict[str, int] = {}
    chosen: list[tuple[str, float]] = []
    for chunk_id, distance in sorted(candidates, key=lambda pair: pair[1]):
        asset = facts[chunk_id].asset if chunk_id in facts else chunk_id
        if taken.get(asset, 0) >= per_asset:
            continue
        taken[asset] = taken.get(asset, 0) + 1
        chosen.append((chunk_id, distance))
        if len(chosen) == k:
            break
    return chosen
