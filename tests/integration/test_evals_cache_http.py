"""The model-call cache in front of langchain-openai over real HTTP: the key holds the model,
the messages and the bound tools, so only a truly repeated request is skipped."""

from __future__ import annotations

import json
from pathlib import Path

from langchain_core.messages import HumanMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from evals.cache import ModelCallCache
from tests.openai_stub import OpenAIStub, completion
from tests.servers import serve_asgi
from tools.schemas import EmailDraft, NextAction

DECISION = {"action": "wait", "stage": "problem", "wait_days": 3, "reason": "too soon"}


def test_the_same_request_is_sent_once_and_other_tools_or_models_are_new(tmp_path: Path) -> None:
    server = OpenAIStub()
    cache = ModelCallCache(tmp_path / "cache.sqlite")
    with serve_asgi(server.app) as url:

        def model(name: str) -> ChatOpenAI:
            return ChatOpenAI(
                base_url=f"{url}/v1", api_key=SecretStr("x"), model=name, max_retries=0, cache=cache
            )

        server.script(
            completion(tool_calls=[("NextAction", json.dumps(DECISION))], usage=(50, 9)),
            completion("no draft today", usage=(50, 4)),
            completion(tool_calls=[("NextAction", json.dumps(DECISION))], usage=(50, 9)),
        )
        question = [HumanMessage("What next for lead 7?")]
        first = (
            model("m1")
            .with_structured_output(NextAction, method="function_calling")
            .invoke(question)
        )
        again = (
            model("m1")
            .with_structured_output(NextAction, method="function_calling")
            .invoke(question)
        )
        assert first == again == NextAction.model_validate(DECISION)
        assert len(server.requests) == 1
        # the same words with another tool bound, or to another model, are other requests
        model("m1").bind_tools([EmailDraft]).invoke(question)
        model("m2").with_structured_output(NextAction, method="function_calling").invoke(question)
        assert len(server.requests) == 3
        assert cache.stats.hits == 1 and len(cache) == 3
