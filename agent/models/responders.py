"""Offline answers to structured-output requests: schema name -> a pure function of the context.

The offline model stays generic: when it is asked for `NextAction`, `EmailDraft` or
`VideoScript`, it parses the `<context>` block of the prompt into a `DecisionContext` and hands
it to the function registered here under the schema's name.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, ValidationError

from tools.schemas import DecisionContext

Responder = Callable[[DecisionContext], BaseModel]

# Where the shipped responders live, imported on first use so this module loads without them.
DEFAULT_TARGETS: dict[str, str] = {
    "NextAction": "tools.decide:choose_next_action",
    "EmailDraft": "tools.drafting.templates:template_email",
    "VideoScript": "tools.drafting.templates:template_video_script",
}

_CONTEXT = re.compile(r"<context>(.*?)</context>", re.DOTALL)


class OfflineModelError(ValueError):
    """The offline model cannot answer this request; the message says what to change."""


class ResponderRegistry:
    """Schema name -> responder; entries are callables or "module:function" paths."""

    def __init__(self, targets: Mapping[str, str | Responder] | None = None) -> None:
        self._entries: dict[str, str | Responder] = dict(
            DEFAULT_TARGETS if targets is None else targets
        )

    def names(self) -> frozenset[str]:
        return frozenset(self._entries)

    def register(self, name: str, responder: str | Responder) -> None:
        self._entries[name] = responder

    @contextmanager
    def override(self, name: str, responder: str | Responder) -> Iterator[None]:
        """Use `responder` for `name` inside the block, then restore what was there."""
        missing = object()
        previous = self._entries.get(name, missing)
        self._entries[name] = responder
        try:
            yield
        finally:
            if previous is missing:
                del self._entries[name]
            else:
                self._entries[name] = previous  # type: ignore[assignment]

    def get(self, name: str) -> Responder:
        entry = self._entries.get(name)
        if entry is None:
            known = ", ".join(sorted(self._entries)) or "none"
            raise OfflineModelError(
                f"the offline model has no responder for {name!r} (it answers {known}); "
                "register one with agent.models.responders.DEFAULT_RESPONDERS.register"
            )
        if callable(entry):
            return entry
        module_name, _, function_name = entry.partition(":")
        try:
            function = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError) as exc:
            raise OfflineModelError(
                f"the offline responder for {name!r} ({entry}) cannot be loaded: {exc}"
            ) from exc
        self._entries[name] = function
        return function


DEFAULT_RESPONDERS = ResponderRegistry()


def find_context(messages: Sequence[BaseMessage]) -> DecisionContext:
    """The `DecisionContext` in the newest `<context>...</context>` block of the prompt."""
    for message in reversed(messages):
        found = _CONTEXT.findall(message.text)
        if found:
            return _parse_context(found[-1])
    raise OfflineModelError(
        "the offline model needs the lead's context to answer: put "
        "DecisionContext.model_dump_json() inside <context>...</context> in the prompt "
        "(tools/schemas.py)"
    )


def _parse_context(raw: str) -> DecisionContext:
    try:
        return DecisionContext.model_validate_json(raw.strip())
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'context'}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        raise OfflineModelError(
            f"the <context> block is not a valid DecisionContext ({problems}); "
            "build it with DecisionContext(...).model_dump_json()"
        ) from None
    except json.JSONDecodeError as exc:  # pragma: no cover - pydantic reports bad JSON above
        raise OfflineModelError(f"the <context> block is not JSON: {exc}") from None
