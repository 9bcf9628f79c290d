"""The agent's side of experiments: holdout leads get the plain drip, the others get the variants
their segment's running experiments pick (subject, call to action, video vs text, send hour)."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from sqlalchemy import Engine
from sqlmodel import Session

from agent.models.offline import OfflineChatModel
from agent.settings import Settings
from store.db import session_scope
from tools.bandit.experiments import (
    choose_variant,
    record_engagement,
    running_by_dimension,
    running_segments,
)
from tools.bandit.holdout import HoldoutCohort, in_holdout
from tools.bandit.send_time import choose_send_window
from tools.bandit.variants import apply_variant, write_variants
from tools.cadence import SendWindow
from tools.schemas import DecisionContext, EmailDraft, LeadBrief, NextAction

FORMAT_ACTIONS = {"text": "send_email", "video": "send_video"}
EMAIL_DIMENSIONS = ("subject", "cta")


def holdout_cohort(settings: Settings) -> HoldoutCohort:
    """The configured holdout (share and salt), for reports that compare nurture with it."""
    return HoldoutCohort(share=settings.holdout_share, salt=settings.holdout_salt)


def is_holdout(settings: Settings, lead_id: int) -> bool:
    """Whether the lead belongs to the holdout cohort (the plain baseline drip)."""
    return in_holdout(lead_id, share=settings.holdout_share, salt=settings.holdout_salt)


def experiment_segment(brief: LeadBrief, running: set[str]) -> str | None:
    """The first of the lead's segments among those `running` an experiment, else '*' when
    one runs for every lead, else None."""
    return next((s for s in brief.segments if s in running), "*" if "*" in running else None)


def vary_email(
    engine: Engine,
    settings: Settings,
    model: BaseChatModel | None,
    ctx: DecisionContext,
    draft: EmailDraft,
    *,
    rng: np.random.Generator | None = None,
) -> tuple[EmailDraft, list[dict[str, Any]]]:
    """The draft with the subject and call to action the running experiments chose for this
    lead, and those choices; a holdout lead's draft is left as it is."""
    if is_holdout(settings, ctx.lead.lead_id):
        return draft, []
    rng = rng if rng is not None else np.random.default_rng()
    writer = None if isinstance(model, OfflineChatModel) else model
    chosen: list[dict[str, Any]] = []
    base = draft
    with session_scope(engine) as session:
        running = running_by_dimension(session, dimensions=EMAIL_DIMENSIONS)
        for dimension in EMAIL_DIMENSIONS:
            segment = experiment_segment(ctx.lead, running.get(dimension, set()))
            if segment is None:
                continue
            choice = choose_variant(
                session,
                segment=segment,
                dimension=dimension,
                lead_id=ctx.lead.lead_id,
                rng=rng,
                candidates=partial(write_variants, writer, base, ctx, dimension),
                candidate_source="draft" if writer is None else "model",
            )
            if choice is not None:
                draft = apply_variant(draft, ctx, dimension, choice.value)
                chosen.append(choice.as_dict())
    return draft, chosen


def vary_format(
    engine: Engine,
    settings: Settings,
    brief: LeadBrief,
    action: NextAction,
    *,
    rng: np.random.Generator | None = None,
) -> NextAction:
    """Video or text as the segment's running format experiment picks (emails and videos
    only; a holdout lead keeps the action it was given)."""
    if action.action not in FORMAT_ACTIONS.values() or is_holdout(settings, brief.lead_id):
        return action
    rng = rng if rng is not None else np.random.default_rng()
    with session_scope(engine) as session:
        segment = experiment_segment(brief, running_segments(session, dimension="format"))
        if segment is None:
            return action
        choice = choose_variant(
            session,
            segment=segment,
            dimension="format",
            lead_id=brief.lead_id,
            rng=rng,
        )
    if choice is None:
        return action
    return action.model_copy(update={"action": FORMAT_ACTIONS[choice.value]})


def send_window_for(
    settings: Settings,
    session: Session,
    brief: LeadBrief,
    touch_id: int,
    window: SendWindow,
    *,
    rng: np.random.Generator | None = None,
) -> SendWindow:
    """The window the touch is scheduled in: the hour band the lead's running send-time
    experiment assigns it, within `window`; a holdout lead's touch keeps the plain window."""
    if is_holdout(settings, brief.lead_id):
        return window
    return choose_send_window(
        session,
        lead_id=brief.lead_id,
        segments=brief.segments,
        touch_id=touch_id,
        window=window,
        rng=rng if rng is not None else np.random.default_rng(),
    )


def reward_variants(session: Session, rows: list[dict[str, Any]]) -> int:
    """Engagement events (click, reply, demo request) reward the arm behind their touch."""
    return record_engagement(session, rows)
