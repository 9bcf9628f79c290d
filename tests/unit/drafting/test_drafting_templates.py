"""The offline drafter: grounded in the lead record and the snippets, personal, short, sendable."""

from __future__ import annotations

import json
import re

import pytest

from tests.unit.drafting.helpers import LEADS, LIBRARY, SENDER, context_for, to_snippet
from tools.drafting.personal import company_website, with_article
from tools.drafting.render import RenderError, render_email, render_video_script
from tools.drafting.templates import DraftingError, template_email, template_video_script
from tools.drafting.text import facts, short_label, standalone
from tools.guardrails import check_email, check_rendered_email, check_video_script
from tools.schemas import DecisionContext, EmailDraft, VideoScript

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
URL = re.compile(r"https?://[^\s'\")]+")
UNSUBSCRIBE = "https://www.x-education.example/unsubscribe?t=abc123&l=101"


def source_text(ctx: DecisionContext) -> str:
    """Everything a draft may draw on, as one string (notes excluded: they are not a source)."""
    lead = ctx.lead.model_dump(exclude={"notes"})
    parts = [json.dumps(lead, ensure_ascii=False)]
    for snippet in ctx.snippets:
        parts += [snippet.title, snippet.text, snippet.cta or "", snippet.url]
    if ctx.sender is not None:
        parts.append(ctx.sender.model_dump_json())
    return "\n".join(parts)


def draft_text(draft: EmailDraft | VideoScript) -> str:
    if isinstance(draft, EmailDraft):
        return "\n".join([draft.subject, draft.preview, *draft.paragraphs, draft.cta_text])
    return "\n".join([draft.title, draft.cta_text, *(f"{s.line}\n{s.shot}" for s in draft.shots)])


def assert_grounded(draft: EmailDraft | VideoScript, ctx: DecisionContext) -> None:
    sources = source_text(ctx)
    snippet_urls = {snippet.url for snippet in ctx.snippets}
    text = draft_text(draft)
    for number in NUMBER.findall(text):
        assert number in sources, f"{number!r} is not in the sources: {text}"
    for url in URL.findall(text):
        assert url.rstrip(".,;") in snippet_urls | {
            ctx.lead.website and f"https://{ctx.lead.website}"
        }
    assert draft.cta_url in snippet_urls
    assert set(draft.sources) <= snippet_urls and draft.sources


def test_email_is_grounded_short_and_has_one_cta(lead_ctx: DecisionContext) -> None:
    draft = template_email(lead_ctx)
    assert_grounded(draft, lead_ctx)
    assert 2 <= len(draft.paragraphs) <= 3
    assert sum(len(p.split()) for p in draft.paragraphs) <= 150
    assert len(draft.subject) <= 90 and len(draft.preview) <= 140
    body = "\n".join(draft.paragraphs)
    assert not URL.search(body)  # the one link is the CTA button
    assert draft.cta_url == draft.sources[0]


def test_email_passes_every_guardrail(lead_ctx: DecisionContext) -> None:
    draft = template_email(lead_ctx)
    rendered = render_email(draft, lead_ctx, UNSUBSCRIBE)
    report = check_email(draft, lead_ctx, rendered=rendered, unsubscribe_url=UNSUBSCRIBE)
    assert report.ok, report.summary()


def test_video_script_is_grounded_timed_and_passes_guardrails(lead_ctx: DecisionContext) -> None:
    script = template_video_script(lead_ctx)
    assert_grounded(script, lead_ctx)
    assert 30 <= script.duration_s <= 60
    assert check_video_script(script, lead_ctx).ok, check_video_script(script, lead_ctx).summary()


def test_email_is_personal_when_the_record_allows() -> None:
    ctx = context_for(LEADS["career-switcher"])
    draft = template_email(ctx)
    assert draft.subject.startswith("Priya, ")
    body = " ".join(draft.paragraphs)
    assert "a Data Analyst at Acme Analytics" in body
    assert body.startswith("Thanks for downloading")  # the trigger, in plain words
    assert "data science" in draft.subject.lower()


def test_a_life_stage_is_not_written_as_a_job() -> None:
    lead = LEADS["career-switcher"].model_copy(update={"role": "Career changer"})
    body = " ".join(template_email(context_for(lead)).paragraphs)
    assert "For a career changer, one detail stands out:" in body
    lines = " ".join(shot.line for shot in template_video_script(context_for(lead)).shots)
    assert "Since you are a career changer, one point stands out." in lines
    assert "work as" not in lines


