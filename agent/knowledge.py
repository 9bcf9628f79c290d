"""Wiring: open the knowledge base that the settings describe (embedded or server, embeddings)."""

from __future__ import annotations

from pathlib import Path

from agent.settings import Settings, get_settings
from knowledge.base import Embedder, IndexReport, KnowledgeBase
from knowledge.embeddings import MiniLMEmbeddingFunction, OpenAIEmbeddingFunction
from knowledge.library import DEFAULT_SOURCE


def kb_dir(settings: Settings) -> Path:
    """Where the embedded Chroma index lives: var/kb."""
    return settings.var_dir / "kb"


def embedder_for(settings: Settings) -> Embedder:
    """OpenAI embeddings with an OpenAI key (and no other server); the offline model otherwise.

    A self-hosted chat server (OPENAI_BASE_URL) rarely serves embeddings, so it keeps MiniLM.
    """
    if settings.model_provider == "openai":
        return OpenAIEmbeddingFunction(api_key=settings.openai_api_key)
    return MiniLMEmbeddingFunction()


def open_knowledge_base(
    settings: Settings | None = None, *, path: Path | None = None
) -> KnowledgeBase:
    """The knowledge base: embedded under `path` when given, else the Chroma server at
    CHROMA_HOST, else embedded under var/kb."""
    settings = settings or get_settings()
    return KnowledgeBase.open(
        path if path is not None else kb_dir(settings),
        host=None if path is not None else settings.chroma_host,
        port=settings.chroma_port,
        embedder=embedder_for(settings),
    )


def index_library(
    settings: Settings | None = None, *, source: Path | None = None, path: Path | None = None
) -> IndexReport:
    """Bring the index in line with the library at `source` (the shipped one by default)."""
    kb = open_knowledge_base(settings, path=path)
    return kb.index_folder(source or DEFAULT_SOURCE)
