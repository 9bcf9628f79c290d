"""The model factory: the chat model and the run budget the settings ask for."""

from __future__ import annotations

from datetime import date
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agent.models.budget import RunBudget
from agent.models.offline import OFFLINE_MODEL_NAME, OfflineChatModel
from agent.settings import Settings

# Self-hosted servers (vLLM, Ollama, llama.cpp, LM Studio) usually need no key, but the OpenAI
# client refuses to start without one; they ignore whatever is sent.
PLACEHOLDER_KEY = "not-needed"


def build_chat_model(
    settings: Settings,
    *,
    temperature: float | None = None,
    callbacks: list[BaseCallbackHandler] | None = None,
    today: date | None = None,
    **overrides: Any,
) -> BaseChatModel:
    """The chat model for `settings.model_provider` (offline | openai | openai-compatible).

    Hosted models get the configured timeout and retry count: the OpenAI client retries
    429, 408, 409, 5xx and timeouts with exponential backoff (0.5 s doubling up to 8 s, with
    jitter, or the server's Retry-After). `overrides` go to `ChatOpenAI` as they are.
    `today` fixes the offline model's calendar (tests, replays).
    """
    provider = settings.model_provider
    if provider == "offline":
        return OfflineChatModel(callbacks=callbacks, today=today)
    params: dict[str, Any] = {
        "model": settings.openai_model,
        "api_key": SecretStr(settings.openai_api_key or PLACEHOLDER_KEY),
        "base_url": settings.openai_base_url,
        "timeout": settings.model_timeout_s,
        "max_retries": settings.model_max_retries,
        "callbacks": callbacks,
        # Usage while streaming feeds the budget; OpenAI reports it when asked. Self-hosted
        # servers may not support it, and the budget then counts with tiktoken.
        "stream_usage": provider == "openai",
    }
    if provider == "openai-compatible":
        # Self-hosted servers speak Chat Completions; never switch to the Responses API.
        params["use_responses_api"] = False
    if temperature is not None:
        params["temperature"] = temperature
    params.update(overrides)
    return ChatOpenAI(**params)


def describe_model(settings: Settings) -> str:
    """Which model runs, in a phrase for the UI."""
    provider = settings.model_provider
    if provider == "offline":
        return "offline model (built-in)"
    if provider == "openai":
        return f"{settings.openai_model} via OpenAI"
    return f"{settings.openai_model} via {settings.openai_base_url}"


def model_name(settings: Settings) -> str:
    """The model name recorded with each draft."""
    return OFFLINE_MODEL_NAME if settings.model_provider == "offline" else settings.openai_model


def build_budget(settings: Settings) -> RunBudget:
    """A fresh budget for one run, with the caps from the settings (0 = no cap)."""
    return RunBudget(
        max_tokens=settings.run_token_budget,
        max_cost_usd=settings.run_cost_budget_usd,
        model=model_name(settings),
    )
