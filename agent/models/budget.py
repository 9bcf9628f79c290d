"""A per-run token and cost budget: a callback that sums model usage and stops a run over it.

Attach one `RunBudget` per run (one lead's nurture pass, one chat turn) through the run's
config (`{"callbacks": [budget]}`); every model call under it is counted. Usage comes from the
model's `usage_metadata` (OpenAI and the offline model report it); when a server reports none
(some OpenAI-compatible servers while streaming) the prompt and the answer are counted with
tiktoken instead. Read `totals()` before and after a draft to record what that draft cost.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from knowledge.tokens import count_tokens

# OpenAI list prices, USD per 1M tokens (input, output), standard tier, as published in 2025.
# Matched by the longest prefix of the model name, so dated snapshots price like their family.
# Unknown names (self-hosted models) and the offline model cost 0.
PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
    "o4-mini": (1.10, 4.40),
    "o3-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
}


def price_for(
    model: str | None, prices: Mapping[str, tuple[float, float]] = PRICES_PER_MILLION
) -> tuple[float, float]:
    """(input, output) USD per 1M tokens for `model`; (0, 0) when it is not a priced model."""
    if not model:
        return 0.0, 0.0
    name = model.split("/")[-1].lower()
    matches = [prefix for prefix in prices if name.startswith(prefix)]
    return prices[max(matches, key=len)] if matches else (0.0, 0.0)


def cost_usd(model: str | None, prompt_tokens: int, completion_tokens: int) -> float:
    price_in, price_out = price_for(model)
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000


@dataclass(frozen=True)
class Usage:
    """Tokens and cost of some model calls; subtract two `totals()` for what happened between."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cost_usd + other.cost_usd,
            self.calls + other.calls,
        )

    def __sub__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens - other.prompt_tokens,
            self.completion_tokens - other.completion_tokens,
            self.cost_usd - other.cost_usd,
            self.calls - other.calls,
        )


class BudgetExceeded(RuntimeError):
    """A run used more tokens or money than its budget allows; no further model call is made."""

    def __init__(self, usage: Usage, *, max_tokens: int, max_cost_usd: float) -> None:
        self.usage = usage
        self.max_tokens = max_tokens
        self.max_cost_usd = max_cost_usd
        over = []
        if max_tokens and usage.total_tokens > max_tokens:
            over.append(f"{usage.total_tokens:,} tokens against a cap of {max_tokens:,}")
        if max_cost_usd and usage.cost_usd > max_cost_usd:
            over.append(f"${usage.cost_usd:.4f} against a cap of ${max_cost_usd:.4f}")
        super().__init__(
            f"this run is over its model budget ({'; '.join(over)}) after {usage.calls} model "
            "calls; raise NURTURE_RUN_TOKEN_BUDGET / NURTURE_RUN_COST_BUDGET_USD (0 = no cap) "
            "or shorten the prompt"
        )


class RunBudget(BaseCallbackHandler):
    """Sums usage over the model calls of one run; raises `BudgetExceeded` once it is over.

    A cap of 0 means no cap. The check runs after each call (the call that crosses the line
    completes, and its usage is recorded) and before the next (which is refused).
    """

    raise_error = True  # LangChain swallows callback errors unless the handler asks otherwise

    def __init__(
        self, *, max_tokens: int = 0, max_cost_usd: float = 0.0, model: str | None = None
    ) -> None:
        self.max_tokens = max_tokens
        self.max_cost_usd = max_cost_usd
        self.default_model = model
        self._lock = threading.Lock()
        self._usage = Usage()
        self._started: dict[UUID, tuple[str | None, int]] = {}

    def totals(self) -> Usage:
        with self._lock:
            return self._usage

    def is_over(self, usage: Usage | None = None) -> bool:
        usage = usage or self.totals()
        return bool(
            (self.max_tokens and usage.total_tokens > self.max_tokens)
            or (self.max_cost_usd and usage.cost_usd > self.max_cost_usd)
        )

    def _check(self) -> None:
        usage = self.totals()
        if self.is_over(usage):
            raise BudgetExceeded(usage, max_tokens=self.max_tokens, max_cost_usd=self.max_cost_usd)

    # --- callbacks -------------------------------------------------------------------------

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        self._check()
        prompt = "\n".join(str(m.text) for batch in messages for m in batch)
        model = _model_name(kwargs) or self.default_model
        with self._lock:
            # Counted now in case the server reports no usage; replaced by its numbers if it does.
            self._started[run_id] = (model, count_tokens(prompt, model))

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            model, counted_prompt = self._started.pop(run_id, (self.default_model, 0))
        prompt_tokens, completion_tokens, reported_model = _reported_usage(response)
        if prompt_tokens is None:
            prompt_tokens = counted_prompt
        if completion_tokens is None:
            completion_tokens = count_tokens(_generated_text(response), model)
        model = reported_model or model
        usage = Usage(
            prompt_tokens,
            completion_tokens,
            cost_usd(model, prompt_tokens, completion_tokens),
            1,
        )
        with self._lock:
            self._usage = self._usage + usage
        self._check()

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            self._started.pop(run_id, None)


def _model_name(kwargs: Mapping[str, Any]) -> str | None:
    params = kwargs.get("invocation_params") or {}
    metadata = kwargs.get("metadata") or {}
    name = params.get("model_name") or params.get("model") or metadata.get("ls_model_name")
    return str(name) if name else None


def _reported_usage(response: LLMResult) -> tuple[int | None, int | None, str | None]:
    prompt = completion = None
    model = None
    for batch in response.generations:
        for generation in batch:
            if not isinstance(generation, ChatGeneration):
                continue
            message = generation.message
            usage = getattr(message, "usage_metadata", None)
            if usage:
                prompt = (prompt or 0) + usage.get("input_tokens", 0)
                completion = (completion or 0) + usage.get("output_tokens", 0)
            model = model or message.response_metadata.get("model_name")
    if prompt is None and response.llm_output:
        token_usage = response.llm_output.get("token_usage") or {}
        if token_usage:
            prompt = token_usage.get("prompt_tokens")
            completion = token_usage.get("completion_tokens")
        model = model or response.llm_output.get("model_name")
    return prompt, completion, model


def _generated_text(response: LLMResult) -> str:
    parts = []
    for batch in response.generations:
        for generation in batch:
            parts.append(generation.text)
            if isinstance(generation, ChatGeneration):
                parts += [
                    str(call["args"]) for call in getattr(generation.message, "tool_calls", [])
                ]
    return "\n".join(parts)
