"""Intent classification: many phrasings of each thing a marketer or a manager asks."""

from __future__ import annotations

import pytest

from agent.models.intents import INTENTS, RULES, classify

PHRASINGS: dict[str, list[str]] = {
    "design_sequence": [
        "Design a 60-day nurture for mid-market fintech leads who downloaded the security "
        "whitepaper",
        "Can you build a nurture sequence for enterprise leads?",
        "plan an 8-week drip for dormant leads",
        "propose a strategy for people who asked for a demo",
        "Design a 60-day nurture for fintech leads and save it as Fintech 60",
        "I need a re-engagement sequence for leads silent for 90 days",
    ],
    "save_sequence": ["save it as 'Fintech security 60'", "Save this", "call it Enterprise 60"],
    "set_sequence_status": [
        "pause the core sequence",
        "resume the 'enterprise' track",
        "archive sequence core",
        'activate "Fintech 60"',
    ],
    "show_sequence": ["show the core sequence", "what's in the enterprise sequence?"],
    "list_sequences": ["list sequences", "what sequences do we have?", "which tracks are running"],
    "list_approvals": [
        "what's waiting for approval?",
        "show me pending approvals",
        "anything for me to approve?",
        "show approved drafts",
    ],
    "hand_off": [
        "hand off lead 4411",
        "hand lead 4411 off to sales, they asked for a demo",
        "send lead 4411 to sales",
        "pass Acme's VP to an SDR",
        "Move lead 4411 to an SDR",
    ],
    "schedule_touch": ["schedule it for tomorrow at 9am", "send it now", "schedule draft 55"],
    "draft_video": ["write a video script for lead 4411", "make a personalized video for #12"],
    "draft_email": [
        "draft the next touch for Acme's VP",
        "write an email to lead 4411 about pricing",
        "compose a follow-up for Ana Ruiz",
        "what should the next email to lead 12 say?",
        "Send lead 4411 the ROI calculator",
    ],
    "explain_score": [
        "why is lead 4411 top decile?",
        "what's the score of lead 12?",
        "how hot is Acme's VP?",
        "why is Ana ranked so high",
        "how is lead 4411 doing?",
        "is Chidi Okafor sales-ready?",
    ],
    "segment_lead": ["what segment is lead 4411 in?", "which cluster is #12 in"],
    "pipeline_summary": [
        "How is the pipeline this month?",
        "pipeline summary for the last 30 days",
        "how many MQLs did we get last month?",
        "how are enterprise leads doing this quarter?",
        "show me the funnel",
        "How many leads are in nurture?",
        "How did the core sequence perform last month?",
    ],
    "search_content": [
        "find content about ROI for the decision stage",
        "do we have a case study for fintech?",
        "what whitepapers could I send to a CFO?",
    ],
    "find_leads": ["find leads at Acme", "who is Acme's VP?", "look up contacts at Kestrel Bank"],
    "top_leads": [
        "what are our best leads?",
        "which leads should I call today?",
        "list hot leads",
        "who are our hottest leads?",
    ],
    "report_experiments": [
        "how are the experiments doing?",
        "which subject line variant is winning?",
        "what's the uplift over the holdout?",
    ],
    "help": ["help", "what can you do?"],
}


@pytest.mark.parametrize(
    ("intent", "text"),
    [(intent, text) for intent, texts in PHRASINGS.items() for text in texts],
)
def test_phrasings(intent: str, text: str) -> None:
    assert classify(text) == intent


@pytest.mark.parametrize("text", ["hello", "thanks!", "the weather is nice", ""])
def test_small_talk_has_no_intent(text: str) -> None:
    assert classify(text) is None


def test_every_rule_names_a_known_intent_and_every_intent_has_phrasings() -> None:
    assert {rule.intent for rule in RULES} == set(INTENTS)
    assert set(PHRASINGS) == set(INTENTS)
