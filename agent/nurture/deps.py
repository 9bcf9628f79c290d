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
from tools.senders import sender_for
from tools.sequences.enrol import enrol
from tools.triggers.steps import refresh_step_times, step_hint


def utc_now() -> datetime:
    return datetime.now(UTC)


def due_step_hint(session: Session, lead_id: int, now: datetime) -> dict[str, Any] | None:
    """The hint of the lead's due sequence step (stage, theme, channel), if a step is due."""
    return step_hint(session, lead_id=lead_id, now=now)


def enrol_in_sequence(
    session: Session, lead_id: int, segments: list[str], event: str | None, now: datetime
) -> None:
    """Keep the lead in the track its current `segments` (and the event that woke it) point
    to, with the time of its next step."""
    enrol(session, lead_id, segments=segments, event_type=event, now=now)
    refresh_step_times(session, now=now, lead_id=lead_id)


def same_window(
    session: Session, brief: LeadBrief, touch_id: int, window: SendWindow
) -> SendWindow:
    """The configured send window, for every touch."""
    return window


def top_decile(brief: LeadBrief) -> bool:
    """Human review of full sends for the top 10 % of leads (DOMAIN.md)."""
    return brief.decile == 1


@dataclass
class NurtureDeps:
    engine: Engine
    sender: Sender  # the main sender
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
    # (session, lead id, its segments, event type or None, now): enrol the lead after
    # segmenting it.
    enrol: Callable[[Session, int, list[str], str | None, datetime], None] = enrol_in_sequence
    # (session, lead id, now) -> the hint for a pass that was given none (a due step's).
    hint_for: Callable[[Session, int, datetime], dict[str, Any] | None] = due_step_hint
    # (session, lead, touch id, window) -> the window the touch is scheduled in (a send-time
    # experiment narrows it to the hour band it assigns the touch).
    window_for: Callable[[Session, LeadBrief, int, SendWindow], SendWindow] = same_window
    # Colleagues who sign in turn after an unopened streak's pause (NURTURE_ALT_SENDERS).
    alt_senders: tuple[Sender, ...] = ()

    def sender_for(self, session: Session, lead_id: int, now: datetime) -> Sender:
        """Who signs this lead's next touch: the main sender, or whose turn it is."""
        team = (self.sender, *self.alt_senders)
        return sender_for(session, lead_id=lead_id, team=team, now=now)
