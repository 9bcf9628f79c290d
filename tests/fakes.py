"""Scripted chat models for graph tests: fake the model, not the graph.

`ScriptedChatModel` answers with the messages it was given, in order, whatever it is asked; it
accepts `bind_tools` and `with_structured_output` (both return a model that keeps the script),
streams text word by word and tool calls as tool-call chunks (as a hosted model does), reports
token usage when scripted with it, and records every prompt it was sent.

    model = ScriptedChatModel.of(
        tool_calls(("find_leads", {"query": "Acme"})),
        "Lead 12 is Ana Ruiz, VP Marketing at Acme.",
    )
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata, add_ai_message_chunks
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

_ids = itertools.count(1)


def tool_calls(
    *calls: tuple[str, dict[str, Any]], usage: tuple[int, int] | None = None, model: str = ""
) -> AIMessage:
    """An assistant message calling each (tool name, args); structured output is one call named
    like the schema class: `tool_calls(("EmailDraft", draft.model_dump()))`."""
    return AIMessage(
        content="",
        tool_calls=[
            {"name": name, "args": args, "id": f"call_{next(_ids)}", "type": "tool_call"}
            for name, args in calls
        ],
        usage_metadata=_usage(usage),
        response_metadata={"model_name": model} if model else {},
    )


def reply(text: str, *, usage: tuple[int, int] | None = None, model: str = "") -> AIMessage:
    """A plain assistant answer, optionally with (input, output) token usage and a model name."""
    return AIMessage(
        content=text,
        usage_metadata=_usage(usage),
        response_metadata={"model_name": model} if model else {},
    )


def merge_chunks(chunks: Iterable[Any]) -> AIMessageChunk:
    """One message from streamed chunks (text joined, tool-call chunks parsed into tool calls)."""
    parts = list(chunks)
    assert parts and all(isinstance(part, AIMessageChunk) for part in parts), parts
    return add_ai_message_chunks(parts[0], *parts[1:])


def _usage(usage: tuple[int, int] | None) -> UsageMetadata | None:
    if usage is None:
        return None
    return UsageMetadata(input_tokens=usage[0], output_tokens=usage[1], total_tokens=sum(usage))


class ScriptedChatModel(GenericFakeChatModel):
    """A `GenericFakeChatModel` that binds tools (returning itself) and streams tool calls."""

    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def of(cls, *responses: str | AIMessage) -> ScriptedChatModel:
        return cls(messages=iter(responses))

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        self.bound_tools = [convert_to_openai_tool(tool) for tool in tools]
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.prompts.append(list(messages))
        try:
            return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
        except StopIteration:
            raise AssertionError(
                f"the scripted model ran out of answers after {len(self.prompts) - 1} calls"
            ) from None

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._generate(messages, stop=stop, run_manager=run_manager).generations[0]
        ai = message.message
        assert isinstance(ai, AIMessage)
        chunks = [AIMessageChunk(content=piece) for piece in re.findall(r"\s*\S+", ai.text)]
        chunks += [
            AIMessageChunk(
                content="",
                tool_call_chunks=[
                    tool_call_chunk(
                        name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=i
                    )
                ],
            )
            for i, call in enumerate(ai.tool_calls)
        ]
        chunks.append(
            AIMessageChunk(
                content="",
                usage_metadata=ai.usage_metadata,
                response_metadata=ai.response_metadata,
                chunk_position="last",
            )
        )
        for chunk in chunks:
            generation = ChatGenerationChunk(message=chunk)
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=generation)
            yield generation

    @property
    def _llm_type(self) -> str:
        return "scripted-chat-model"