def test_a_case_study_is_told_for_the_leads_role_and_company() -> None:
    lead = LEADS["enterprise-lnd"]
    ctx = context_for(lead)
    studies = [to_snippet(a) for a in LIBRARY if a.asset_type == "case study"][:2]
    assert studies, "the library has case studies"
    vendor = ctx.model_copy(
        update={
            "action": ctx.action.model_copy(update={"stage": "vendor"}) if ctx.action else None,
            "snippets": studies,
        }
    )
    body = " ".join(template_email(vendor).paragraphs)
    assert "For a Head of L&D at Globex Manufacturing, here is what it looked like" in body


def test_email_without_name_or_theme_still_reads_well() -> None:
    ctx = context_for(LEADS["anonymous"])
    draft = template_email(ctx)
    assert draft.subject[0].isupper()
    assert "None" not in draft_text(draft) and "{" not in draft_text(draft)
    rendered = render_email(draft, ctx, UNSUBSCRIBE)
    assert rendered.text.startswith("Hi there,\n")


def test_first_names_are_capitalised() -> None:
    draft = template_email(context_for(LEADS["dormant"]))  # recorded as "sam"
    assert draft.subject.startswith("Sam, ")


def test_subject_varies_with_stage_and_segment() -> None:
    base = LEADS["career-switcher"]
    subjects = set()
    for segments in (["tofu:technology"], ["mofu:data-science"], ["late:pricing"], ["late:demo"]):
        lead = base.model_copy(update={"segments": segments, "trigger": None})
        subjects.add(template_email(context_for(lead)).subject)
    assert len(subjects) == 4


def test_subject_varies_across_leads_of_one_segment() -> None:
    base = LEADS["career-switcher"]
    subjects = {
        template_email(context_for(base.model_copy(update={"lead_id": lead_id}))).subject
        for lead_id in range(200, 206)
    }
    assert len(subjects) >= 2


def test_a_silent_lead_gets_a_new_angle() -> None:
    usual = template_email(
        context_for(LEADS["dormant"].model_copy(update={"unopened_in_a_row": 0}))
    )
    fresh = template_email(context_for(LEADS["dormant"]))
    assert fresh.subject != usual.subject
    assert "different angle" in fresh.paragraphs[0]


def test_pricing_visitor_gets_decision_content_about_their_course() -> None:
    ctx = context_for(LEADS["pricing-visitor"])
    assert ctx.action is not None and ctx.action.stage == "decision"
    draft = template_email(ctx)
    assert draft.paragraphs[0].startswith("You were looking at our programme fees")
    assert "Finance for Managers" in " ".join(draft.paragraphs)  # their row of the fee table
    assert draft.cta_url.endswith("/pricing")


def test_no_snippets_is_a_clear_error() -> None:
    ctx = DecisionContext(lead=LEADS["career-switcher"], sender=SENDER)
    with pytest.raises(DraftingError, match="lead 101: no content was retrieved"):
        template_email(ctx)
    with pytest.raises(DraftingError, match="no content was retrieved"):
        template_video_script(ctx)


def test_video_greets_by_name_with_their_site_behind() -> None:
    ctx = context_for(LEADS["career-switcher"])
    script = template_video_script(ctx)
    assert script.shots[0].line.startswith("Hi Priya, I'm Maya Rao from X Education.")
    assert "Acme Analytics" in script.shots[0].line
    assert script.background_url == "https://acme-analytics.com"
    assert "https://acme-analytics.com" in script.shots[0].shot
    assert script.cta_url in script.shots[3].shot
    assert "Priya" in script.shots[-1].line


def test_video_without_a_website_uses_a_branded_backdrop() -> None:
    ctx = context_for(LEADS["trial-user"])
    script = template_video_script(ctx)
    assert script.background_url is None
    assert "branded backdrop" in script.shots[0].shot


def test_video_stays_in_time_for_long_and_short_content() -> None:
    for asset in LIBRARY:
        ctx = context_for(LEADS["pricing-visitor"]).model_copy(
            update={"snippets": [to_snippet(asset)]}
        )
        script = template_video_script(ctx)
        assert 30 <= script.duration_s <= 60, asset.title
        assert check_video_script(script, ctx).ok, (asset.title, check_video_script(script, ctx))


