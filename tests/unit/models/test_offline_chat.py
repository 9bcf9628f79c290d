"""The offline model in conversation: tool plans, answers from results, questions, streaming."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from agent.models import OfflineChatModel
from tests.fakes import merge_chunks
from tests.unit.models.crm import TODAY, Chat, Crm


@pytest.fixture
def crm() -> Crm:
    return Crm()


@pytest.fixture
def chat(crm: Crm) -> Chat:
    return Chat(OfflineChatModel(today=TODAY), crm.tools())


# --- the examples ------------------------------------------------------------------


def test_why_is_a_lead_top_decile(chat: Chat, crm: Crm) -> None:
    answer = chat.say("why is lead 4411 top decile?").text
    assert crm.calls == [("score_lead", {"lead_id": 4411}), ("segment_lead", {"lead_id": 4411})]
    assert "Lead 4411: Ana Ruiz, VP Marketing at Acme" in answer
    assert "**91/100**" in answer and "decile **1**" in answer
    assert "visited pricing 4×" in answer and "asked for a demo 1×" in answer
    assert "`late:demo`" in answer


def test_a_lead_that_is_not_top_decile_is_corrected(chat: Chat) -> None:
    answer = chat.say("why is lead 4412 top decile?").text
    assert "not** in the top decile: it is in decile 7" in answer


def test_draft_the_next_touch_for_acmes_vp(chat: Chat, crm: Crm) -> None:
    answer = chat.say("draft the next touch for Acme's VP").text
    assert crm.called() == ["find_leads", "draft_email"]
    assert crm.calls[1][1]["lead_id"] == 4411  # the VP among two Acme leads
    assert "**Subject:** Acme's analytics skills gap" in answer
    assert "Hi Ana," in answer and "[Book a call](https://x.example/call)" in answer
    assert "waiting for approval" in answer


def test_how_is_the_pipeline_this_month(chat: Chat, crm: Crm) -> None:
    answer = chat.say("How is the pipeline this month?").text
    assert crm.calls == [
        ("pipeline_summary", {"since": "2026-11-01", "until": None, "segment": None})
    ]
    assert "since 2026-11-01" in answer
    assert "Leads in nurture: 812" in answer
    assert "MQL → SQL rate: 14.0 %" in answer
    assert "`enterprise`" in answer


def test_design_a_nurture_and_save_it(chat: Chat, crm: Crm) -> None:
    answer = chat.say(
        "Design a 60-day nurture for mid-market fintech leads who downloaded the security "
        "whitepaper and save it as Fintech security 60"
    ).text
    assert crm.called() == ["design_sequence", "save_sequence"]
    design = crm.calls[0][1]
    assert design["days"] == 60 and design["segment"] is None  # the tool reads the words
    assert design["goal"].startswith("60-day nurture for mid-market fintech leads")
    assert "save" not in design["goal"]
    saved = crm.calls[1][1]
    assert saved["name"] == "fintech-security-60"  # sequence names are slugs
    assert saved["definition"]["steps"][0]["day"] == 1  # the design tool's definition
    assert "[Skills gap](https://x/gap)" in answer
    assert "Which whitepaper exactly?" in answer
    assert "Saved the sequence **fintech-security-60**" in answer


# --- multi-turn ----------------------------------------------------------------------------


def test_design_then_save_in_a_later_turn_asks_for_the_name(chat: Chat, crm: Crm) -> None:
    first = chat.say("Design a 60-day nurture for dormant leads").text
    assert (
        'save it as "NAME"' in first
        and crm.calls[0][1]["goal"] == "60-day nurture for dormant leads"
    )
    assert chat.say("save it").text.endswith("What name should I save this sequence under?")
    answer = chat.say("Win-back 60").text
    assert crm.calls[-1][0] == "save_sequence" and crm.calls[-1][1]["name"] == "win-back-60"
    assert "Saved the sequence **win-back-60**" in answer
    assert crm.called().count("design_sequence") == 1
    assert "activate it" in answer
    chat.say("activate it")
    assert crm.calls[-1] == ("set_sequence_status", {"name": "win-back-60", "status": "active"})
    chat.say("show it")
    assert crm.calls[-1] == ("show_sequence", {"name": "win-back-60"})


def test_several_matches_ask_which_one_then_continue(chat: Chat, crm: Crm) -> None:
    question = chat.say("draft an email for Acme").text
    assert "Several leads match **Acme**" in question
    assert "1. lead 4411: Ana Ruiz" in question and "2. lead 4412: Bo Chen" in question
    assert crm.called() == ["find_leads"]
    answer = chat.say("the second one").text
    assert crm.calls[-1] == ("draft_email", {"lead_id": 4412, "stage": None, "theme": None})
    assert "Hi Bo," in answer


def test_a_name_answers_which_one(chat: Chat, crm: Crm) -> None:
    chat.say("write an email for Acme")
    chat.say("Ana")
    assert crm.calls[-1][0] == "draft_email" and crm.calls[-1][1]["lead_id"] == 4411


def test_a_person_at_a_company_narrows_the_matches(chat: Chat, crm: Crm) -> None:
    chat.say("email Bo at Acme")
    assert crm.calls == [
        ("find_leads", {"query": "Acme"}),
        ("draft_email", {"lead_id": 4412, "stage": None, "theme": None}),
    ]


def test_ranking_every_lead_is_not_pretended(chat: Chat, crm: Crm) -> None:
    answer = chat.say("what are our best leads?").text
    assert crm.calls == [] and answer.startswith("I can't rank every lead from this chat.")


def test_no_match_asks_for_more(chat: Chat, crm: Crm) -> None:
    answer = chat.say("draft the next touch for Globex's CTO").text
    assert "no lead matching **Globex's CTO**" in answer and answer.endswith("?")
    assert crm.called() == ["find_leads"]


def test_the_lead_talked_about_before_is_remembered(chat: Chat, crm: Crm) -> None:
    chat.say("why is lead 5120 top decile?")
    chat.say("draft a follow-up about pricing")
    assert crm.calls[-1] == ("draft_email", {"lead_id": 5120, "stage": None, "theme": "pricing"})
    answer = chat.say("schedule it for tomorrow at 9am").text
    assert crm.calls[-1] == (
        "schedule_touch",
        {"lead_id": 5120, "draft_id": 55, "send_at": "2026-11-26T09:00"},
    )
    assert answer == "Scheduled draft 55 for lead 5120 for **Thu 26 Nov 2026, 09:00** (touch 91)."
    chat.say("hand them off to sales because they want a group quote")
    assert crm.calls[-1] == (
        "hand_off_to_sdr",
        {"lead_id": 5120, "reason": "they want a group quote"},
    )


def test_hand_off_reason_defaults_to_the_score_factors(chat: Chat, crm: Crm) -> None:
    chat.say("why is lead 4411 top decile?")
    answer = chat.say("hand off lead 4411").text
    reason = crm.calls[-1][1]["reason"]
    assert "visited pricing 4×" in reason
    assert "SLA: first contact due by **Wed 25 Nov 2026, 16:00**" in answer
    assert "**opening**: You asked about a demo" in answer


def test_without_a_lead_it_asks(chat: Chat, crm: Crm) -> None:
    answer = chat.say("draft the next touch").text
    assert answer.startswith("Which lead do you mean?") and crm.calls == []


# --- the other tools -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "call", "in_answer"),
    [
        ("find content about ROI for the decision stage",
         ("search_content", {"query": "ROI", "stage": "decision", "segment": None, "k": 3}),
         "[ROI of upskilling calculator](https://x.example/roi) (decision stage)"),
        ("what segment is lead 4411 in?", ("segment_lead", {"lead_id": 4411}),
         "is in `late:demo`, `enterprise`"),
        ("write a video script for lead 4411", ("draft_video_script", {"lead_id": 4411}),
         '1. (10 s) "Hi Ana" *Shot:* acme.example'),
        ("what sequences do we have?", ("list_sequences", {}), "- **core** (active, 10 touches)"),
        ('show the "core" sequence', ("show_sequence", {"name": "core"}), "**core** (active)"),
        ("pause the core sequence", ("set_sequence_status", {"name": "core", "status": "paused"}),
         "The sequence **core** is now **paused**."),
        ("what's waiting for approval?", ("list_approvals", {"status": "pending"}),
         '#3 lead 4411: Ana at Acme: "Acme\'s analytics skills gap"'),
        ("find leads at Kestrel Bank", ("find_leads", {"query": "Kestrel Bank"}),
         "lead 5120: Chidi Okafor, Head of Data at Kestrel Bank (score 72, decile 2)"),
        ("pipeline for enterprise last month",
         ("pipeline_summary", {"since": "2026-10-01", "until": "2026-10-31",
                               "segment": "enterprise"}),
         "**Pipeline, since 2026-10-01 until 2026-10-31, segment `enterprise`**"),
    ],
)  # fmt: skip
def test_tool_requests(
    chat: Chat, crm: Crm, text: str, call: tuple[str, dict[str, Any]], in_answer: str
) -> None:
    answer = chat.say(text).text
    assert crm.calls == [call]
    assert in_answer in answer


def test_a_sequence_without_a_name_lists_them_and_asks(chat: Chat, crm: Crm) -> None:
    answer = chat.say("pause a sequence").text
    assert crm.called() == ["list_sequences"]
    assert "- **enterprise**" in answer and answer.endswith("in quotes?")


def test_only_bound_tools_are_called(crm: Crm) -> None:
    chat = Chat(OfflineChatModel(today=TODAY), crm.tools("score_lead"))
    answer = chat.say("draft the next touch for lead 4411").text
    assert crm.calls == [] and "no `draft_email` tool" in answer
    chat.say("why is lead 4411 top decile?")
    assert crm.calls == [("score_lead", {"lead_id": 4411})]  # no segment_lead: not bound


def test_a_tool_failure_is_reported_not_retried(crm: Crm) -> None:
    crm.fail.add("pipeline_summary")
    chat = Chat(OfflineChatModel(today=TODAY), crm.tools())
    answer = chat.say("how is the pipeline this month?").text
    assert crm.called() == ["pipeline_summary"]
    assert answer == "`pipeline_summary` did not work: pipeline_summary is down for maintenance"


def test_unknown_requests_get_help_listing_bound_tools(crm: Crm) -> None:
    answer = Chat(OfflineChatModel(), crm.tools("score_lead", "pipeline_summary")).say("hi")
    assert answer.text.startswith("I did not understand that. I can:")
    assert "why is lead 4411 top decile?" in answer.text
    assert "pipeline" in answer.text and "design" not in answer.text
    assert "Here is what I can do:" in Chat(OfflineChatModel(), crm.tools()).say("help").text


def test_system_prompt_and_tool_text_are_not_instructions(chat: Chat, crm: Crm) -> None:
    chat.messages.append(SystemMessage("Example: design a nurture and save it as X"))
    chat.say("why is lead 4411 top decile?")
    assert crm.called() == ["score_lead", "segment_lead"]


# --- streaming and LangGraph ---------------------------------------------------------------


def test_stream_yields_the_answer_token_by_token() -> None:
    model = OfflineChatModel()
    chunks = list(model.stream([HumanMessage("hello")]))
    texts = [chunk.text for chunk in chunks if chunk.text]
    assert len(texts) > 10
    assert "".join(texts) == model.invoke([HumanMessage("hello")]).text
    assert chunks[-1].usage_metadata and chunks[-1].chunk_position == "last"


def test_stream_yields_tool_calls_as_chunks(crm: Crm) -> None:
    bound = OfflineChatModel().bind_tools(crm.tools())
    chunks = list(bound.stream([HumanMessage("why is lead 4411 top decile?")]))
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    merged = merge_chunks(chunks)
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [
        ("score_lead", {"lead_id": 4411}),
        ("segment_lead", {"lead_id": 4411}),
    ]
    assert len({c["id"] for c in merged.tool_calls}) == 2


def test_async_invoke_matches_sync(crm: Crm) -> None:
    bound = OfflineChatModel().bind_tools(crm.tools())
    messages = [HumanMessage("why is lead 4411 top decile?")]
    assert asyncio.run(bound.ainvoke(messages)).tool_calls == bound.invoke(messages).tool_calls


def test_drives_a_langgraph_tool_loop_and_streams_tokens(crm: Crm) -> None:
    tools = crm.tools()
    bound = OfflineChatModel(today=TODAY).bind_tools(tools)

    def agent(state: MessagesState) -> dict[str, list[Any]]:
        return {"messages": [bound.invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode(tools, handle_tool_errors=True))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    app = graph.compile()
    streamed: list[str] = []
    steps: list[str] = []
    for message, _meta in app.stream(
        {"messages": [HumanMessage("draft the next touch for Acme's VP")]},
        stream_mode="messages",
    ):
        if isinstance(message, AIMessageChunk):
            streamed.append(message.text)
            steps += [str(c["name"]) for c in message.tool_call_chunks if c.get("name")]
    assert steps == ["find_leads", "draft_email"]
    assert "**Subject:** Acme's analytics skills gap" in "".join(streamed)
    final = app.invoke({"messages": [HumanMessage("draft the next touch for Acme's VP")]})
    assert isinstance(final["messages"][-1], AIMessage)
    assert "Hi Ana," in final["messages"][-1].text


def test_answers_a_real_sequence_design() -> None:
    design = pytest.importorskip("tools.sequences.design")

    @tool
    def design_sequence(
        goal: str, segment: str | None = None, days: int = 60, touches: int | None = None
    ) -> str:
        """Propose a nurture sequence."""
        proposal = design.design_sequence(goal, segment=segment, days=days, touches=touches)
        return json.dumps(proposal, default=str)

    request = (
        "Design a 60-day nurture for mid-market fintech leads who downloaded the security "
        "whitepaper"
    )
    text = Chat(OfflineChatModel(today=TODAY), [design_sequence]).say(request).text
    proposal = design.design_sequence(request.removeprefix("Design a "))
    assert "- Who: " + ", ".join(f"`{s}`" for s in proposal["segments"]) in text
    assert "touches over 60 days" in text and "  1. day 1 · email · problem" in text
    assert "demo_request → hand off to an SDR now" in text
    for question in proposal["missing"]:  # the tool's own questions, passed on
        assert f"- {question}" in text


def test_queue_rows_naming_their_lead_are_listed(crm: Crm) -> None:
    @tool
    def list_approvals(status: str = "pending") -> str:
        """Drafts in the review queue."""
        rows = [{"id": 9, "status": status, "lead": "Ana Ruiz", "lead_id": 4411, "decile": 1,
                 "subject": "Acme's analytics skills gap"}]  # fmt: skip
        return json.dumps({"status": status, "count": 1, "approvals": rows})

    answer = Chat(OfflineChatModel(), [list_approvals]).say("show me rejected approvals").text
    assert answer.startswith("1 draft rejected:")
    assert '- #9 lead 4411: Ana Ruiz (decile 1): "Acme\'s analytics skills gap"' in answer
