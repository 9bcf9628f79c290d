"""Drafting test helpers: the content library as snippets, leads, a sender, a scripted model."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage

from knowledge.library import Asset, load_library
from tests.fakes import tool_calls
from tools.decide import choose_next_action
from tools.schemas import DecisionContext, LeadBrief, Sender, Snippet

SENDER = Sender(
    name="Maya Rao",
    title="Admissions counsellor",
    company="X Education",
    email="maya.rao@x-education.example",
    address="12 MG Road, Bengaluru 560001, India",
)
LIBRARY: list[Asset] = load_library()

# Leads across the funnel: stages, segments, triggers, with and without record details.
LEADS: dict[str, LeadBrief] = {
    "career-switcher": LeadBrief(
        lead_id=101, first_name="Priya", last_name="Nair", company="Acme Analytics",
        role="Data Analyst", industry="Technology", website="acme-analytics.com",
        segments=["mofu:data-science"], themes=["data-science"], trigger="content_download",
        touches_sent=2, days_since_last_touch=6,
    ),
    "pricing-visitor": LeadBrief(
        lead_id=102, first_name="Rahul", company="Banyan Bank", role="Finance Manager",
        industry="Financial Services", segments=["late:pricing"],
        themes=["finance-for-managers"], trigger="pricing_page_view", score=70, decile=1,
        touches_sent=4, days_since_last_touch=9,
    ),
    "enterprise-lnd": LeadBrief(
        lead_id=103, first_name="Ana", company="Globex Manufacturing", role="Head of L&D",
        industry="Manufacturing", company_size=2000, segments=["tofu:manufacturing", "enterprise"],
    ),
    "anonymous": LeadBrief(lead_id=104, segments=["tofu:unknown"]),
    "dormant": LeadBrief(
        lead_id=105, first_name="sam", role="HR Manager", segments=["re-engage"],
        themes=["hr-analytics"], touches_sent=5, days_since_last_touch=12, unopened_in_a_row=3,
    ),
    "trial-user": LeadBrief(
        lead_id=106, first_name="Lee", company="Initech", role="Product Manager",
        segments=["late:trial", "cluster:pricing-page-visitors"], themes=["product-management"],
        trigger="trial_signup", touches_sent=3, days_since_last_touch=5,
    ),
    "webinar-marketer": LeadBrief(
        lead_id=107, first_name="Chen", role="Marketing Executive",
        industry="Marketing & Advertising", segments=["mofu:digital-marketing"],
        themes=["digital-marketing"], trigger="webinar_attended",
    ),
}  # fmt: skip


def snippets_for(lead: LeadBrief, stage: str, k: int = 3) -> list[Snippet]:
    """The `k` library assets that best match the lead's segments and the stage, as snippets
    (a stand-in for retrieval that keeps these tests free of an index)."""
    segments = set(lead.segments)
    ranked = sorted(
        LIBRARY,
        key=lambda asset: (
            -(3 * (asset.stage == stage) + 2 * len(segments & set(asset.segments))),
            str(asset.path),
        ),
    )
    return [to_snippet(asset) for asset in ranked[:k]]


def to_snippet(asset: Asset) -> Snippet:
    return Snippet(
        title=asset.title,
        url=asset.url,
        stage=asset.stage,
        asset_type=asset.asset_type,
        cta=asset.cta,
        text=asset.body,
    )


def context_for(lead: LeadBrief, *, sender: Sender | None = SENDER) -> DecisionContext:
    """A drafting context as the graph builds it: the policy's action and matching snippets."""
    bare = DecisionContext(lead=lead, sender=sender)
    action = choose_next_action(bare)
    return bare.model_copy(update={"action": action, "snippets": snippets_for(lead, action.stage)})


def tool_call(name: str, args: dict[str, Any], usage: tuple[int, int] | None = None) -> AIMessage:
    """An assistant message calling one tool, as a hosted model answers structured output."""
    return tool_calls((name, args), usage=usage)
