"""The factory: which model each provider gets, with what timeout, retries and budget."""

from __future__ import annotations

import httpx2
import openai
from langchain_core.exceptions import OutputParserException
from langchain_openai import ChatOpenAI
from langchain_openai.chat_models.base import (
    OpenAIConnectionError,
    OpenAIRateLimitError,
    OpenAITimeoutError,
)
from pydantic import SecretStr

from agent.models import (
    BudgetExceeded,
    OfflineChatModel,
    Usage,
    build_budget,
    build_chat_model,
    describe_model,
    explain_model_error,
    model_name,
)
from agent.models.responders import OfflineModelError
from agent.settings import Settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_offline_by_default() -> None:
    config = settings()
    model = build_chat_model(config)
    assert isinstance(model, OfflineChatModel)
    assert describe_model(config) == "offline model (built-in)"
    assert model_name(config) == "offline"


def test_openai_with_key_model_timeout_and_retries() -> None:
    config = settings(
        OPENAI_API_KEY="sk-test",
        NURTURE_MODEL="gpt-4o-mini",
        NURTURE_MODEL_TIMEOUT="12.5",
        NURTURE_MODEL_MAX_RETRIES="5",
    )
    model = build_chat_model(config, temperature=0.2)
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "gpt-4o-mini" and model.temperature == 0.2
    assert model.request_timeout == 12.5 and model.max_retries == 5
    assert isinstance(model.openai_api_key, SecretStr)
    assert model.openai_api_key.get_secret_value() == "sk-test"
    assert model.stream_usage is True
    client = model.root_client
    assert client.max_retries == 5 and client.timeout == 12.5
    assert describe_model(config) == "gpt-4o-mini via OpenAI"


def test_openai_compatible_server_needs_no_key() -> None:
    config = settings(
        OPENAI_BASE_URL="http://gpu-box:8000/v1", NURTURE_MODEL="Qwen/Qwen2.5-7B-Instruct"
    )
    model = build_chat_model(config)
    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_base == "http://gpu-box:8000/v1"
    assert str(model.root_client.base_url) == "http://gpu-box:8000/v1/"
    assert model.stream_usage is False  # not every server supports usage while streaming
    assert model.use_responses_api is False
    assert describe_model(config) == "Qwen/Qwen2.5-7B-Instruct via http://gpu-box:8000/v1"
    assert model_name(config) == "Qwen/Qwen2.5-7B-Instruct"


def test_budget_caps_come_from_settings() -> None:
    budget = build_budget(
        settings(NURTURE_RUN_TOKEN_BUDGET="9000", NURTURE_RUN_COST_BUDGET_USD="0.02")
    )
    assert (budget.max_tokens, budget.max_cost_usd, budget.default_model) == (
        9000,
        0.02,
        "offline",
    )


def _response(status: int) -> httpx2.Response:
    return httpx2.Response(status, request=httpx2.Request("POST", "http://x/v1/chat/completions"))


def test_errors_are_explained_with_the_setting_to_change() -> None:
    config = settings(
        OPENAI_BASE_URL="http://gpu-box:8000/v1",
        NURTURE_MODEL="qwen",
        NURTURE_MODEL_TIMEOUT="5",
        NURTURE_MODEL_MAX_RETRIES="2",
    )
    request = httpx2.Request("POST", "http://gpu-box:8000/v1/chat/completions")
    timeout = explain_model_error(OpenAITimeoutError(request=request), config)
    assert timeout == (
        "qwen via http://gpu-box:8000/v1 did not answer within 5 s (tried 3 times). "
        "Raise NURTURE_MODEL_TIMEOUT or check the server."
    )
    limited = OpenAIRateLimitError("slow down", response=_response(429), body=None)
    assert "NURTURE_MODEL_MAX_RETRIES" in explain_model_error(limited, config)
    down = OpenAIConnectionError(request=request)
    assert "OPENAI_BASE_URL" in explain_model_error(down, config)
    parse = OutputParserException("Function EmailDraft arguments are not valid JSON")
    assert "not valid JSON" in explain_model_error(parse, config)
    over = BudgetExceeded(Usage(900, 200, 0.0, 3), max_tokens=1000, max_cost_usd=0)
    assert explain_model_error(over, config) == str(over)
    offline = OfflineModelError("no context")
    assert explain_model_error(offline, config) == "no context"
    assert isinstance(limited, openai.RateLimitError)