def test_every_library_asset_yields_a_grounded_email() -> None:
    for asset in LIBRARY:
        for name in ("career-switcher", "anonymous", "enterprise-lnd"):
            ctx = context_for(LEADS[name]).model_copy(update={"snippets": [to_snippet(asset)]})
            draft = template_email(ctx)
            assert_grounded(draft, ctx)
            report = check_email(draft, ctx)
            assert report.ok, (asset.title, name, report.summary())


def test_company_website_from_email() -> None:
    assert company_website("ana@acme.com") == "https://acme.com"
    assert company_website("Ana@Mail.Globex.co.uk") == "https://mail.globex.co.uk"
    assert company_website("priya@gmail.com") is None
    assert company_website("not-an-email") is None
    assert company_website(None) is None


def test_articles_for_roles() -> None:
    assert with_article("Data Analyst") == "a Data Analyst"
    assert with_article("Analyst") == "an Analyst"
    assert with_article("HR Manager") == "an HR Manager"
    assert with_article("CFO") == "a CFO"


def test_button_labels_are_short_and_actionable() -> None:
    assert short_label("Download the Data Science Career Guide (PDF, 38 pages)") == (
        "Download the Data Science Career Guide"
    )
    assert short_label("Still unsure? Reply to this email or book a 30-minute call") == (
        "Book a 30-minute call"
    )
    assert len(short_label("Save your seat " + "and more words " * 10)) <= 60
    # A label cut to fit ends on a whole phrase, not on 'for your'.
    assert short_label("Talk to our enterprise team about a private cohort for your managers") == (
        "Talk to our enterprise team about a private cohort"
    )


def test_facts_are_whole_sentences_and_table_rows() -> None:
    pricing = next(asset for asset in LIBRARY if asset.url.endswith("/pricing"))
    found = facts(pricing.body)
    rows = [fact.text for fact in found if fact.kind == "row"]
    assert "PG Diploma in Data Science: duration 11 months; fee (incl. GST) ₹2,45,000." in rows
    for fact in found:
        if standalone(fact) and fact.kind == "sentence":
            assert fact.text[-1] in '.!"”’)'
            assert not fact.text.lower().startswith(("check ", "download ", "book "))


# --- the rendered message -----------------------------------------------------------------------


def test_rendered_email_has_greeting_cta_signature_and_unsubscribe() -> None:
    ctx = context_for(LEADS["career-switcher"])
    draft = template_email(ctx)
    subject, text, html = render_email(draft, ctx, UNSUBSCRIBE)
    assert subject == draft.subject
    assert text.startswith("Hi Priya,\n\n" + draft.paragraphs[0])
    assert f"{draft.cta_text}: {draft.cta_url}" in text
    for value in (SENDER.name, SENDER.title, SENDER.company, SENDER.address):
        assert value in text
    assert f"Unsubscribe: {UNSUBSCRIBE}" in text
    assert 'href="https://www.x-education.example/unsubscribe?t=abc123&amp;l=101"' in html
    assert f'href="{draft.cta_url}"' in html
    assert check_rendered_email((subject, text, html), ctx, UNSUBSCRIBE).ok


def test_rendering_escapes_html_and_keeps_one_greeting() -> None:
    ctx = context_for(LEADS["career-switcher"])
    draft = template_email(ctx).model_copy(
        update={"paragraphs": ["Hi Priya, <b>bold</b> & more.", "Second paragraph."]}
    )
    _, text, html = render_email(draft, ctx, UNSUBSCRIBE)
    assert text.count("Hi Priya") == 1
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more." in html and "<b>" not in html


def test_rendering_needs_a_sender_and_http_links() -> None:
    ctx = context_for(LEADS["career-switcher"])
    draft = template_email(ctx)
    with pytest.raises(RenderError, match="no sender"):
        render_email(draft, ctx.model_copy(update={"sender": None}), UNSUBSCRIBE)
    with pytest.raises(RenderError, match="unsubscribe link"):
        render_email(draft, ctx, "javascript:alert(1)")
    with pytest.raises(RenderError, match="call-to-action link"):
        render_email(draft.model_copy(update={"cta_url": "javascript:x"}), ctx, UNSUBSCRIBE)


def test_video_script_renders_for_review() -> None:
    script = template_video_script(context_for(LEADS["career-switcher"]))
    text = render_video_script(script)
    assert text.startswith(f"{script.title} ({script.duration_s} s)")
    assert f"[0-{script.shots[0].seconds} s]" in text
    assert f"CTA: {script.cta_text} -> {script.cta_url}" in text
