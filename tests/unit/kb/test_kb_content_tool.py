"""find_snippets and the search_content tool: cited snippets within a token budget."""

from __future__ import annotations

import json

import pytest

from knowledge.base import KnowledgeBase, KnowledgeBaseError
from knowledge.tokens import count_tokens
from tests.unit.kb.conftest import ASSETS, SITE
from tools.content import compact, find_snippets, fit_tokens, search_content_tool, snippets_tokens
from tools.schemas import Snippet

QUERY = "fees, instalments, scholarships and paying for the programme"


@pytest.mark.parametrize("budget", [90, 200, 400, 2000])
def test_snippets_stay_within_the_token_budget(indexed: KnowledgeBase, budget: int) -> None:
    snippets = find_snippets(indexed, query=QUERY, k=3, token_budget=budget)
    assert snippets and all(isinstance(s, Snippet) for s in snippets)
    assert snippets_tokens(snippets) <= budget
    assert len({s.url for s in snippets}) == len(snippets)
    # What is counted is what a prompt carries: the snippets' JSON.
    assert snippets_tokens(snippets) == sum(
        count_tokens(s.model_dump_json(exclude_none=True)) for s in snippets
    )


def test_a_tight_budget_shortens_texts_and_a_loose_one_keeps_them_whole(
    indexed: KnowledgeBase,
) -> None:
    loose = find_snippets(indexed, query=QUERY, k=3, token_budget=2000)
    tight = find_snippets(indexed, query=QUERY, k=3, token_budget=240)
    assert snippets_tokens(tight) < snippets_tokens(loose)
    whole = {s.url: s.text for s in loose}
    assert any(len(s.text) < len(whole[s.url]) for s in tight)
    for snippet in loose:
        assert "#" not in snippet.text and "\n" not in snippet.text
        assert snippet.cta and snippet.asset_type and snippet.score is not None


def test_a_thin_segment_is_topped_up_from_the_stage(indexed: KnowledgeBase) -> None:
    snippets = find_snippets(indexed, query=QUERY, stage="decision", segment="enterprise", k=3)
    urls = [s.url for s in snippets]
    assert len(urls) == 3 and set(urls[:2]) == {f"{SITE}/pricing", f"{SITE}/security"}
    assert urls[2] == f"{SITE}/scholarships"
    assert all(s.stage == "decision" for s in snippets)


def test_a_budget_too_small_for_k_gives_fewer_better_snippets(indexed: KnowledgeBase) -> None:
    best = find_snippets(indexed, query=QUERY, k=3, token_budget=2000)
    few = find_snippets(indexed, query=QUERY, k=3, token_budget=90)
    assert 1 <= len(few) < 3 and few[0].url == best[0].url
    assert find_snippets(indexed, query=QUERY, k=3, token_budget=10) == []


def test_fit_tokens_cuts_at_a_sentence_end_or_marks_the_cut() -> None:
    text = "First sentence is short. " * 10 + "A tail."
    cut = fit_tokens(text, 30)
    assert count_tokens(cut) <= 30 and cut.endswith("short.")
    one_long = "word " * 200
    cut = fit_tokens(one_long, 20)
    assert count_tokens(cut) <= 20 and cut.endswith("…")
    assert fit_tokens("fits", 20) == "fits"
    assert compact("## Title\n\n- **bold** item\n| a | b |") == "Title: bold item a b"


def test_an_opening_heading_reads_as_a_lead_in_and_is_not_repeated() -> None:
    assert compact("## Scholarships\n\nScholarships are awarded on merit.") == (
        "Scholarships are awarded on merit."
    )
    assert compact("### Is it worth it?\n\nCompare it with the alternative.") == (
        "Is it worth it? Compare it with the alternative."
    )
    assert compact("Intro text.\n\n## Later heading\n\nMore.") == "Intro text. Later heading More."
    assert compact("## Only a heading") == "Only a heading"


def test_the_tool_shows_the_model_only_its_arguments(indexed: KnowledgeBase) -> None:
    tool = search_content_tool(indexed, token_budget=300)
    assert tool.name == "search_content"
    assert set(tool.args) == {"query", "stage", "segment", "k"}
    assert "problem | solution | vendor | decision" in (tool.description or "")
    result = json.loads(tool.invoke({"query": "is learner data safe?", "k": 2}))
    assert result["snippets"][0]["url"] == f"{SITE}/security"
    assert result["snippets"][0]["title"] == ASSETS["security.md"]["title"]
    assert len(result["snippets"]) == 2
    assert snippets_tokens([Snippet(**s) for s in result["snippets"]]) <= 300


def test_the_tool_reports_bad_arguments_as_json(indexed: KnowledgeBase) -> None:
    tool = search_content_tool(indexed)
    assert "stage" in json.loads(tool.invoke({"query": "fees", "stage": "bottom"}))["error"]
    with pytest.raises(KnowledgeBaseError):
        find_snippets(indexed, query="")
