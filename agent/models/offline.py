"""The built-in offline chat model: deterministic tool use and template drafting, no network.

A real `BaseChatModel`: it binds tools, answers structured-output requests (`NextAction`,
`EmailDraft`, `VideoScript`) from the `<context>` of the prompt through the responders, plans
chat requests into calls of the bound tools and composes answers from their results, streams,
and reports token usage like a hosted model so budgets and per-draft figures work offline too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field

from agent.models.conversation import read_conversation
from agent.models.plan import Reply, Toolbox, next_step, understand
from agent.models.responders import DEFAULT_RESPONDERS, ResponderRegistry, find_context
from knowledge.tokens import count_tokens

OFFLINE_MODEL_NAME = "offline"
_FORCING_CHOICES = ("any", "required")
_TOKEN_PIECES = re.compile(r"\s*\S+|\s+")


class OfflineChatModel(BaseChatModel):
    """A deterministic chat model for running nurture without an LLM (see the module doc)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_name: str = OFFLINE_MODEL_NAME
    bound_tools: list[dict[str, Any]] = Field(default_factory=list)
    tool_choice: str | None = None
    responders: ResponderRegistry = Field(default=DEFAULT_RESPONDERS, exclude=True)
    today: date | None = Field(None, description="the date periods count from; None = today")

    @property
    def _llm_type(self) -> str:
        return "nurture-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """A copy of this model with `tools` bound; `tool_choice` may force one of them."""
        bound = self.model_copy(
            update={
                "bound_tools": [_openai_tool(tool) for tool in tools],
                "tool_choice": _choice_name(tool_choice),
            }
        )
        return bound.bind(**kwargs) if kwargs else bound

    def with_structured_output(
        self, schema: dict[str, Any] | type, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Structured output through a forced tool call; `method`/`strict` make no difference
        here, so code written for hosted models runs unchanged."""
        kwargs.pop("method", None)
        kwargs.pop("strict", None)
        return super().with_structured_output(schema, include_raw=include_raw, **kwargs)

    # --- generation ------------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._respond(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """The answer token by token, then each tool call, then the usage."""
        message = self._respond(messages)
        for chunk in _chunks(message):
            generation = ChatGenerationChunk(message=chunk)
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=generation)
            yield generation

    def _respond(self, messages: list[BaseMessage]) -> AIMessage:
        structured = self._structured_tool()
        if structured is not None:
            text, calls = "", [self._structured_call(structured, messages)]
        else:
            text, calls = self._chat_step(messages)
        output = text + "".join(json.dumps(call["args"]) for call in calls)
        usage = UsageMetadata(
            input_tokens=self._prompt_tokens(messages),
            output_tokens=count_tokens(output),
            total_tokens=0,
        )
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        return AIMessage(
            content=text,
            tool_calls=calls,
            usage_metadata=usage,
            response_metadata={
                "model_name": self.model_name,
                "finish_reason": "tool_calls" if calls else "stop",
            },
        )

    # --- structured output -----------------------------------------------------------------

    def _tool_names(self) -> list[str]:
        return [tool["function"]["name"] for tool in self.bound_tools]

    def _structured_tool(self) -> str | None:
        """The schema to answer with when the caller forces a tool that is not a chat tool
        (structured output does: `with_structured_output` binds one schema with "any")."""
        names = self._tool_names()
        forced = None
        if self.tool_choice in names:
            forced = self.tool_choice
        elif len(names) == 1 and (
            self.tool_choice in _FORCING_CHOICES or names[0] in self.responders.names()
        ):
            forced = names[0]
        return None if forced is None or forced in _CHAT_TOOLS else forced

    def _structured_call(self, name: str, messages: list[BaseMessage]) -> dict[str, Any]:
        responder = self.responders.get(name)
        answer = responder(find_context(messages))
        args = answer.model_dump(mode="json") if isinstance(answer, BaseModel) else dict(answer)
        return _tool_call(name, args, salt=len(messages))

    # --- chat ------------------------------------------------------------------------------

    def _chat_step(self, messages: list[BaseMessage]) -> tuple[str, list[dict[str, Any]]]:
        tools = {} if self.tool_choice == "none" else _declared_args(self.bound_tools)
        conversation = read_conversation(messages)
        request = understand(conversation, self.today or datetime.now(UTC).date())
        step = next_step(request, conversation, Toolbox(tools))
        if isinstance(step, Reply):
            return step.text, []
        salt = len(messages)
        return "", [_tool_call(call.name, call.args, salt=salt) for call in step]

    def _prompt_tokens(self, messages: list[BaseMessage]) -> int:
        # What a hosted model would be sent: the messages, their tool calls and the schemas.
        parts = [str(message.text) for message in messages]
        parts += [
            json.dumps(call["args"])
            for message in messages
            if isinstance(message, AIMessage)
            for call in message.tool_calls
        ]
        parts += [_tool_signature(tool["function"]) for tool in self.bound_tools]
        return count_tokens("\n".join(parts))


