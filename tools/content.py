"""Content for a touch: compact, cited snippets from the knowledge base within a token budget."""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.tools import BaseTool, tool

from knowledge.base import KnowledgeBase, KnowledgeBaseError, SearchResult
from knowledge.chunking import opening_heading, plain_text
from knowledge.tokens import count_tokens, encoding
from tools.schemas import Snippet

DEFAULT_TOKEN_BUDGET = 600
MAX_K = 8
# Below this a snippet says too little to cite: leave it out rather than cut it to nothing.
MIN_SNIPPET_TOKENS = 24
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def compact(text: str) -> str:
    """Markdown to one plain line: headings, emphasis, bullets and table bars removed.

    A section heading that opens the text reads as its lead-in ("Pricing: One price per
    programme..."), and is left out when the text starts by repeating it.
    """
    opening = opening_heading(text)
    if opening is None:
        return plain_text(text)
    heading, body = plain_text(opening[0]), plain_text(opening[1])
    if not body or not heading:
        return heading or body
    if body.lower().startswith(heading.lower()):
        return body
    return f"{heading}{' ' if heading[-1] in '.?!:' else ': '}{body}"


def fit_tokens(text: str, budget: int) -> str:
    """`text` cut to at most `budget` tokens, at a sentence end when one is close enough."""
    if count_tokens(text) <= budget:
        return text
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}".strip()
        if count_tokens(candidate + " …") > budget:
            break
        kept = candidate
    if count_tokens(kept) >= budget // 2:
        return kept
    enc = encoding()
    tokens = enc.encode_ordinary(text)
    cut = enc.decode(tokens[: max(budget - 2, 1)]).rstrip()
    while cut and count_tokens(cut + "…") > budget:
        cut = cut[:-1].rstrip()
    return cut + "…"


def _snippet(result: SearchResult, text: str) -> Snippet:
    return Snippet(
        title=result.title,
        url=result.url,
        stage=result.stage,  # validated by the library loader
        asset_type=result.asset_type or None,
        cta=result.cta or None,
        text=text,
        score=result.score,
    )


def _search_relaxed(
    kb: KnowledgeBase, *, query: str, stage: str | None, segment: str | None, k: int
) -> tuple[list[SearchResult], bool]:
    """Results for the exact filters, topped up from the stage alone when the segment is thin."""
    results = kb.search(query, stage=stage, segment=segment, k=k)
    if len(results) >= k or not segment:
        return results, False
    seen = {r.url for r in results}
    extra = [r for r in kb.search(query, stage=stage, k=k) if r.url not in seen]
    return results + extra[: k - len(results)], bool(extra)


def find_snippets(
    kb: KnowledgeBase,
    *,
    query: str,
    stage: str | None = None,
    segment: str | None = None,
    k: int = 3,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
) -> list[Snippet]:
    """Up to `k` snippets from different assets, best first, that together cost at most
    `token_budget` tiktoken tokens as JSON (citation, stage, call to action and text).

    Texts are cut at sentence ends to fit; when the budget cannot hold `k` useful snippets
    it holds fewer. When fewer than `k` assets match the segment, the rest come from the
    stage alone.
    Raises KnowledgeBaseError for an empty query or an unknown stage.
    """
    return _find(kb, query=query, stage=stage, segment=segment, k=k, budget=token_budget)[0]


def _find(
    kb: KnowledgeBase,
    *,
    query: str,
    stage: str | None,
    segment: str | None,
    k: int,
    budget: int,
) -> tuple[list[Snippet], bool]:
    k = max(1, min(k, MAX_K))
    results, relaxed = _search_relaxed(kb, query=query, stage=stage, segment=segment, k=k)
    snippets: list[Snippet] = []
    left = budget
    for position, result in enumerate(results):
        # An even share of what is left, so the best result cannot starve the others.
        snippet = _fit(result, left // (len(results) - position))
        if snippet is None:
            # Too tight for all of them: fewer snippets, the best ones.
            snippet = _fit(result, left)
            if snippet is not None:
                snippets.append(snippet)
            break
        snippets.append(snippet)
        left -= snippet_tokens(snippet)
    return snippets, relaxed


def _fit(result: SearchResult, budget: int) -> Snippet | None:
    """The result as a snippet costing at most `budget` tokens, or None if its text would be
    too short to be worth citing."""
    room = budget - snippet_tokens(_snippet(result, ""))
    text = compact(result.text)
    while room >= MIN_SNIPPET_TOKENS:
        snippet = _snippet(result, fit_tokens(text, room))
        over = snippet_tokens(snippet) - budget
        if over <= 0:
            return snippet
        room -= over  # JSON escaping made the text dearer than counted
    return None


def snippet_tokens(snippet: Snippet) -> int:
    """Tokens one snippet costs in a prompt: its JSON, as the decision context carries it."""
    return count_tokens(snippet.model_dump_json(exclude_none=True))


def snippets_tokens(snippets: list[Snippet]) -> int:
    """Tokens the snippets cost in a prompt, counted as `find_snippets` budgets them."""
    return sum(snippet_tokens(s) for s in snippets)


def search_content_tool(kb: KnowledgeBase, *, token_budget: int = DEFAULT_TOKEN_BUDGET) -> BaseTool:
    """The `search_content` chat tool over this knowledge base."""

    @tool
    def search_content(
        query: str, stage: str | None = None, segment: str | None = None, k: int = 3
    ) -> str:
        """Search the company's content library (blog posts, guides, webinars, case studies,
        pricing, security pack...) for passages to quote or link in a message.

        query: what the content should be about, in plain words ("ROI of training a team").
        stage: problem | solution | vendor | decision, the buying stage the content serves.
        segment: a lead segment the content is written for, e.g. late:pricing, enterprise,
            mofu:data-science, tofu:healthcare.
        k: how many assets (1-8); each result comes from a different asset.

        Returns JSON: {"snippets": [{"title", "url", "stage", "asset_type", "cta", "text",
        "score"}]}, best first. Cite a snippet by its title and url.
        """
        try:
            found, relaxed = _find(
                kb, query=query, stage=stage, segment=segment, k=k, budget=token_budget
            )
        except KnowledgeBaseError as exc:
            return json.dumps({"error": str(exc)})
        result: dict[str, Any] = {
            "query": query,
            "snippets": [s.model_dump(exclude_none=True) for s in found],
        }
        if relaxed:
            result["note"] = f"few assets for segment {segment}; others are for the stage alone"
        return json.dumps(result, ensure_ascii=False)

    return search_content
