"""A small content library written per test, and knowledge bases over it (real Chroma, ONNX)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.embeddings import MiniLMEmbeddingFunction

SITE = "https://learn.example"

ASSETS: dict[str, dict[str, Any]] = {
    "pricing.md": {
        "title": "Programme fees and ways to pay",
        "stage": "decision",
        "segments": ["late:pricing", "enterprise"],
        "asset_type": "pricing page",
        "url": f"{SITE}/pricing",
        "cta": "Check your scholarship eligibility",
        "body": [
            "# Programme fees\n\nThe Data Science programme costs 1,60,000 rupees including GST. "
            "The fee covers live classes, recordings, mentoring and the capstone project.",
            "## Instalments\n\nYou can pay the fee in three or six monthly instalments at no "
            "extra cost, or spread it over 12 months with a no-cost EMI plan.",
            "## Paying in full\n\nPaying the whole fee at enrolment gives you a five percent "
            "discount on the programme price.",
            "## Employer sponsorship\n\nMany employers pay part of the fee. We invoice your "
            "company directly and send the sponsorship letter your finance team needs.",
        ],
    },
    "scholarships.md": {
        "title": "Scholarships: who qualifies and how much they cover",
        "stage": "decision",
        "segments": ["late:pricing"],
        "asset_type": "FAQ",
        "url": f"{SITE}/scholarships",
        "cta": "Apply for a scholarship",
        "body": [
            "# Scholarships\n\nWomen in technology, early-career learners and people returning "
            "to work can get a scholarship of up to 30 percent of the programme fee."
        ],
    },
    "stall.md": {
        "title": "Why most people never finish an online course",
        "stage": "problem",
        "segments": ["tofu:technology", "re-engage"],
        "asset_type": "blog post",
        "url": f"{SITE}/blog/why-courses-stall",
        "cta": "Read the full article",
        "body": [
            "# Why courses stall\n\nWorking professionals start courses in January and stop by "
            "March. Long weeks at the office leave no energy for evening study, and nobody "
            "notices when a self-paced learner falls behind."
        ],
    },
    "security.md": {
        "title": "Security and data protection for enterprise buyers",
        "stage": "decision",
        "segments": ["enterprise"],
        "asset_type": "security pack",
        "url": f"{SITE}/security",
        "cta": "Request the security pack",
        "body": [
            "# Security\n\nLearner data is encrypted at rest and in transit, hosted in Mumbai, "
            "and covered by our data processing agreement. We complete vendor security "
            "questionnaires for procurement teams within five working days."
        ],
    },
    "career.md": {
        "title": "A route from your current job into a data science role",
        "stage": "solution",
        "segments": ["mofu:data-science", "tofu:technology"],
        "asset_type": "guide",
        "url": f"{SITE}/guides/data-science-career",
        "cta": "Download the career guide",
        "body": [
            "# Becoming a data scientist\n\nPick the role first: analyst, machine learning "
            "engineer or analytics engineer. Then learn Python and SQL, build two portfolio "
            "projects from your own industry and practise interviews."
        ],
    },
}


def render(meta: dict[str, Any]) -> str:
    segments = ", ".join(meta["segments"])
    header = "\n".join(
        [
            "---",
            f'title: "{meta["title"]}"',
            f"stage: {meta['stage']}",
            f"segments: [{segments}]",
            f"asset_type: {meta['asset_type']}",
            f"url: {meta['url']}",
            f"cta: {meta['cta']}",
            "---",
        ]
    )
    return header + "\n\n" + "\n\n".join(meta["body"]) + "\n"


def write_library(folder: Path, names: Sequence[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names or ASSETS:
        (folder / name).write_text(render(ASSETS[name]), encoding="utf-8")
    return folder


class CountingEmbedder(MiniLMEmbeddingFunction):
    """The real offline model, counting the texts it embeds (to prove what was skipped)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        return super().embed_array(texts)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    return write_library(tmp_path / "library")


@pytest.fixture
def counting() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def kb(tmp_path: Path, counting: CountingEmbedder) -> KnowledgeBase:
    return KnowledgeBase.open(tmp_path / "kb", embedder=counting)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """One indexed knowledge base shared by the read-only tests of a module."""
    root = tmp_path_factory.mktemp("indexed")
    base = KnowledgeBase.open(root / "kb")
    base.index_folder(write_library(root / "library"))
    return base
