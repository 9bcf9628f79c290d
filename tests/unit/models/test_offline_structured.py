"""The offline model's structured output: bind_tools, the context block and the responders."""

from __future__ import annotations

import asyncio
import json

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool

from agent.models import OfflineChatModel, OfflineModelError
from agent.models.offline import _tool_signature
from agent.models.responders import DEFAULT_TARGETS, ResponderRegistry, find_context
from knowledge.tokens import count_tokens
from tests.fakes import merge_chunks
from tools.schemas import DecisionContext, EmailDraft, LeadBrief, NextAction, Snippet

CONTEXT = DecisionContext(
    lead=LeadBrief(lead_id=7, first_name="Ana", company="Acme", decile=1, stage="decision"),
    snippets=[
        Snippet(title="ROI calculator", url="https://x.example/roi", stage="decision", text="...")
    ],
)


def next_action(ctx: DecisionContext) -> NextAction:
    """A tiny policy: top-decile leads are handed off, others get an email at their stage."""
    if ctx.lead.decile == 1:
        return NextAction(action="hand_off", stage=ctx.lead.stage, reason="top decile")
    return NextAction(action="send_email", stage=ctx.lead.stage, reason="keep warm")


def email(ctx: DecisionContext) -> EmailDraft:
    snippet = ctx.snippets[0]
    return EmailDraft(
        subject=f"{ctx.lead.company}: {snippet.title}",
        preview="A quick read",
        paragraphs=[f"Hi {ctx.lead.first_name},", f"Have a look at {snippet.title}."],
        cta_text="Open it",
        cta_url=snippet.url,
        sources=[snippet.url],
    )


@pytest.fixture
def model() -> OfflineChatModel:
    registry = ResponderRegistry({"NextAction": next_action, "EmailDraft": email})
    return OfflineChatModel(responders=registry)


def prompt(ctx: DecisionContext = CONTEXT) -> list[SystemMessage | HumanMessage]:
    return [
        SystemMessage("You decide the next touch."),
        HumanMessage(f"Decide.\n<context>{ctx.model_dump_json()}</context>"),
    ]


def test_bind_tools_returns_a_bound_copy(model: OfflineChatModel) -> None:
    bound = model.bind_tools([NextAction], tool_choice="NextAction")
    assert isinstance(bound, OfflineChatModel) and bound is not model
    assert [t["function"]["name"] for t in bound.bound_tools] == ["NextAction"]
    assert bound.tool_choice == "NextAction"
    assert model.bound_tools == [] and model.tool_choice is None


def test_structured_output_runs_the_responder_on_the_context(model: OfflineChatModel) -> None:
    decided = model.with_structured_output(NextAction).invoke(prompt())
    assert decided == NextAction(action="hand_off", stage="decision", reason="top decile")
    cooler = CONTEXT.model_copy(update={"lead": CONTEXT.lead.model_copy(update={"decile": 5})})
    cooled = model.with_structured_output(NextAction).invoke(prompt(cooler))
    assert isinstance(cooled, NextAction) and cooled.action == "send_email"


def test_include_raw_and_method_kwargs_work_as_with_hosted_models(
    model: OfflineChatModel,
) -> None:
    result = model.with_structured_output(
        EmailDraft, include_raw=True, method="function_calling"
    ).invoke(prompt())
    assert isinstance(result, dict) and result["parsing_error"] is None
    draft = result["parsed"]
    assert isinstance(draft, EmailDraft) and draft.cta_url == "https://x.example/roi"
    raw = result["raw"]
    assert isinstance(raw, AIMessage) and raw.tool_calls[0]["name"] == "EmailDraft"
    assert raw.usage_metadata is not None
    # What a hosted model would bill for: the arguments it generated.
    assert raw.usage_metadata["output_tokens"] == count_tokens(
        json.dumps(raw.tool_calls[0]["args"])
    )


def test_usage_counts_the_prompt_and_the_schema(model: OfflineChatModel) -> None:
    bound = model.bind_tools([NextAction], tool_choice="any")
    answer = bound.invoke(prompt())
    assert isinstance(answer, AIMessage) and answer.usage_metadata
    bare = model.bind_tools([NextAction], tool_choice="any").invoke(prompt())
    assert answer.usage_metadata == bare.usage_metadata  # deterministic
    longer = prompt()
    longer.insert(1, HumanMessage("word " * 200))
    more = bound.invoke(longer)
    assert isinstance(more, AIMessage) and more.usage_metadata
    assert more.usage_metadata["input_tokens"] - answer.usage_metadata["input_tokens"] >= 200
    usage = answer.usage_metadata
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_missing_context_is_a_clear_error(model: OfflineChatModel) -> None:
    with pytest.raises(OfflineModelError, match=r"<context>\.\.\.</context>"):
        model.with_structured_output(NextAction).invoke([HumanMessage("Decide for lead 7.")])


