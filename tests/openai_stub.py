"""A local OpenAI-compatible server for tests: scripted replies over real HTTP.

`POST /v1/chat/completions` answers with the next scripted reply (a completion, an SSE stream,
an error status, optionally after a delay) and records every request body, so langchain-openai
and the openai client are exercised end to end (retries, timeouts, streaming, tool calls).

    stub = OpenAIStub()
    stub.script(error(429), completion("hello"))
    with serve_asgi(stub.app) as url:
        ChatOpenAI(base_url=url + "/v1", api_key="x", model="m").invoke("hi")
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

_ids = itertools.count(1)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: dict[str, Any] | None = None
    events: list[dict[str, Any]] | None = None  # SSE chunks, sent one by one then [DONE]
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def completion(
    content: str | None = None,
    *,
    tool_calls: list[tuple[str, str]] = (),  # type: ignore[assignment]
    usage: tuple[int, int] = (10, 5),
    model: str = "stub-model",
    delay_s: float = 0.0,
) -> Reply:
    """A chat completion; tool call arguments are raw strings so tests can send bad JSON."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{next(_ids)}", "type": "function",
             "function": {"name": name, "arguments": arguments}}
            for name, arguments in tool_calls
        ]  # fmt: skip
    return Reply(
        body={
            "id": f"chatcmpl-{next(_ids)}",
            "object": "chat.completion",
            "created": 1764000000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if tool_calls else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": usage[0],
                "completion_tokens": usage[1],
                "total_tokens": sum(usage),
            },
        },
        delay_s=delay_s,
    )


def stream(
    pieces: list[str],
    *,
    tool_call: tuple[str, list[str]] | None = None,
    usage: tuple[int, int] | None = (10, 5),
    model: str = "stub-model",
) -> Reply:
    """An SSE stream: text pieces, then a tool call whose arguments arrive in pieces, then
    (when given) a usage chunk as OpenAI sends with stream_options.include_usage."""
    ident = f"chatcmpl-{next(_ids)}"

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": ident, "object": "chat.completion.chunk", "created": 1764000000,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }  # fmt: skip

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in pieces]
    if tool_call is not None:
        name, argument_pieces = tool_call
        events.append(
            chunk({"tool_calls": [{"index": 0, "id": f"call_{next(_ids)}", "type": "function",
                                   "function": {"name": name, "arguments": ""}}]})
        )  # fmt: skip
        events += [
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in argument_pieces
        ]
    events.append(chunk({}, "tool_calls" if tool_call else "stop"))
    if usage is not None:
        events.append(
            {"id": ident, "object": "chat.completion.chunk", "created": 1764000000,
             "model": model, "choices": [],
             "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1],
                       "total_tokens": sum(usage)}}
        )  # fmt: skip
    return Reply(events=events)


def error(status: int, message: str = "scripted error", **headers: str) -> Reply:
    """An OpenAI-style error body with `status`; headers such as retry-after-ms pass through."""
    return Reply(
        status=status,
        body={"error": {"message": message, "type": "server_error", "code": None}},
        headers={key.replace("_", "-"): value for key, value in headers.items()},
    )


class OpenAIStub:
    """The scripted server: `script(...)` queues replies, `requests` holds what came in."""

    def __init__(self) -> None:
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            reply = self._replies.popleft() if self._replies else None
        if reply is None:
            return JSONResponse(
                {"error": {"message": "the stub has no scripted reply left"}}, status_code=500,
                headers={"x-should-retry": "false"},
            )  # fmt: skip
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.events is not None:
            return StreamingResponse(_sse(reply.events), media_type="text/event-stream")
        return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)


async def _sse(events: list[dict[str, Any]]) -> AsyncIterator[bytes]:
    for event in events:
        yield f"data: {json.dumps(event)}\n\n".encode()
    yield b"data: [DONE]\n\n"
