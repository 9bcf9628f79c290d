"""Explanations name the fields that moved a lead's score, in words a rep reads."""

import pandas as pd

from tools.brief import LOWERS, factor_words
from tools.scoring.explain import describe, explain
from tools.scoring.model import LeadScorer


def test_top_factors_for_a_strong_lead(leads: pd.DataFrame) -> None:
    X = leads.drop(columns="converted")
    scorer = LeadScorer(kind="linear", cv=2).fit(X, (leads["converted"] == "yes").to_numpy(int))
    lead = {"role": "VP", "visits": 12, "time_on_site_s": 1500, "country": "India"}
    factors = explain(scorer, lead, top=3)
    assert factors and len(factors) <= 3
    assert all(f["direction"] == "+" and f["weight"] > 0 for f in factors)
    words = [f["factor"] for f in factors]
    assert "role: VP" in words
    assert "spent 25 min on the site" in words
    weights = [abs(f["weight"]) for f in factors]
    assert weights == sorted(weights, reverse=True)
    weak = explain(scorer, {"role": "Student", "visits": 0, "time_on_site_s": 0}, top=2)
    assert weak and all(f["direction"] == "-" for f in weak)
    # On a card, what held the score back is never read as a reason the lead is hot.
    assert factor_words(weak) == [f["factor"] + LOWERS for f in weak]
    mixed = explain(scorer, {"role": "Student", "visits": 12, "time_on_site_s": 1500}, top=3)
    assert {f["direction"] for f in mixed} == {"+", "-"}, mixed
    words = factor_words(mixed)
    raised = [f["factor"] for f in mixed if f["direction"] == "+"]
    assert words[: len(raised)] == raised
    assert all(w.endswith(LOWERS) for w in words[len(raised) :])


def test_describe_phrases() -> None:
    assert describe("pricing_page_views", 3) == "visited pricing 3×"
    assert describe("email_clicks", 1) == "clicked 1 email"
    assert describe("email_clicks", 2) == "clicked 2 emails"
    assert describe("content_downloads", 1) == "downloaded 1 piece of content"
    assert describe("days_since_last_event", 1) == "last active 1 day ago"
    assert describe("pricing_page_views_7d", 3) == "visited pricing 3× this week"
    assert describe("product_milestones", 4) == "reached 4 product milestones"
    assert describe("What is your current occupation", "Working Professional") == (
        "what is your current occupation: Working Professional")
    assert describe("TotalVisits", 12) == "total visits: 12"
    assert describe("role", "Select") == "role: not given"
    assert describe("free_copy", True) == "free copy: yes"
    assert describe("free_copy", "false") == "free copy: no"
