"""What one nurture pass did: the graph steps in order and every model call, from callbacks."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult

# The tools each graph step stands for (the names the chat tools and the dataset use).
STEP_TOOLS: dict[str, list[str]] = {
    "assess": ["score_lead", "segment_lead"],
    "decide": ["decide_next_action"],
    "approval": ["request_approval"],
    "schedule": ["schedule_touch"],
    "hand_off": ["hand_off_to_sdr"],
}
DRAFT_TOOLS = {"send_email": "draft_email", "send_video": "draft_video_script"}


@dataclass
class ModelCall:
    """One model request: the structured answer it gave (a tool name), tokens and time."""

    tools: list[str]
    prompt_tokens: int
    completion_tokens: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "tools": self.tools,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 4),
        }


class PassTrace(BaseCallbackHandler):
    """Attach to one pass (the run's callbacks); read `steps` and `model_calls` afterwards."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.model_calls: list[ModelCall] = []
        self._started: dict[UUID, float] = {}

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        node = (metadata or {}).get("langgraph_node")
        # Runnables inside a node inherit its metadata; the node itself carries its own name.
        if node and kwargs.get("name") == node:
            self.steps.append(str(node))

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        self._started[run_id] = time.perf_counter()

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        started = self._started.pop(run_id, time.perf_counter())
        tools: list[str] = []
        prompt_tokens = completion_tokens = 0
        for generation in (g for batch in response.generations for g in batch):
            if not isinstance(generation, ChatGeneration):
                continue
            message = generation.message
            if isinstance(message, AIMessage):
                tools += [call["name"] for call in message.tool_calls]
                usage: dict[str, Any] = dict(message.usage_metadata or {})
                prompt_tokens += int(usage.get("input_tokens", 0))
                completion_tokens += int(usage.get("output_tokens", 0))
        self.model_calls.append(
            ModelCall(tools, prompt_tokens, completion_tokens, time.perf_counter() - started)
        )

    def tools(self, action: str | None, result: str | None = None) -> list[str]:
        """The tools the pass used, in order, from the steps that stand for them (the queue
        step schedules a touch that needs no approval itself)."""
        used: list[str] = []
        for step in self.steps:
            if step == "draft" and action in DRAFT_TOOLS:
                used += ["search_content", DRAFT_TOOLS[action], "check_guardrails"]
            elif step == "queue" and result == "scheduled" and "schedule" not in self.steps:
                used.append("schedule_touch")
            else:
                used += STEP_TOOLS.get(step, [])
        return used
