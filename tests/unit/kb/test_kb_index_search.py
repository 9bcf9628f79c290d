"""The knowledge base on real Chroma: incremental indexing, filters, diversity, citations."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from knowledge.base import KnowledgeBase, KnowledgeBaseError, collection_name
from knowledge.library import LibraryError
from tests.unit.kb.conftest import ASSETS, SITE, CountingEmbedder, render, write_library

ROOT = Path(__file__).resolve().parents[3]


def test_reindexing_an_unchanged_folder_embeds_nothing(
    kb: KnowledgeBase, library: Path, counting: CountingEmbedder
) -> None:
    first = kb.index_folder(library)
    assert (first.added, first.updated, first.removed, first.unchanged) == (len(ASSETS), 0, 0, 0)
    assert first.chunks_embedded == counting.embedded == first.chunks_total == kb.count()
    before = counting.embedded
    second = kb.index_folder(library)
    assert (second.added, second.updated, second.removed) == (0, 0, 0)
    assert second.unchanged == len(ASSETS)
    assert second.chunks_embedded == 0 and counting.embedded == before
    assert second.chunks_total == first.chunks_total


def test_an_index_of_the_earlier_embedding_model_is_replaced_not_mixed(
    kb: KnowledgeBase, library: Path
) -> None:
    # An index written by the release whose embedder had the id nurture-minilm-l6-v2-int8.
    old = kb.client.create_collection("content-nurture-minilm-l6-v2-int8")
    old.add(ids=["a"], embeddings=np.full((1, 384), 0.05, np.float32), documents=["old vectors"])
    assert kb.count() == 0  # the current model's collection starts empty: everything embeds
    first = kb.index_folder(library)
    assert first.chunks_embedded == first.chunks_total > 0
    assert first.dropped_collections == ["content-nurture-minilm-l6-v2-int8"]
    assert "dropped content-nurture-minilm-l6-v2-int8" in first.summary()
    assert [c.name for c in kb.client.list_collections()] == [collection_name(kb.embedder.model_id)]
    assert kb.index_folder(library).dropped_collections == []


def test_a_changed_file_replaces_its_chunks(
    kb: KnowledgeBase, library: Path, counting: CountingEmbedder
) -> None:
    kb.index_folder(library)
    total_before = kb.count()
    pricing_before = len(kb.collection.get(where={"url": f"{SITE}/pricing"})["ids"])
    assert pricing_before > 1
    counting.embedded = 0
    new_body = "# Fees\n\nEvery programme now costs 99,000 rupees."
    changed = dict(ASSETS["pricing.md"], body=[new_body])
    (library / "pricing.md").write_text(render(changed), encoding="utf-8")
    report = kb.index_folder(library)
    assert (report.added, report.updated, report.unchanged) == (0, 1, len(ASSETS) - 1)
    assert report.changed_assets == ["pricing.md"]
    # Only the changed asset was embedded: its one new chunk.
    assert counting.embedded == report.chunks_embedded == 1
    stored = kb.collection.get(where={"url": f"{SITE}/pricing"}, include=["documents"])
    assert stored["documents"] == [new_body]
    assert kb.count() == total_before - pricing_before + 1


def test_a_deleted_file_disappears_and_a_renamed_one_is_kept(
    kb: KnowledgeBase, library: Path, counting: CountingEmbedder
) -> None:
    kb.index_folder(library)
    (library / "security.md").unlink()
    (library / "stall.md").rename(library / "why-courses-stall.md")
    counting.embedded = 0
    report = kb.index_folder(library)
    assert (report.added, report.updated, report.removed) == (0, 0, 1)
    assert report.unchanged == len(ASSETS) - 1 and counting.embedded == 0
    assert report.changed_assets == ["security.md"]
    assert kb.collection.get(where={"url": f"{SITE}/security"})["ids"] == []
    urls = {r.url for r in kb.search("encrypted learner data and vendor questionnaires", k=5)}
    assert f"{SITE}/security" not in urls and urls


def test_a_half_written_asset_is_rewritten(
    kb: KnowledgeBase, library: Path, counting: CountingEmbedder
) -> None:
    kb.index_folder(library)
    pricing = kb.collection.get(where={"url": f"{SITE}/pricing"})["ids"]
    kb.collection.delete(ids=[pricing[-1]])  # as if a run died between two writes
    counting.embedded = 0
    report = kb.index_folder(library)
    assert (report.updated, report.unchanged) == (1, len(ASSETS) - 1)
    assert counting.embedded == len(pricing)
    assert sorted(kb.collection.get(where={"url": f"{SITE}/pricing"})["ids"]) == sorted(pricing)


def test_changing_the_chunk_settings_reembeds_everything(
    tmp_path: Path, library: Path, counting: CountingEmbedder
) -> None:
    KnowledgeBase.open(tmp_path / "kb", embedder=counting).index_folder(library)
    finer = KnowledgeBase(
        KnowledgeBase.open(tmp_path / "kb").client, counting, max_tokens=40, overlap=4
    )
    report = finer.index_folder(library)
    assert report.updated == len(ASSETS) and report.unchanged == 0
    metas = finer.collection.get(include=["metadatas"])["metadatas"] or []
    assert {m["chunker"] for m in metas} == {finer.chunker}


def test_a_bad_library_is_refused_before_the_index_is_touched(
    kb: KnowledgeBase, library: Path
) -> None:
    kb.index_folder(library)
    count = kb.count()
    (library / "broken.md").write_text("---\ntitle: x\nstage: later\n---\nbody\n")
    with pytest.raises(LibraryError) as caught:
        kb.index_folder(library)
    assert "broken.md" in str(caught.value) and "'stage'" in str(caught.value)
    assert kb.count() == count


def test_results_cite_their_asset_and_chunk(indexed: KnowledgeBase) -> None:
    results = indexed.search("can I pay the fee in monthly instalments?", k=3)
    top = results[0]
    assert top.url == f"{SITE}/pricing" and top.title == ASSETS["pricing.md"]["title"]
    assert top.heading == "Instalments" and "instalments" in top.text
    assert top.citation == f"{top.title} ({top.url})"
    assert top.asset == "pricing.md" and top.chunk >= 1
    assert top.stage == "decision" and top.segments == ("late:pricing", "enterprise")
    assert top.cta == ASSETS["pricing.md"]["cta"]
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 1


def test_results_come_from_different_assets(indexed: KnowledgeBase) -> None:
    query = "programme fee, instalments, paying in full and employer sponsorship"
    diverse = indexed.search(query, k=3)
    assert len({r.url for r in diverse}) == 3
    # The pricing page holds the four best chunks; two per asset lets a second one in.
    two_each = indexed.search(query, k=3, per_asset=2)
    assert [r.url for r in two_each].count(f"{SITE}/pricing") == 2


def test_stage_and_segment_filters(indexed: KnowledgeBase) -> None:
    query = "paying for the course"
    problem = indexed.search(query, stage="problem", k=5)
    assert [r.url for r in problem] == [f"{SITE}/blog/why-courses-stall"]
    enterprise = indexed.search(query, segment="enterprise", k=5)
    assert {r.url for r in enterprise} == {f"{SITE}/pricing", f"{SITE}/security"}
    both = indexed.search(query, stage="decision", segment="late:pricing", k=5)
    assert {r.url for r in both} == {f"{SITE}/pricing", f"{SITE}/scholarships"}
    assert indexed.search(query, segment="tofu:agriculture") == []


def test_bad_requests_say_what_is_wrong(indexed: KnowledgeBase) -> None:
    with pytest.raises(KnowledgeBaseError, match="stage: 'late' is not one of"):
        indexed.search("fees", stage="late")
    with pytest.raises(KnowledgeBaseError, match="query"):
        indexed.search("   ")
    with pytest.raises(KnowledgeBaseError, match="k: must be at least 1"):
        indexed.search("fees", k=0)


def test_an_empty_index_returns_nothing(kb: KnowledgeBase) -> None:
    assert kb.search("anything") == []


_REOPEN = """
import sys
import chromadb
import knowledge.embeddings  # registers the embedding function with Chroma
client = chromadb.PersistentClient(sys.argv[1], chromadb.Settings(anonymized_telemetry=False))
[name] = [c.name for c in client.list_collections()]
found = client.get_collection(name).query(query_texts=["monthly instalments"], n_results=1)
print(found["metadatas"][0][0]["url"])
"""


def test_a_collection_reopens_with_its_registered_embedding(tmp_path: Path) -> None:
    KnowledgeBase.open(tmp_path / "kb").index_folder(write_library(tmp_path / "lib"))
    done = subprocess.run(
        [sys.executable, "-c", _REOPEN, str(tmp_path / "kb")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"{SITE}/pricing"


def test_filters_hold_when_candidates_run_short_and_chroma_filters(
    indexed: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = {r.url for r in indexed.search("paying for the course", segment="late:pricing", k=5)}
    # Force the slow path: too few nearest candidates, then Chroma's own metadata filter.
    monkeypatch.setattr("knowledge.base.CANDIDATES", 1)
    monkeypatch.setattr("knowledge.base.MAX_CANDIDATES", 2)
    found = indexed.search("paying for the course", segment="late:pricing", k=5)
    assert {r.url for r in found} == expected == {f"{SITE}/pricing", f"{SITE}/scholarships"}
    problem = indexed.search("paying for the course", stage="problem", k=3)
    assert [r.url for r in problem] == [f"{SITE}/blog/why-courses-stall"]


def test_a_reader_sees_another_writers_changes(tmp_path: Path) -> None:
    library = write_library(tmp_path / "lib")
    reader = KnowledgeBase.open(tmp_path / "kb")
    KnowledgeBase.open(tmp_path / "kb").index_folder(library)
    query = "encrypted learner data and vendor questionnaires"
    assert reader.search(query, stage="decision", k=1)[0].url == f"{SITE}/security"
    moved = dict(ASSETS["security.md"], stage="vendor")
    (library / "security.md").write_text(render(moved), encoding="utf-8")
    KnowledgeBase.open(tmp_path / "kb").index_folder(library)
    # The reader learned the old chunk was a decision asset; the new chunk has a new id.
    assert reader.search(query, stage="vendor", k=1)[0].url == f"{SITE}/security"
    assert f"{SITE}/security" not in {r.url for r in reader.search(query, stage="decision")}


def test_kept_answers_expire_and_the_readers_own_index_clears_them(tmp_path: Path) -> None:
    library = write_library(tmp_path / "lib")
    reader = KnowledgeBase.open(tmp_path / "kb")
    reader.index_folder(library)
    reader.result_ttl_s = 0.5
    query = "encrypted learner data and vendor questionnaires"
    first = reader.search(query, stage="decision", k=1)
    assert first[0].url == f"{SITE}/security"
    moved = dict(ASSETS["security.md"], stage="vendor")
    (library / "security.md").write_text(render(moved), encoding="utf-8")
    KnowledgeBase.open(tmp_path / "kb").index_folder(library)
    # Another process re-indexed: the kept answer stands until it expires...
    assert reader.search(query, stage="decision", k=1) == first
    time.sleep(0.6)
    assert f"{SITE}/security" not in {r.url for r in reader.search(query, stage="decision")}
    # ...while the reader's own index run drops what it kept at once.
    reader.result_ttl_s = 60.0
    kept = reader.search(query, stage="vendor", k=1)
    assert kept[0].url == f"{SITE}/security"
    (library / "security.md").write_text(render(ASSETS["security.md"]), encoding="utf-8")
    reader.index_folder(library)
    assert f"{SITE}/security" not in {r.url for r in reader.search(query, stage="vendor")}
