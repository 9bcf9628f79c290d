"""The conversation as the offline model sees it: the request, tool runs, what came before."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

# Keys under which a tool may return its list of records ({"leads": [...]} and the like).
LIST_KEYS = (
    "leads", "matches", "results", "items", "sequences", "approvals", "snippets", "drafts",
    "data",
)  # fmt: skip


@dataclass(frozen=True)
class ToolRun:
    """One tool call the model made and what came back."""

    name: str
    args: dict[str, Any]
    result: Any  # the parsed JSON result, or the raw text when it is not JSON
    error: str | None = None


@dataclass(frozen=True)
class Conversation:
    request: str  # the newest human message
    runs: tuple[ToolRun, ...]  # tool runs since that message, oldest first
    history: tuple[ToolRun, ...]  # tool runs before it, oldest first
    previous_request: str | None  # the human message before the newest one
    previous_reply: str | None  # the model's last text answer before the newest message

    def run(self, name: str) -> ToolRun | None:
        """The newest run of tool `name` in this turn."""
        return next((run for run in reversed(self.runs) if run.name == name), None)

    def earlier(self, name: str) -> ToolRun | None:
        """The newest successful run of tool `name`, this turn first, then earlier turns."""
        for run in (*reversed(self.runs), *reversed(self.history)):
            if run.name == name and run.error is None:
                return run
        return None

    def last_lead_id(self) -> int | None:
        """The lead this conversation talked about last (from tool args or single results)."""
        for run in (*reversed(self.runs), *reversed(self.history)):
            found = _as_int(run.args.get("lead_id"))
            if found is None and run.error is None and isinstance(run.result, dict):
                found = lead_id_of(run.result)
            if found is not None:
                return found
        return None


def read_conversation(messages: Sequence[BaseMessage]) -> Conversation:
    """Split the messages at the newest human message and pair tool calls with their results."""
    human_at = [i for i, message in enumerate(messages) if isinstance(message, HumanMessage)]
    last = human_at[-1] if human_at else -1
    previous = human_at[-2] if len(human_at) > 1 else None
    replies = [
        m.text
        for m in messages[previous if previous is not None else 0 : max(last, 0)]
        if isinstance(m, AIMessage) and m.text and not m.tool_calls
    ]
    return Conversation(
        request=messages[last].text if last >= 0 else "",
        runs=tuple(_tool_runs(messages[last + 1 :])),
        history=tuple(_tool_runs(messages[: max(last, 0)])),
        previous_request=messages[previous].text if previous is not None else None,
        previous_reply=replies[-1] if replies else None,
    )


def _tool_runs(messages: Iterable[BaseMessage]) -> list[ToolRun]:
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    runs: list[ToolRun] = []
    for message in messages:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                calls[call.get("id") or ""] = (call["name"], dict(call["args"]))
        elif isinstance(message, ToolMessage):
            name, args = calls.get(message.tool_call_id, (message.name or "", {}))
            result, error = parse_result(message)
            runs.append(ToolRun(name=name, args=args, result=result, error=error))
    return runs


def parse_result(message: ToolMessage) -> tuple[Any, str | None]:
    """(result, error): tools return JSON strings; errors are status=error, 'Error: ...' or
    a JSON object with an `error` key."""
    text = message.text.strip()
    try:
        result: Any = json.loads(text)
    except ValueError:
        result = text
    if message.status == "error" or (isinstance(result, str) and text.startswith("Error")):
        return result, _error_text(text)
    if isinstance(result, dict) and result.get("error") and len(result) <= 3:
        return result, str(result["error"])
    return result, None


def _error_text(text: str) -> str:
    # LangGraph's ToolNode appends advice meant for a model, not for the marketer.
    text = text.removeprefix("Error:").strip()
    return text.split(" Please fix your mistakes")[0].strip()


def records(result: Any) -> list[dict[str, Any]]:
    """The list of records in a tool result: the list itself or the first list under a known key."""
    if isinstance(result, list):
        return [item for item in result if isinstance(item, dict)]
    if isinstance(result, dict):
        for key in LIST_KEYS:
            if isinstance(result.get(key), list):
                return [item for item in result[key] if isinstance(item, dict)]
    return []


def pick(record: dict[str, Any], *keys: str) -> Any:
    """The first of `keys` the record holds with a value."""
    for key in keys:
        value = record.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def lead_id_of(record: dict[str, Any]) -> int | None:
    found = _as_int(record.get("lead_id"))
    if found is None and isinstance(record.get("lead"), dict):
        found = _as_int(record["lead"].get("lead_id") or record["lead"].get("id"))
    if found is None and any(key in record for key in ("email", "first_name", "company")):
        found = _as_int(record.get("id"))
    return found


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
