"""The scripted fake chat model other graph tests use: binds tools, streams tool calls."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from tests.fakes import ScriptedChatModel, reply, tool_calls
from tests.unit.models.crm import Crm
from tools.schemas import NextAction


def test_binds_tools_and_answers_in_script_order() -> None:
    crm = Crm()
    model = ScriptedChatModel.of(tool_calls(("score_lead", {"lead_id": 4411})), "Done.")
    bound = model.bind_tools(crm.tools("score_lead"))
    assert bound is model and model.bound_tools[0]["function"]["name"] == "score_lead"
    first = bound.invoke([HumanMessage("why?")])
    assert isinstance(first, AIMessage) and first.tool_calls[0]["args"] == {"lead_id": 4411}
    assert bound.invoke([HumanMessage("and?")]).text == "Done."
    assert [p[0].text for p in model.prompts] == ["why?", "and?"]
    with pytest.raises(AssertionError, match="ran out of answers after 2 calls"):
        bound.invoke([HumanMessage("more?")])


def test_structured_output_from_a_scripted_tool_call() -> None:
    action = NextAction(action="wait", stage="problem", wait_days=5, reason="touched yesterday")
    model = ScriptedChatModel.of(tool_calls(("NextAction", action.model_dump())))
    assert model.with_structured_output(NextAction).invoke("decide") == action


def test_streams_text_and_tool_calls_through_a_graph() -> None:
    crm = Crm()
    tools = crm.tools("find_leads")
    model = ScriptedChatModel.of(
        tool_calls(("find_leads", {"query": "Acme"})),
        reply("Two leads at Acme.", usage=(50, 5)),
    )
    bound = model.bind_tools(tools)

    def agent(state: MessagesState) -> dict[str, list[Any]]:
        return {"messages": [bound.invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    text, steps = "", []
    for message, _meta in graph.compile().stream(
        {"messages": [HumanMessage("who works at Acme?")]}, stream_mode="messages"
    ):
        if isinstance(message, AIMessageChunk):
            text += message.text
            steps += [str(c["name"]) for c in message.tool_call_chunks if c.get("name")]
    assert steps == ["find_leads"] and crm.calls == [("find_leads", {"query": "Acme"})]
    assert text == "Two leads at Acme."
