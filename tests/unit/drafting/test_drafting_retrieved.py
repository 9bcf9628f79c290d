"""Drafts from snippets as retrieval hands them over: flattened, budgeted chunks of the library."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.chunking import chunk_markdown
from tests.unit.drafting.helpers import LEADS, LIBRARY, SENDER
from tools.content import compact, find_snippets, fit_tokens
from tools.decide import choose_next_action
from tools.drafting.render import render_email
from tools.drafting.templates import template_email, template_video_script
from tools.guardrails import check_email, check_video_script
from tools.schemas import DecisionContext, Snippet

UNSUBSCRIBE = "https://www.x-education.example/unsubscribe?t=1"
# Assets for the small real index: one per stage, and the enterprise case study.
INDEXED = (
    "upskilling-while-working-full-time.md",
    "data-science-career-guide.md",
    "northwind-analytics-case-study.md",
    "pricing-and-scholarships.md",
)


def chunk_snippets() -> list[Snippet]:
    """Every chunk of every asset, as `find_snippets` would quote it (plain text, budgeted)."""
    snippets = []
    for asset in LIBRARY:
        for chunk in chunk_markdown(asset.body):
            snippets.append(
                Snippet(
                    title=asset.title,
                    url=asset.url,
                    stage=asset.stage,
                    asset_type=asset.asset_type,
                    cta=asset.cta,
                    text=fit_tokens(compact(chunk.text), 180),
                )
            )
    return snippets


CHUNKS = chunk_snippets()


def ctx_with(lead_name: str, snippets: list[Snippet]) -> DecisionContext:
    bare = DecisionContext(lead=LEADS[lead_name], sender=SENDER)
    return bare.model_copy(update={"action": choose_next_action(bare), "snippets": snippets})


@pytest.mark.parametrize("lead_name", ["career-switcher", "enterprise-lnd", "anonymous"])
def test_every_chunk_makes_a_sendable_email(lead_name: str) -> None:
    assert len(CHUNKS) > 50
    for snippet in CHUNKS:
        ctx = ctx_with(lead_name, [snippet])
        draft = template_email(ctx)
        rendered = render_email(draft, ctx, UNSUBSCRIBE)
        report = check_email(draft, ctx, rendered=rendered, unsubscribe_url=UNSUBSCRIBE)
        assert report.ok, (snippet.text, report.summary())
        assert draft.cta_url == snippet.url


@pytest.mark.parametrize("lead_name", ["pricing-visitor", "trial-user"])
def test_every_chunk_makes_a_timed_video_script(lead_name: str) -> None:
    for snippet in CHUNKS:
        ctx = ctx_with(lead_name, [snippet])
        script = template_video_script(ctx)
        assert 30 <= script.duration_s <= 60, snippet.text
        report = check_video_script(script, ctx)
        assert report.ok, (snippet.text, report.summary())


def test_openers_are_whole_sentences_not_flattened_headings() -> None:
    for snippet in CHUNKS:
        first = template_email(ctx_with("career-switcher", [snippet])).paragraphs[0]
        opener = first.split(". ", 1)[1] if ". " in first else first
        # a heading run into its text ("Next step Compare ...") never opens an email
        assert not opener.startswith(("Next step", "Step ", "What the video covers")), opener


@pytest.fixture(scope="module")
def knowledge_base(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """A real Chroma index (offline MiniLM embeddings) over a few library assets."""
    root = tmp_path_factory.mktemp("kb")
    library = root / "library"
    library.mkdir()
    for asset in LIBRARY:
        if asset.path.name in INDEXED:
            (library / asset.path.name).write_bytes(Path(asset.path).read_bytes())
    base = KnowledgeBase.open(root / "index")
    base.index_folder(library)
    return base


def test_drafts_from_real_retrieval_pass_the_guardrails(knowledge_base: KnowledgeBase) -> None:
    for name, lead in LEADS.items():
        bare = DecisionContext(lead=lead, sender=SENDER)
        action = choose_next_action(bare)
        funnel = next((s for s in lead.segments if not s.startswith(("cluster:", "enter"))), None)
        snippets = find_snippets(knowledge_base, query=action.query or "upskilling", segment=funnel)
        assert snippets, name
        ctx = bare.model_copy(update={"action": action, "snippets": snippets})
        email = template_email(ctx)
        assert check_email(email, ctx).ok, (name, check_email(email, ctx).summary())
        assert email.cta_url in {snippet.url for snippet in snippets}
        script = template_video_script(ctx)
        assert check_video_script(script, ctx).ok, (name, check_video_script(script, ctx))
