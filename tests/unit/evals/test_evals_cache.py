"""The model-call cache: the same model, messages and tools are answered once, across runs."""

from __future__ import annotations

from pathlib import Path

from langchain_core.messages import HumanMessage

from evals.cache import CacheStats, ModelCallCache, current_stats
from tests.fakes import ScriptedChatModel, reply


def test_a_repeated_call_is_answered_from_the_file_not_the_model(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = ModelCallCache(path)
    model = ScriptedChatModel.of(reply("first answer", usage=(12, 3)))
    model.cache = cache
    assert model.invoke([HumanMessage("hello")]).content == "first answer"
    # the script is used up: a second call reaching the model would fail the test
    again = model.invoke([HumanMessage("hello")])
    assert again.content == "first answer" and again.usage_metadata is not None
    assert again.usage_metadata["input_tokens"] == 12
    assert len(model.prompts) == 1 and (cache.stats.hits, cache.stats.misses) == (1, 1)
    cache.close()
    reopened = ModelCallCache(path)  # a later run, another process
    fresh = ScriptedChatModel.of()
    fresh.cache = reopened
    assert fresh.invoke([HumanMessage("hello")]).content == "first answer"
    assert len(reopened) == 1


def test_other_messages_are_new_calls(tmp_path: Path) -> None:
    cache = ModelCallCache(tmp_path / "cache.sqlite")
    model = ScriptedChatModel.of(reply("one"), reply("two"))
    model.cache = cache
    model.invoke([HumanMessage("hello")])
    assert model.invoke([HumanMessage("hello again")]).content == "two"
    assert cache.stats.hits == 0 and len(cache) == 2


def test_hits_are_counted_for_the_case_running_in_this_context(tmp_path: Path) -> None:
    cache = ModelCallCache(tmp_path / "cache.sqlite")
    model = ScriptedChatModel.of(reply("once"))
    model.cache = cache
    model.invoke([HumanMessage("hi")])
    stats = CacheStats()
    token = current_stats.set(stats)
    try:
        model.invoke([HumanMessage("hi")])
    finally:
        current_stats.reset(token)
    assert (stats.hits, stats.misses) == (1, 0) and cache.stats.hits == 1


def test_an_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    cache = ModelCallCache(tmp_path / "cache.sqlite")
    model = ScriptedChatModel.of(reply("fresh"))
    model.cache = cache
    with cache._db:
        cache._db.execute("INSERT INTO answers VALUES ('x', 'not json')")
    assert cache.lookup("p", "l") is None
    assert model.invoke([HumanMessage("hi")]).content == "fresh"
