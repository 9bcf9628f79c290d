"""What the nurture graph needs from outside, injected so tests can swap any part."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from tools.cadence import SendWindow
from tools.schemas import DecisionContext, LeadBrief, NextAction, Sender, Snippet


def utc_now() -> datetime:
    return datetime.now(UTC)


def top_decile(brief: LeadBrief) -> bool:
    """Human review of full sends for the top 10 % of leads (DOMAIN.md)."""
    return brief.decile == 1


@dataclass
class NurtureDeps:
    engine: Engine
    sender: Sender
    # (context) -> the next best action; hard rules already applied.
    decide: Callable[[DecisionContext], NextAction]
    # (lead, action) -> cited snippets from the content library.
    retrieve: Callable[[LeadBrief, NextAction], list[Snippet]]
    # (context) -> {"kind", "content", "body", "sources", "model", "prompt_version",
    #               "prompt_tokens", "completion_tokens", "cost_usd", "guardrail_issues"}
    draft: Callable[[DecisionContext], dict[str, Any]]
    # (session, lead, action) -> the id of the lead's open hand-off.
    hand_off: Callable[[Session, LeadBrief, NextAction], int]
    needs_approval: Callable[[LeadBrief], bool] = top_decile
    # Fresh LangChain callbacks for each pass, e.g. the run's token and cost budget.
    run_callbacks: Callable[[], list[Any]] = list
    window: SendWindow = field(default_factory=SendWindow)
    clock: Callable[[], datetime] = utc_now
