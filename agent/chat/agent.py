"""The chat agent as users get it: the configured model over every chat tool, with memory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langgraph.graph.state import CompiledStateGraph

from agent.chat.graph import build_chat_graph
from agent.chat.lead_tools import lead_tools
from agent.chat.work_tools import work_tools
from agent.checkpoints import open_checkpointer
from agent.models.factory import build_chat_model
from agent.runtime import Runtime
from agent.wiring import NurtureParts, open_kb
from knowledge.base import KnowledgeBase
from prompts import render
from tools.content import search_content_tool


def chat_tools(runtime: Runtime, model: BaseChatModel, kb: KnowledgeBase | None) -> list[BaseTool]:
    parts = NurtureParts(runtime, model, kb)
    tools = lead_tools(runtime.engine) + work_tools(parts)
    if kb is not None:
        tools.append(search_content_tool(kb))
    return tools


def system_prompt(runtime: Runtime, today: date | None = None) -> str:
    rendered = render(
        "chat_system",
        company=runtime.settings.sender_company,
        today=(today or date.today()).isoformat(),
    )
    return "\n\n".join(content for role, content in rendered.messages if role == "system")


@contextmanager
def open_chat_agent(
    runtime: Runtime, *, model: BaseChatModel | None = None
) -> Iterator[CompiledStateGraph]:
    """The chat graph with durable conversations (thread id = the chat session)."""
    model = model or build_chat_model(runtime.settings)
    tools = chat_tools(runtime, model, open_kb(runtime.settings))
    with open_checkpointer(runtime.settings) as saver:
        yield build_chat_graph(
            model, tools, system_prompt=system_prompt(runtime), checkpointer=saver
        )
