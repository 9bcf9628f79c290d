"""One chat turn in the browser: the agent's tokens as they come, each tool call as a step, and
the pipeline's funnel and trend charts when the answer carries the pipeline summary."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import chainlit as cl
from chainlit.utils import utc_now
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphRecursionError
from langgraph.graph.state import CompiledStateGraph

from agent.models.errors import MODEL_ERRORS, explain_model_error
from agent.settings import Settings
from tools.analytics import funnel_figure, holdout_figure, trend_figure

log = logging.getLogger("nurture.chat")
T = TypeVar("T")
# A step shows this much of a tool's result; the answer carries what matters.
STEP_OUTPUT_CHARS = 6000


async def run_turn(
    graph: CompiledStateGraph, thread_id: str, text: str, settings: Settings
) -> None:
    """Answer one message in the conversation `thread_id` (the chat thread), streaming."""
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    answer: cl.Message | None = None
    steps: dict[str, cl.Step] = {}
    summaries: list[dict[str, Any]] = []
    parts: AsyncIterator[Any] = iterate_in_thread(
        lambda: graph.stream(
            {"messages": [HumanMessage(text)]}, config, stream_mode=["messages", "updates"]
        )
    )
    try:
        async for mode, chunk in parts:
            if mode == "messages":
                message = chunk[0]
                text_part = message.content if isinstance(message, AIMessageChunk) else None
                if isinstance(text_part, str) and text_part:
                    answer = answer or cl.Message(content="")
                    await answer.stream_token(text_part)
                continue
            for update in chunk.values():
                for message in (update or {}).get("messages", []):
                    if isinstance(message, AIMessage) and message.tool_calls:
                        # Words said before calling tools stay above the steps.
                        if answer is not None:
                            await answer.send()
                            answer = None
                        for call in message.tool_calls:
                            steps[str(call["id"])] = await _open_step(call["name"], call["args"])
                    elif isinstance(message, ToolMessage):
                        summary = await _close_step(steps.pop(message.tool_call_id, None), message)
                        if summary is not None:
                            summaries.append(summary)
    except MODEL_ERRORS as exc:
        await _fail(answer, explain_model_error(exc, settings))
        return
    except GraphRecursionError:
        await _fail(
            answer,
            "The agent kept calling tools without reaching an answer; ask again more narrowly "
            "(one lead, one sequence or one period).",
        )
        return
    except Exception as exc:  # the user gets one sentence; the log gets the traceback
        log.exception("chat turn failed")
        await _fail(answer, f"The chat could not answer: {_first_line(exc)}.")
        return
    finally:
        for step in steps.values():
            step.is_error, step.output, step.end = True, "interrupted", utc_now()
            await step.update()
    answer = answer or cl.Message(content="(no answer)")
    await answer.send()
    if summaries:
        # One after the other, so the funnel always shows above the trend.
        for chart in charts(summaries[-1]):
            await chart.send(for_id=answer.id)


def charts(summary: dict[str, Any]) -> list[cl.Plotly]:
    """The funnel and the weekly trend of a pipeline summary, and nurture against the holdout
    when the summary has it, as interactive charts."""
    shown = [
        cl.Plotly(name="Pipeline funnel", figure=funnel_figure(summary), display="inline"),
        cl.Plotly(name="Weekly trend", figure=trend_figure(summary), display="inline"),
    ]
    uplift = holdout_figure(summary)
    if uplift is not None:
        shown.append(cl.Plotly(name="Nurture vs holdout", figure=uplift, display="inline"))
    return shown


async def _open_step(name: str, args: dict[str, Any]) -> cl.Step:
    # Opened here and closed when the tool answers, so not `async with`: set what it would.
    parent = cl.context.current_step
    step = cl.Step(
        name=name,
        type="tool",
        show_input="json",
        language="json",
        parent_id=parent.id if parent else None,
    )
    step.input = json.dumps(args, ensure_ascii=False, default=str)
    step.start = utc_now()
    await step.send()
    return step


async def _close_step(step: cl.Step | None, message: ToolMessage) -> dict[str, Any] | None:
    """Show the tool's result; a pipeline summary is returned for the charts."""
    content = str(message.content)
    try:
        result = json.loads(content)
    except json.JSONDecodeError:
        result = None
    failed = message.status == "error" or (isinstance(result, dict) and "error" in result)
    if step is not None:
        shown = json.dumps(result, indent=2, ensure_ascii=False) if result is not None else content
        if len(shown) > STEP_OUTPUT_CHARS:
            shown = shown[:STEP_OUTPUT_CHARS] + f"\n… ({len(shown):,} characters in all)"
        step.output = shown
        step.is_error = failed
        step.end = utc_now()
        await step.update()
    if message.name == "pipeline_summary" and not failed and isinstance(result, dict):
        return result if "totals" in result and "trend" in result else None
    return None


async def _fail(answer: cl.Message | None, sentence: str) -> None:
    if answer is not None:
        await answer.send()
    await cl.ErrorMessage(content=sentence).send()


async def iterate_in_thread(make: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
    """Run a blocking iterator in a worker thread and yield its items here, as they come.

    Leaving the loop early (the user pressed stop) makes the worker stop at its next item.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            for item in make():
                loop.call_soon_threadsafe(queue.put_nowait, (False, item))
                if stop.is_set():
                    break
        except BaseException as exc:
            loop.call_soon_threadsafe(queue.put_nowait, (True, exc))
        else:
            loop.call_soon_threadsafe(queue.put_nowait, (True, None))

    worker = loop.run_in_executor(None, pump)
    try:
        while True:
            done, item = await queue.get()
            if done:
                if item is not None:
                    raise item
                break
            yield item
    finally:
        stop.set()
        if worker.done():
            worker.result()


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return (lines[0][:300] if lines else type(error).__name__).rstrip(".")
