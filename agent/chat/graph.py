"""The chat graph: the model picks tools, the tools run, until the model answers in words."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import SystemMessage
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition

# A conversation that keeps calling tools is stuck, not thorough.
MAX_STEPS = 12


def build_chat_graph(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    *,
    system_prompt: str,
    checkpointer: BaseCheckpointSaver | None = None,
) -> CompiledStateGraph:
    """Compile the chat loop; a tool's failure comes back to the model as a message."""
    bound = model.bind_tools(list(tools))

    def agent(state: MessagesState) -> dict[str, list]:
        messages = [SystemMessage(content=system_prompt), *state["messages"]]
        return {"messages": [bound.invoke(messages)]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode(list(tools), handle_tool_errors=True))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile(checkpointer=checkpointer).with_config(recursion_limit=2 * MAX_STEPS)
