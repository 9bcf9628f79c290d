"""Model-backed drafting: the prompt, structured output, one retry, fallback, tokens, versions."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatResult

from agent.models.offline import OfflineChatModel
from knowledge.tokens import count_tokens
from prompts import DEFAULT_PROMPTS_DIR, load_prompt
from tests.fakes import ScriptedChatModel
from tests.unit.drafting.helpers import LEADS, context_for, tool_call
from tools.drafting.context import SNIPPET_TOKENS, prompt_context
from tools.drafting.core import DraftError, draft_email, draft_video_script
from tools.drafting.structured import ModelCallError
from tools.drafting.templates import template_email, template_video_script
from tools.schemas import DecisionContext, EmailDraft

EMAIL_VERSION = load_prompt("draft_email").version


@pytest.fixture
def ctx() -> DecisionContext:
    return context_for(LEADS["pricing-visitor"])


def model_draft(ctx: DecisionContext) -> EmailDraft:
    """What a good model might write: the template's facts in its own words."""
    base = template_email(ctx)
    return base.model_copy(update={"subject": "Rahul, fees and ways to pay for your course"})


def prompt_text(model: ScriptedChatModel, call: int = 0) -> str:
    return "\n".join(str(message.content) for message in model.prompts[call])


def sent_context(model: ScriptedChatModel, call: int = 0) -> DecisionContext:
    human = str(model.prompts[call][1].content)
    match = re.search(r"<context>\n(.*)\n</context>", human, re.DOTALL)
    assert match is not None
    return DecisionContext.model_validate_json(match.group(1))


def test_a_good_answer_is_used_and_recorded(ctx: DecisionContext) -> None:
    wanted = model_draft(ctx)
    model = ScriptedChatModel.of(tool_call("EmailDraft", wanted.model_dump()))
    result = draft_email(model, ctx)
    assert result.draft == wanted
    assert result.source == "model" and result.kind == "email"
    assert result.prompt_ref == f"draft_email@{EMAIL_VERSION}"
    assert result.model_name == "GenericFakeChatModel" or result.model_name
    assert result.attempts == 1 and result.errors == []
    # no usage metadata from this model: counted with tiktoken
    assert result.prompt_tokens == count_tokens(prompt_text(model))
    assert result.completion_tokens > 0
    assert result.tokens == result.prompt_tokens + result.completion_tokens


def test_provider_usage_and_model_name_win_over_counting(ctx: DecisionContext) -> None:
    answer = tool_call("EmailDraft", model_draft(ctx).model_dump(), usage=(1234, 321))
    answer.response_metadata = {"model_name": "gpt-4o-mini-2024-07-18"}
    result = draft_email(ScriptedChatModel.of(answer), ctx)
    assert (result.prompt_tokens, result.completion_tokens) == (1234, 321)
    assert result.model_name == "gpt-4o-mini-2024-07-18"


def test_the_prompt_carries_the_whole_context_trimmed(ctx: DecisionContext) -> None:
    model = ScriptedChatModel.of(tool_call("EmailDraft", model_draft(ctx).model_dump()))
    draft_email(model, ctx)
    sent = sent_context(model)
    assert sent.lead == ctx.lead
    assert sent.action == ctx.action and sent.sender == ctx.sender
    assert [s.url for s in sent.snippets] == [s.url for s in ctx.snippets]
    share = SNIPPET_TOKENS // len(ctx.snippets)
    assert all(count_tokens(s.text) <= share for s in sent.snippets)
    assert any(count_tokens(s.text) > share for s in ctx.snippets)  # the trim did something
    for sent_snippet, snippet in zip(sent.snippets, ctx.snippets, strict=True):
        assert snippet.text.startswith(sent_snippet.text.removesuffix(" …"))
    assert "Answer only by calling the EmailDraft tool" in str(model.prompts[0][0].content)


