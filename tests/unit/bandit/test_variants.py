"""Variants for a draft: grounded templates, filled per lead, from the offline writer or a model."""

from __future__ import annotations

import pytest

from tests.fakes import ScriptedChatModel
from tests.unit.drafting.helpers import LEADS, context_for, tool_call
from tools.bandit.variants import (
    VariantError,
    apply_variant,
    offline_variants,
    validate_variant,
    write_variants,
)
from tools.drafting.templates import template_email
from tools.guardrails import check_email
from tools.schemas import DecisionContext


@pytest.fixture(params=sorted(LEADS))
def lead_ctx(request: pytest.FixtureRequest) -> DecisionContext:
    return context_for(LEADS[request.param])


@pytest.mark.parametrize("dimension", ["subject", "cta"])
def test_offline_variants_are_distinct_valid_templates(
    lead_ctx: DecisionContext, dimension: str
) -> None:
    draft = template_email(lead_ctx)
    variants = offline_variants(draft, lead_ctx, dimension)
    assert 2 <= len(variants) <= 4
    assert len({v.lower() for v in variants}) == len(variants)
    for value in variants:
        assert validate_variant(dimension, value) == value


def test_the_drafts_own_wording_comes_first_with_the_lead_taken_out() -> None:
    ctx = context_for(LEADS["career-switcher"])
    draft = template_email(ctx)
    own = offline_variants(draft, ctx, "subject")[0]
    assert "Priya" not in own and "Acme" not in own
    assert apply_variant(draft, ctx, "subject", own).subject == draft.subject


def test_variants_from_one_lead_carry_nothing_of_that_lead_to_another() -> None:
    source = context_for(LEADS["career-switcher"])
    target = context_for(LEADS["pricing-visitor"])
    target_draft = template_email(target)
    for dimension in ("subject", "cta"):
        for value in offline_variants(template_email(source), source, dimension):
            applied = apply_variant(target_draft, target, dimension, value)
            text = applied.subject + " " + applied.cta_text
            assert "Priya" not in text and "Acme" not in text


def test_applied_variants_pass_the_guardrails(lead_ctx: DecisionContext) -> None:
    draft = template_email(lead_ctx)
    assert not check_email(draft, lead_ctx).issues
    for dimension in ("subject", "cta"):
        for value in offline_variants(draft, lead_ctx, dimension):
            applied = apply_variant(draft, lead_ctx, dimension, value)
            issues = check_email(applied, lead_ctx).issues
            assert not issues, (dimension, value, applied.subject, issues)


def test_a_missing_name_drops_its_clause() -> None:
    ctx = context_for(LEADS["anonymous"])
    draft = template_email(ctx)
    applied = apply_variant(draft, ctx, "subject", "{first_name}, {topic}")
    assert not applied.subject.startswith(",") and "{" not in applied.subject
    assert applied.subject[0].isupper()


@pytest.mark.parametrize(
    "dimension,value,message",
    [
        ("subject", "Hello {name}", "unknown placeholder"),
        ("subject", "   ", "empty"),
        ("format", "audio", "'text' or 'video'"),
        ("send_hour_band", "18-9", "START-END"),
        ("colour", "red", "dimension 'colour'"),
        ("cta", "x" * 70, "too long"),
    ],
)
def test_bad_variants_say_what_to_change(dimension: str, value: str, message: str) -> None:
    with pytest.raises(VariantError, match=message):
        validate_variant(dimension, value)


def test_model_variants_are_used_when_usable() -> None:
    ctx = context_for(LEADS["career-switcher"])
    draft = template_email(ctx)
    model = ScriptedChatModel.of(
        tool_call("VariantSet", {"variants": ["{first_name}, about {topic}", "{topic}?", "{bad}"]})
    )
    assert write_variants(model, draft, ctx, "subject") == [
        "{first_name}, about {topic}",
        "{topic}?",
    ]
    assert "subject" in str(model.prompts[0][0].content)


def test_model_with_too_few_usable_variants_falls_back_to_offline() -> None:
    ctx = context_for(LEADS["career-switcher"])
    draft = template_email(ctx)
    answer = tool_call("VariantSet", {"variants": ["{oops}", "{nope}"]})
    model = ScriptedChatModel.of(answer, answer)
    assert write_variants(model, draft, ctx, "cta") == offline_variants(draft, ctx, "cta")
