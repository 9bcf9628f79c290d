"""langchain-openai over real HTTP against a local OpenAI-compatible server: the model the
factory builds, tool calls, streaming, retries on 429/5xx, timeouts, malformed tool calls."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from langchain_core.exceptions import ModelRateLimitError, ModelTimeoutError
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from agent.models import (
    RunBudget,
    build_budget,
    build_chat_model,
    explain_model_error,
    invalid_tool_calls_error,
)
from agent.settings import Settings
from tests.fakes import merge_chunks
from tests.openai_stub import OpenAIStub, completion, error, stream
from tests.servers import serve_asgi
from tools.schemas import NextAction

ACTION = {"action": "send_email", "stage": "solution", "reason": "read the guide twice"}


@tool
def find_leads(query: str) -> str:
    """Find leads by name, company, role or email."""
    return "[]"


@pytest.fixture
def stub() -> OpenAIStub:
    return OpenAIStub()


@pytest.fixture
def base_url(stub: OpenAIStub) -> Iterator[str]:
    with serve_asgi(stub.app) as url:
        yield url + "/v1"


def model_for(base_url: str, *, timeout: float = 5, retries: int = 2) -> ChatOpenAI:
    settings = Settings(
        _env_file=None,
        OPENAI_BASE_URL=base_url,
        NURTURE_MODEL="stub-model",
        NURTURE_MODEL_TIMEOUT=str(timeout),
        NURTURE_MODEL_MAX_RETRIES=str(retries),
    )
    model = build_chat_model(settings)
    assert isinstance(model, ChatOpenAI)
    return model


def test_the_factory_model_talks_to_the_server(stub: OpenAIStub, base_url: str) -> None:
    stub.script(completion("Hello from the stub.", usage=(12, 4)))
    answer = model_for(base_url).invoke([HumanMessage("hi")])
    assert answer.text == "Hello from the stub."
    assert answer.usage_metadata and answer.usage_metadata["input_tokens"] == 12
    sent = stub.requests[0]
    assert sent["model"] == "stub-model"
    assert sent["messages"] == [{"role": "user", "content": "hi"}]
    assert stub.headers[0]["authorization"] == "Bearer not-needed"


def test_tool_calls_are_sent_and_parsed(stub: OpenAIStub, base_url: str) -> None:
    stub.script(completion(tool_calls=[("find_leads", '{"query": "Acme VP"}')]))
    answer = model_for(base_url).bind_tools([find_leads]).invoke("who is Acme's VP?")
    assert isinstance(answer, AIMessage)
    assert [(c["name"], c["args"]) for c in answer.tool_calls] == [
        ("find_leads", {"query": "Acme VP"})
    ]
    assert stub.requests[0]["tools"][0]["function"]["name"] == "find_leads"


def test_structured_output_through_a_tool_call(stub: OpenAIStub, base_url: str) -> None:
    stub.script(completion(tool_calls=[("NextAction", json.dumps(ACTION))]))
    runnable = model_for(base_url).with_structured_output(NextAction, method="function_calling")
    assert runnable.invoke("decide") == NextAction.model_validate(ACTION)
    forced = stub.requests[0]["tool_choice"]
    assert forced["function"]["name"] == "NextAction"


def test_streaming_over_sse(stub: OpenAIStub, base_url: str) -> None:
    stub.script(
        stream(["Two ", "leads ", "match."], usage=(30, 3)),
        stream([], tool_call=("find_leads", ['{"que', 'ry": "Ac', 'me"}'])),
    )
    model = model_for(base_url).bind_tools([find_leads])
    chunks = list(model.stream("who is at Acme?"))
    assert [c.text for c in chunks if c.text] == ["Two ", "leads ", "match."]
    merged = merge_chunks(chunks)
    assert merged.usage_metadata and merged.usage_metadata["input_tokens"] == 30
    assert stub.requests[0]["stream"] is True
    calls = list(model.stream("find Acme"))
    merged = merge_chunks(calls)
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [
        ("find_leads", {"query": "Acme"})
    ]


def test_429_then_success_is_retried(stub: OpenAIStub, base_url: str) -> None:
    stub.script(
        error(429, "rate limited", retry_after_ms="20"),
        error(503, "overloaded", retry_after_ms="20"),
        completion("third time lucky"),
    )
    answer = model_for(base_url, retries=2).invoke("hi")
    assert answer.text == "third time lucky"
    assert len(stub.requests) == 3


def test_rate_limit_after_every_retry_is_a_clear_error(stub: OpenAIStub, base_url: str) -> None:
    stub.script(*[error(429, "rate limited", retry_after_ms="10") for _ in range(3)])
    with pytest.raises(ModelRateLimitError) as caught:
        model_for(base_url, retries=1).invoke("hi")
    assert len(stub.requests) == 2
    settings = Settings(_env_file=None, OPENAI_BASE_URL=base_url, NURTURE_MODEL_MAX_RETRIES="1")
    assert "still rate limiting after 1 retries" in explain_model_error(caught.value, settings)


def test_a_timeout_is_retried_then_a_clear_error(stub: OpenAIStub, base_url: str) -> None:
    stub.script(completion("late", delay_s=1.5), completion("late", delay_s=1.5))
    with pytest.raises(ModelTimeoutError) as caught:
        model_for(base_url, timeout=0.3, retries=1).invoke("hi")
    assert len(stub.requests) == 2  # the first attempt and one retry
    settings = Settings(
        _env_file=None,
        OPENAI_BASE_URL=base_url,
        NURTURE_MODEL="stub-model",
        NURTURE_MODEL_TIMEOUT="0.3",
        NURTURE_MODEL_MAX_RETRIES="1",
    )
    assert explain_model_error(caught.value, settings) == (
        f"stub-model via {base_url} did not answer within 0.3 s (tried 2 times). "
        "Raise NURTURE_MODEL_TIMEOUT or check the server."
    )


def test_malformed_tool_call_json_is_surfaced_and_recoverable(
    stub: OpenAIStub, base_url: str
) -> None:
    stub.script(
        completion(tool_calls=[("NextAction", '{"action": "send_email", "stage": ')]),
        completion(tool_calls=[("NextAction", '{"action": "send_email", "stage": ')]),
        completion(tool_calls=[("NextAction", json.dumps(ACTION))]),
    )
    model = model_for(base_url)
    raw = model.bind_tools([NextAction]).invoke("decide")
    assert isinstance(raw, AIMessage) and raw.tool_calls == []
    assert raw.invalid_tool_calls[0]["name"] == "NextAction"
    assert raw.invalid_tool_calls[0]["error"]
    surfaced = invalid_tool_calls_error(raw)
    assert surfaced is not None and surfaced.send_to_llm
    assert str(surfaced).startswith(
        "the model sent tool-call arguments that are not valid JSON: NextAction (JSONDecodeError"
    )
    assert surfaced.llm_output == '{"action": "send_email", "stage": '
    settings = Settings(_env_file=None, OPENAI_BASE_URL=base_url, NURTURE_MODEL="stub-model")
    assert "returned a tool call that is not valid JSON" in explain_model_error(surfaced, settings)
    runnable = model.with_structured_output(NextAction, include_raw=True, method="function_calling")
    first = runnable.invoke("decide")
    # langchain-openai answers None without a parsing error: the raw message says why.
    assert isinstance(first, dict) and first["parsed"] is None
    assert invalid_tool_calls_error(first["raw"]) is not None
    second = runnable.invoke("decide again")  # asking again works: nothing is left broken
    assert isinstance(second, dict) and second["parsed"] == NextAction.model_validate(ACTION)
    assert invalid_tool_calls_error(second["raw"]) is None


def test_the_budget_reads_usage_from_the_server(stub: OpenAIStub, base_url: str) -> None:
    stub.script(
        completion("a", usage=(400, 50), model="gpt-4o-mini-2024-07-18"),
        stream(["b"], usage=None, model="gpt-4o-mini-2024-07-18"),
    )
    settings = Settings(_env_file=None, OPENAI_BASE_URL=base_url, NURTURE_MODEL="gpt-4o-mini")
    budget = build_budget(settings)
    model = build_chat_model(settings)
    model.invoke("hi", config={"callbacks": [budget]})
    assert (budget.totals().prompt_tokens, budget.totals().completion_tokens) == (400, 50)
    assert budget.totals().cost_usd == pytest.approx((400 * 0.15 + 50 * 0.60) / 1e6)
    list(model.stream("hi", config={"callbacks": [budget]}))  # no usage sent: counted instead
    assert budget.totals().calls == 2 and budget.totals().prompt_tokens > 400
    assert isinstance(budget, RunBudget)