def test_a_bad_answer_is_retried_once_with_the_error(ctx: DecisionContext) -> None:
    wanted = model_draft(ctx)
    too_long = {**wanted.model_dump(), "subject": "x" * 120}
    model = ScriptedChatModel.of(
        tool_call("EmailDraft", too_long), tool_call("EmailDraft", wanted.model_dump())
    )
    result = draft_email(model, ctx)
    assert result.draft == wanted and result.source == "model"
    assert result.attempts == 2
    assert len(result.errors) == 1 and "subject" in result.errors[0]
    retry = str(model.prompts[1][-1].content)
    assert "could not be used" in retry and "subject" in retry and "x" * 120 in retry
    # both calls are paid for
    assert result.prompt_tokens == count_tokens(prompt_text(model, 0)) + count_tokens(
        prompt_text(model, 1)
    )


def test_an_answer_without_the_tool_call_is_retried(ctx: DecisionContext) -> None:
    wanted = model_draft(ctx)
    model = ScriptedChatModel.of(
        "Here is your email: ...", tool_call("EmailDraft", wanted.model_dump())
    )
    result = draft_email(model, ctx)
    assert result.draft == wanted
    assert result.errors == ["the answer did not call the EmailDraft tool"]


def test_two_bad_answers_fall_back_to_the_template(ctx: DecisionContext) -> None:
    model = ScriptedChatModel.of(tool_call("EmailDraft", {"subject": "hi"}), "no tools today")
    result = draft_email(model, ctx)
    assert result.source == "template"
    assert result.draft == template_email(ctx)
    assert result.attempts == 2 and len(result.errors) == 2
    assert result.prompt_ref == f"draft_email@{EMAIL_VERSION}"  # what was tried is recorded


def test_without_fallback_two_bad_answers_are_a_clear_error(ctx: DecisionContext) -> None:
    model = ScriptedChatModel.of("nope", "still nope")
    with pytest.raises(DraftError, match=r"lead 102: .* no usable EmailDraft after 2 attempt"):
        draft_email(model, ctx, fallback=False)


class BrokenModel(ScriptedChatModel):
    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise TimeoutError("the server did not answer in 30 s")


def test_a_model_outage_falls_back_and_says_why(ctx: DecisionContext) -> None:
    result = draft_email(BrokenModel.of(), ctx)
    assert result.source == "template"
    assert result.attempts == 1
    assert "TimeoutError: the server did not answer" in result.errors[0]


def test_a_model_without_tool_calling_is_a_clear_error(ctx: DecisionContext) -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    with pytest.raises(ModelCallError, match="cannot answer with structured output"):
        draft_email(GenericFakeChatModel(messages=iter([AIMessage(content="x")])), ctx)


def test_no_model_means_the_offline_template(ctx: DecisionContext) -> None:
    result = draft_email(None, ctx)
    assert result.source == "template" and result.prompt_ref == "templates@1"
    assert result.draft == template_email(ctx)
    assert result.tokens == 0


def test_video_scripts_go_through_their_own_prompt(ctx: DecisionContext) -> None:
    script = template_video_script(ctx)
    model = ScriptedChatModel.of(tool_call("VideoScript", script.model_dump()))
    result = draft_video_script(model, ctx)
    assert result.draft == script and result.kind == "video_script"
    assert result.prompt_id == "draft_video_script"
    assert "VideoScript tool" in str(model.prompts[0][0].content)


def test_a_prompts_folder_override_is_recorded(ctx: DecisionContext, tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_PROMPTS_DIR, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "draft_email.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(f"version: {EMAIL_VERSION}", "version: 2026-12-01.3", 1).replace(
            "Lead with an insight", "Open with a question, then an insight"
        ),
        encoding="utf-8",
    )
    model = ScriptedChatModel.of(tool_call("EmailDraft", model_draft(ctx).model_dump()))
    result = draft_email(model, ctx, prompts_dir=tmp_path)
    assert result.prompt_ref == "draft_email@2026-12-01.3"
    assert "Open with a question" in str(model.prompts[0][0].content)


def test_the_offline_model_drafts_through_the_same_path() -> None:
    for name in sorted(LEADS):
        ctx = context_for(LEADS[name])
        email = draft_email(OfflineChatModel(), ctx)
        assert email.source == "model" and email.model_name == "offline"
        # it drafts from what the prompt carries: the context with long snippets trimmed
        assert email.draft == template_email(prompt_context(ctx))
        assert 0 < email.prompt_tokens <= 2000  # the budget per draft
        video = draft_video_script(OfflineChatModel(), ctx)
        assert video.draft == template_video_script(prompt_context(ctx))
