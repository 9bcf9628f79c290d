"""The state of one pass of the nurture graph over a lead (all JSON-serialisable)."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

Result = Literal["scheduled", "handed_off", "waiting", "held", "rejected", "awaiting_approval"]


class NurtureState(TypedDict, total=False):
    lead_id: int  # the lead this thread belongs to
    run_key: str  # unique per pass; side-effecting nodes key their writes on it
    trigger: str | None  # the event type that woke the agent, if any
    # A due sequence step's or a trigger's suggestion (stage, theme, channel); hard rules win.
    hint: dict[str, Any] | None
    brief: dict[str, Any]  # tools.schemas.LeadBrief, as of this pass
    sender: dict[str, Any] | None  # tools.schemas.Sender who signs this pass's touch
    action: dict[str, Any]  # tools.schemas.NextAction chosen for this pass
    snippets: list[dict[str, Any]]  # tools.schemas.Snippet retrieved for the draft
    draft: dict[str, Any]  # the draft and its provenance (prompt version, model, tokens)
    guardrail_issues: list[dict[str, Any]]  # findings; any one holds the draft back
    touch_id: int | None  # the touch this pass queued
    draft_id: int | None
    approval_id: int | None  # set when the draft waits for a human
    decision: dict[str, Any] | None  # the human's verdict: status, by, reason, edits
    handoff_id: int | None
    result: Result
