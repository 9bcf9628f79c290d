"""Model failures in words a user can act on (the UI and CLI show these, not tracebacks)."""

from __future__ import annotations

from langchain_core.exceptions import (
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelNotFoundError,
    ModelRateLimitError,
    ModelTimeoutError,
    OutputParserException,
)
from langchain_core.messages import AIMessage

from agent.models.budget import BudgetExceeded
from agent.models.factory import describe_model
from agent.models.responders import OfflineModelError
from agent.settings import Settings

MODEL_ERRORS: tuple[type[BaseException], ...] = (
    ModelError,
    OutputParserException,
    BudgetExceeded,
    OfflineModelError,
)


def explain_model_error(error: BaseException, settings: Settings) -> str:
    """One or two sentences: what went wrong with the model and which setting to change."""
    model = describe_model(settings)
    retries = settings.model_max_retries
    if isinstance(error, BudgetExceeded | OfflineModelError):
        return str(error)
    if isinstance(error, ModelTimeoutError):
        return (
            f"{model} did not answer within {settings.model_timeout_s:g} s "
            f"(tried {retries + 1} times). Raise NURTURE_MODEL_TIMEOUT or check the server."
        )
    if isinstance(error, ModelRateLimitError):
        return (
            f"{model} is still rate limiting after {retries} retries. Wait a minute, raise "
            "NURTURE_MODEL_MAX_RETRIES, or check the account's limits."
        )
    if isinstance(error, ModelAuthenticationError):
        return f"{model} refused the API key: check OPENAI_API_KEY."
    if isinstance(error, ModelNotFoundError):
        return f"{model}: the server does not know this model; check NURTURE_MODEL."
    if isinstance(error, ModelConnectionError):
        return f"Could not reach {model}: is the server up and OPENAI_BASE_URL right?"
    if isinstance(error, OutputParserException):
        return (
            f"{model} returned a tool call that is not valid JSON for its schema; asking again "
            f"usually works ({_first_line(error)})."
        )
    if isinstance(error, ModelError):
        return f"{model} failed: {_first_line(error)}"
    return f"Unexpected model error: {_first_line(error)}"


def invalid_tool_calls_error(message: AIMessage) -> OutputParserException | None:
    """The model's malformed tool calls as one clear, catchable error; None when all parsed.

    langchain-openai puts tool calls whose arguments are not JSON in `invalid_tool_calls` and
    `with_structured_output` then answers None without an error: check the raw message with
    this, and ask again with the error as `observation` (it is meant to be sent back).
    """
    if not message.invalid_tool_calls:
        return None
    problems = []
    for call in message.invalid_tool_calls:
        detail = (call.get("error") or "").split("Received ")[-1].split("\n")[0].strip()
        problems.append(f"{call.get('name') or 'a tool'} ({detail or 'unreadable arguments'})")
    text = "the model sent tool-call arguments that are not valid JSON: " + "; ".join(problems)
    sent = [str(call.get("args") or "") for call in message.invalid_tool_calls]
    return OutputParserException(
        text,
        observation=text + ". Call the tool again with valid JSON arguments.",
        llm_output="\n".join(sent),
        send_to_llm=True,
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__
