"""The per-run budget: usage summed over calls, costs by model, a clear stop when over."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.output_parsers import StrOutputParser

from agent.models import BudgetExceeded, OfflineChatModel, RunBudget, cost_usd
from agent.models.budget import price_for
from knowledge.tokens import count_tokens
from tests.fakes import ScriptedChatModel, reply, tool_calls


def test_prices_match_the_longest_model_prefix() -> None:
    assert price_for("gpt-4o-mini-2024-07-18") == (0.15, 0.60)
    assert price_for("gpt-4o-2024-08-06") == (2.50, 10.00)
    assert price_for("openai/gpt-4.1-mini") == (0.40, 1.60)
    assert price_for("Qwen/Qwen2.5-7B-Instruct") == (0.0, 0.0)
    assert price_for("offline") == (0.0, 0.0)
    assert cost_usd("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)


def test_offline_usage_is_summed_and_free() -> None:
    budget = RunBudget()
    model = OfflineChatModel()
    first = model.invoke([HumanMessage("hello")], config={"callbacks": [budget]})
    second = model.invoke([HumanMessage("help")], config={"callbacks": [budget]})
    totals = budget.totals()
    assert first.usage_metadata and second.usage_metadata
    assert totals.calls == 2
    assert totals.prompt_tokens == (
        first.usage_metadata["input_tokens"] + second.usage_metadata["input_tokens"]
    )
    assert totals.completion_tokens == (
        first.usage_metadata["output_tokens"] + second.usage_metadata["output_tokens"]
    )
    assert totals.cost_usd == 0.0


def test_priced_models_cost_money_and_the_difference_is_one_draft() -> None:
    model = ScriptedChatModel.of(
        reply("a", usage=(1000, 200), model="gpt-4o-mini"),
        reply("b", usage=(3000, 500), model="gpt-4o-mini-2024-07-18"),
    )
    budget = RunBudget()
    model.invoke("first", config={"callbacks": [budget]})
    before = budget.totals()
    model.invoke("second", config={"callbacks": [budget]})
    draft = budget.totals() - before
    assert (draft.prompt_tokens, draft.completion_tokens, draft.calls) == (3000, 500, 1)
    assert draft.cost_usd == pytest.approx(3000 * 0.15e-6 + 500 * 0.60e-6)
    assert budget.totals().total_tokens == 4700


def test_going_over_the_token_cap_stops_the_run() -> None:
    model = ScriptedChatModel.of(
        reply("a", usage=(600, 100)), reply("b", usage=(600, 100)), reply("c", usage=(1, 1))
    )
    budget = RunBudget(max_tokens=1000)
    model.invoke("one", config={"callbacks": [budget]})
    with pytest.raises(BudgetExceeded, match="1,400 tokens against a cap of 1,000") as caught:
        model.invoke("two", config={"callbacks": [budget]})
    assert "NURTURE_RUN_TOKEN_BUDGET" in str(caught.value)
    assert caught.value.usage.calls == 2
    with pytest.raises(BudgetExceeded):  # the next call is refused before it is made
        model.invoke("three", config={"callbacks": [budget]})
    assert len(model.prompts) == 2


def test_going_over_the_cost_cap_stops_the_run() -> None:
    model = ScriptedChatModel.of(reply("a", usage=(100_000, 10_000), model="gpt-4o"))
    budget = RunBudget(max_cost_usd=0.10)
    with pytest.raises(BudgetExceeded, match=r"\$0\.3500 against a cap of \$0\.1000"):
        model.invoke("one", config={"callbacks": [budget]})


def test_zero_caps_mean_no_cap() -> None:
    model = ScriptedChatModel.of(reply("a", usage=(10**7, 10**6), model="gpt-4o"))
    budget = RunBudget(max_tokens=0, max_cost_usd=0)
    model.invoke("one", config={"callbacks": [budget]})
    assert not budget.is_over() and budget.totals().cost_usd == pytest.approx(35.0)


def test_without_reported_usage_tokens_are_counted() -> None:
    prompt = "Summarise the pipeline for the enterprise segment, please."
    model = ScriptedChatModel.of(
        reply("Twelve new MQLs."), tool_calls(("find_leads", {"query": "Acme"}))
    )
    budget = RunBudget(model="gpt-4o-mini")
    model.invoke([HumanMessage(prompt)], config={"callbacks": [budget]})
    totals = budget.totals()
    assert totals.prompt_tokens == count_tokens(prompt, "gpt-4o-mini")
    assert totals.completion_tokens == count_tokens("Twelve new MQLs.", "gpt-4o-mini")
    assert totals.cost_usd > 0
    model.invoke([HumanMessage(prompt)], config={"callbacks": [budget]})
    assert budget.totals().completion_tokens > totals.completion_tokens  # tool-call args count


def test_budget_covers_streaming_and_nested_runs() -> None:
    budget = RunBudget()
    model = OfflineChatModel()
    streamed = list(model.stream([HumanMessage("hello")], config={"callbacks": [budget]}))
    assert budget.totals().calls == 1
    usage = streamed[-1].usage_metadata
    assert usage and budget.totals().completion_tokens == usage["output_tokens"]
    chain = model | StrOutputParser()  # a model inside a chain still reports to the handler
    chain.invoke([HumanMessage("help")], config={"callbacks": [budget]})
    assert budget.totals().calls == 2