def test_invalid_context_names_the_field(model: OfflineChatModel) -> None:
    bad = '<context>{"lead": {"first_name": "Ana"}}</context>'
    with pytest.raises(OfflineModelError, match=r"lead\.lead_id: Field required"):
        model.with_structured_output(NextAction).invoke([HumanMessage(bad)])
    with pytest.raises(OfflineModelError, match="not a valid DecisionContext"):
        model.with_structured_output(NextAction).invoke([HumanMessage("<context>{oops</context>")])


def test_a_schema_without_responder_is_a_clear_error(model: OfflineChatModel) -> None:
    from tools.schemas import VideoScript

    with pytest.raises(OfflineModelError, match="no responder for 'VideoScript'"):
        model.with_structured_output(VideoScript).invoke(prompt())


def test_the_newest_context_block_wins() -> None:
    older = CONTEXT.model_copy(update={"lead": LeadBrief(lead_id=1)})
    messages = [
        HumanMessage(f"<context>{older.model_dump_json()}</context>"),
        HumanMessage(f"<context>{CONTEXT.model_dump_json()}</context>"),
    ]
    assert find_context(messages).lead.lead_id == 7


def test_registry_override_restores_the_previous_entry() -> None:
    registry = ResponderRegistry()
    assert registry.names() == frozenset(DEFAULT_TARGETS)
    with registry.override("NextAction", next_action):
        assert registry.get("NextAction") is next_action
    with registry.override("Extra", next_action):
        assert "Extra" in registry.names()
    assert "Extra" not in registry.names()
    broken = ResponderRegistry({"NextAction": "tools.nowhere:decide"})
    with pytest.raises(OfflineModelError, match="cannot be loaded"):
        broken.get("NextAction")


def test_streaming_structured_output_yields_a_tool_call_chunk(model: OfflineChatModel) -> None:
    chunks = list(model.bind_tools([NextAction], tool_choice="any").stream(prompt()))
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    merged = merge_chunks(chunks)
    assert merged.tool_calls[0]["name"] == "NextAction"
    assert merged.tool_calls[0]["args"]["action"] == "hand_off"
    assert merged.usage_metadata and merged.usage_metadata["output_tokens"] > 0


def test_async_structured_output(model: OfflineChatModel) -> None:
    runnable = model.with_structured_output(NextAction)
    decided = asyncio.run(runnable.ainvoke(prompt()))
    assert isinstance(decided, NextAction) and decided.action == "hand_off"


def test_chat_tools_are_never_mistaken_for_a_schema(model: OfflineChatModel) -> None:
    @tool
    def find_leads(query: str) -> str:
        """Find leads."""
        return "[]"

    answer = model.bind_tools([find_leads], tool_choice="any").invoke(prompt())
    assert isinstance(answer, AIMessage)
    assert not answer.tool_calls or answer.tool_calls[0]["name"] == "find_leads"


def test_the_shipped_responders_answer_every_schema() -> None:
    pytest.importorskip("tools.decide")
    pytest.importorskip("tools.drafting.templates")
    from tools.schemas import VideoScript

    model = OfflineChatModel()
    for schema in (NextAction, EmailDraft, VideoScript):
        answer = model.with_structured_output(schema).invoke(prompt())
        assert isinstance(answer, schema)


def test_prompt_tokens_count_the_tool_as_a_compact_signature(model: OfflineChatModel) -> None:
    signature = _tool_signature(convert_to_openai_tool(NextAction)["function"])
    assert "type NextAction = (_: {" in signature
    assert 'action: "send_email" | "send_video" | "wait" | "hand_off",' in signature
    assert "// search query for the content library" in signature and "query?: string," in signature
    messages = prompt()
    answer = model.bind_tools([NextAction], tool_choice="any").invoke(messages)
    assert isinstance(answer, AIMessage) and answer.usage_metadata
    expected = count_tokens("\n".join([*(str(m.text) for m in messages), signature]))
    assert answer.usage_metadata["input_tokens"] == expected