# The chat tools of the shared contract: never mistaken for a structured-output schema.
_CHAT_TOOLS = frozenset(
    (
        "find_leads",
        "score_lead",
        "segment_lead",
        "search_content",
        "draft_email",
        "draft_video_script",
        "schedule_touch",
        "hand_off_to_sdr",
        "pipeline_summary",
        "design_sequence",
        "save_sequence",
        "list_sequences",
        "show_sequence",
        "set_sequence_status",
        "list_approvals",
        "top_leads",
        "report_experiments",
    )
)


def _choice_name(tool_choice: str | dict[str, Any] | bool | None) -> str | None:
    if tool_choice is True:
        return "any"
    if isinstance(tool_choice, dict):
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, dict) else tool_choice.get("name")
        return str(name) if name else None
    return tool_choice or None


def _declared_args(tools: list[dict[str, Any]]) -> dict[str, frozenset[str] | None]:
    declared: dict[str, frozenset[str] | None] = {}
    for tool in tools:
        parameters = tool["function"].get("parameters") or {}
        properties = parameters.get("properties")
        declared[tool["function"]["name"]] = (
            frozenset(properties) if isinstance(properties, dict) else None
        )
    return declared


def _tool_signature(function: dict[str, Any]) -> str:
    """A tool as hosted models see it: OpenAI renders each one as a compact TypeScript-like
    signature with its descriptions, not as the JSON schema, so that is what is counted."""
    parameters = function.get("parameters") or {}
    lines = [f"// {function.get('description', '')}", f"type {function['name']} = (_: {{"]
    lines += _fields(parameters)
    lines.append("}) => any;")
    for name, schema in (parameters.get("$defs") or {}).items():
        lines += [f"type {name} = {{", *_fields(schema), "};"]
    return "\n".join(lines)


def _fields(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required") or ())
    lines = []
    for name, field in (schema.get("properties") or {}).items():
        if field.get("description"):
            lines.append(f"// {field['description']}")
        lines.append(f"{name}{'' if name in required else '?'}: {_type_of(field)},")
    return lines


def _type_of(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " | ".join(_type_of(option) for option in schema["anyOf"])
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(json.dumps(value) for value in schema["enum"])
    if schema.get("properties"):
        return "{\n" + "\n".join(_fields(schema)) + "\n}"
    if schema.get("type") == "array":
        return f"{_type_of(schema.get('items') or {})}[]"
    return str(schema.get("type", "any"))


def _tool_call(name: str, args: dict[str, Any], *, salt: int) -> dict[str, Any]:
    digest = hashlib.sha1(f"{salt}:{name}:{json.dumps(args, sort_keys=True)}".encode())
    return {
        "name": name,
        "args": args,
        "id": f"call_{digest.hexdigest()[:20]}",
        "type": "tool_call",
    }


def _chunks(message: AIMessage) -> Iterator[AIMessageChunk]:
    for piece in _TOKEN_PIECES.findall(str(message.content)):
        yield AIMessageChunk(content=piece)
    for index, call in enumerate(message.tool_calls):
        yield AIMessageChunk(
            content="",
            tool_call_chunks=[
                tool_call_chunk(
                    name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=index
                )
            ],
        )
    yield AIMessageChunk(
        content="",
        usage_metadata=message.usage_metadata,
        response_metadata=message.response_metadata,
        chunk_position="last",
    )


def _openai_tool(tool: Any) -> dict[str, Any]:
    """The OpenAI schema of a tool; schema classes are converted once, not on every call."""
    if isinstance(tool, type):
        return _class_schema(tool)
    return convert_to_openai_tool(tool)


@lru_cache(maxsize=64)
def _class_schema(tool: type) -> dict[str, Any]:
    return convert_to_openai_tool(tool)
