"""One structured-output call to a chat model: typed answer, one retry on a bad answer, tokens.

The model is bound to the schema as its one forced tool, as
`with_structured_output(Schema, method="function_calling")` binds it, and the tool call is
parsed here: that method's `include_raw` chain runs a thread pool on every call (10-20 ms, more
than the offline model's whole answer). An answer without the tool call, with arguments that are
not JSON or with invalid fields gets a second try with the error fed back.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Generic, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ValidationError

from knowledge.tokens import count_tokens
from prompts import RenderedPrompt

T = TypeVar("T", bound=BaseModel)
MAX_ATTEMPTS = 2
ERROR_CHARS = 1200  # enough for a validation error, not a wall of text fed back


class ModelCallError(RuntimeError):
    """The model cannot be asked for structured output at all (no tool calling)."""


@dataclass
class StructuredAnswer(Generic[T]):
    """The typed answer (None when every attempt failed) and what the call cost."""

    value: T | None
    model_name: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0
    errors: list[str] = field(default_factory=list)


def call_structured(
    model: BaseChatModel,
    schema: type[T],
    prompt: RenderedPrompt,
    *,
    max_attempts: int = MAX_ATTEMPTS,
) -> StructuredAnswer[T]:
    """Ask `model` for a `schema` answer to `prompt`; retry once, telling it what was wrong."""
    try:
        runnable = bind_schema(model, schema)
    except NotImplementedError as exc:
        raise ModelCallError(
            f"{model_name_of(model)} cannot answer with structured output (no tool calling); "
            "configure a model that supports tools"
        ) from exc
    messages = to_messages(prompt)
    answer: StructuredAnswer[T] = StructuredAnswer(value=None, model_name=model_name_of(model))
    for _ in range(max_attempts):
        answer.attempts += 1
        try:
            raw: Any = runnable.invoke(messages)
        except Exception as exc:  # the model client has already retried transport errors
            answer.errors.append(f"model call failed: {type(exc).__name__}: {exc}"[:ERROR_CHARS])
            break
        _count(answer, raw, messages)
        parsed, error = _parsed(raw, schema)
        if parsed is not None:
            answer.value = parsed
            return answer
        answer.errors.append(error)
        messages = [*messages, HumanMessage(content=_retry_note(schema, error, raw))]
    return answer


def bind_schema(model: BaseChatModel, schema: type[BaseModel]) -> Runnable[Any, Any]:
    """`model` forced to call the `schema` tool once (raises NotImplementedError without tools)."""
    options: dict[str, Any] = {"tool_choice": tool_name_of(schema)}
    if "parallel_tool_calls" in inspect.signature(model.bind_tools).parameters:
        options["parallel_tool_calls"] = False  # OpenAI's: one call, as structured output asks
    return model.bind_tools([schema], **options)


@lru_cache(maxsize=64)
def tool_name_of(schema: type[BaseModel]) -> str:
    """The tool name a model calls for `schema` (converting a schema takes ~1 ms: once each)."""
    return str(convert_to_openai_tool(schema)["function"]["name"])


def to_messages(prompt: RenderedPrompt) -> list[BaseMessage]:
    kinds = {"system": SystemMessage, "human": HumanMessage, "ai": AIMessage}
    return [kinds[role](content=content) for role, content in prompt.messages]


def model_name_of(model: BaseChatModel) -> str:
    for attribute in ("model_name", "model", "model_id"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def _parsed(raw: Any, schema: type[T]) -> tuple[T | None, str]:
    if not isinstance(raw, AIMessage):
        return None, f"expected a {schema.__name__} tool call, got {type(raw).__name__}"
    name = tool_name_of(schema)
    calls = [call for call in raw.tool_calls if call["name"] == name]
    if not calls:
        invalid = [call for call in raw.invalid_tool_calls if call.get("name") in (name, None)]
        if invalid:  # langchain keeps unparsable arguments aside
            why = str(invalid[0].get("error") or "").strip().splitlines()
            detail = f" ({why[-1]})" if why else ""
            return None, f"the {schema.__name__} tool-call arguments were not valid JSON{detail}"
        return None, f"the answer did not call the {schema.__name__} tool"
    try:
        return schema.model_validate(calls[0]["args"]), ""
    except ValidationError as exc:
        return None, _describe(exc)


def _describe(error: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or 'answer'}: {item['msg']}"
        for item in error.errors()
    ]
    return ("invalid fields: " + "; ".join(problems))[:ERROR_CHARS]


def _retry_note(schema: type[BaseModel], error: str, raw: Any) -> str:
    sent = ""
    if isinstance(raw, AIMessage):
        calls = [json.dumps(call["args"], ensure_ascii=False) for call in raw.tool_calls]
        calls += [str(call.get("args") or "") for call in raw.invalid_tool_calls]
        sent = calls[0] if calls else str(raw.content)
    note = f"Your previous answer could not be used: {error}."
    if sent:
        note += f"\nYou sent: {sent[:ERROR_CHARS]}"
    return note + (
        f"\nAnswer again by calling the {schema.__name__} tool once, with every field valid "
        "and within its limits."
    )


def _count(answer: StructuredAnswer[Any], raw: Any, messages: list[BaseMessage]) -> None:
    """Token use from the provider's usage metadata, else counted with tiktoken."""
    usage = getattr(raw, "usage_metadata", None)
    if usage:
        answer.prompt_tokens += int(usage.get("input_tokens", 0))
        answer.completion_tokens += int(usage.get("output_tokens", 0))
    else:
        prompt_text = "\n".join(str(message.content) for message in messages)
        answer.prompt_tokens += count_tokens(prompt_text, answer.model_name)
        answer.completion_tokens += count_tokens(_completion_text(raw), answer.model_name)
    metadata = getattr(raw, "response_metadata", None) or {}
    if isinstance(metadata.get("model_name"), str) and metadata["model_name"]:
        answer.model_name = metadata["model_name"]


def _completion_text(raw: Any) -> str:
    if not isinstance(raw, AIMessage):
        return ""
    calls = [json.dumps(call.get("args"), ensure_ascii=False) for call in raw.tool_calls]
    calls += [str(call.get("args") or "") for call in raw.invalid_tool_calls]
    return "\n".join([str(raw.content or ""), *calls]).strip()
