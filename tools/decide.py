"""The next best touch for a lead: a deterministic policy, and the hard rules every model obeys.

`choose_next_action` is the offline planner. `enforce_rules` is the safety net behind a real
model: whatever it proposes, hand-off, opt-out, fatigue and frequency rules win.
Lead-provided text (`notes`) is never read here, so nothing a lead writes can steer a decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from langchain_core.language_models import BaseChatModel

from prompts import render
from tools.drafting.context import prompt_context
from tools.drafting.structured import call_structured
from tools.schemas import DecisionContext, LeadBrief, NextAction, Stage

STAGES: tuple[Stage, ...] = ("problem", "solution", "vendor", "decision")
HAND_OFF_SCORE = 75.0
MIN_GAP_DAYS = 4  # tighter than every 4th day burns the list
FATIGUE_UNOPENED = 3  # unopened in a row before a pause
FATIGUE_PAUSE_DAYS = 10  # within the 7-14 day window
LONG_FATIGUE_PAUSE_DAYS = 14  # a second streak of silence pauses longer
OUT_OF_NURTURE = {"customer": "a customer", "disqualified": "disqualified"}
OUT_OF_NURTURE_DAYS = 90
NO_EMAIL_RECHECK_DAYS = 30
WITH_SALES_DAYS = 30
MQL_FIT, MQL_BEHAVIOUR = 60.0, 40.0

# Segment -> the content stage it calls for (late-stage signals outrank the rest).
SEGMENT_STAGE: dict[str, Stage] = {
    "late:pricing": "decision",
    "late:trial": "decision",
    "late:reply": "decision",
    "late:demo": "vendor",
    "re-engage": "solution",
}
TRIGGER_STAGE: dict[str, Stage] = {
    "pricing_page_view": "decision",
    "trial_signup": "decision",
    "product_milestone": "decision",
    "webinar_attended": "solution",
    "video_watched": "solution",
    "content_download": "solution",
    "email_click": "solution",
    "form_submit": "solution",
}
TRIGGER_WORDS: dict[str, str] = {
    "pricing_page_view": "viewed pricing",
    "trial_signup": "started a trial",
    "product_milestone": "reached a product milestone",
    "webinar_attended": "attended a webinar",
    "video_watched": "watched a video",
    "content_download": "downloaded content",
    "email_click": "clicked an email",
    "form_submit": "submitted a form",
    "page_view": "browsed the site",
}
BUYER_CLUSTER_WORDS = ("pricing", "demo", "trial", "buyer")

# Search queries per stage: the usual angle, and a different one after a streak of silence.
QUERIES: dict[Stage, tuple[str, str]] = {
    "problem": (
        "skills gap {topic} {industry} career growth",
        "upskilling while working full time why people stall",
    ),
    "solution": (
        "{topic} career guide programme comparison",
        "what's new cohorts weekend shorter modules {topic}",
    ),
    "vendor": (
        "{topic} case study results team licence ROI",
        "live class preview counselling call {topic}",
    ),
    "decision": (
        "{topic} pricing instalments scholarships",
        "honest answers common objections FAQ {topic}",
    ),
}


@dataclass
class Decision:
    """The action taken and how it was reached (what a run records)."""

    action: NextAction
    source: Literal["model", "policy"]
    overridden: bool = False
    proposed: NextAction | None = None
    prompt_ref: str | None = None
    model_name: str = "policy"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: list[str] = field(default_factory=list)


def choose_next_action(ctx: DecisionContext) -> NextAction:
    """The next best touch for `ctx.lead`, by the rules of DOMAIN.md (first rule that applies)."""
    lead = ctx.lead
    return hard_rule(lead) or _send(lead)


def decide_next_action(
    model: BaseChatModel | None,
    ctx: DecisionContext,
    *,
    prompts_dir: Path | str | None = None,
) -> Decision:
    """The next action from `model` (the `decide_next_action` prompt), checked by the hard
    rules; the policy alone when there is no model or it gives no usable answer."""
    if model is None:
        return Decision(action=choose_next_action(ctx), source="policy")
    prompt = render(
        "decide_next_action",
        prompts_dir=prompts_dir,
        context=prompt_context(ctx).model_dump_json(exclude_none=True),
    )
    answer = call_structured(model, NextAction, prompt)
    decision = Decision(
        action=choose_next_action(ctx),
        source="policy",
        prompt_ref=f"{prompt.id}@{prompt.version}",
        model_name=answer.model_name,
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        errors=answer.errors,
    )
    if answer.value is not None:
        decision.proposed = answer.value
        decision.action = enforce_rules(answer.value, ctx)
        decision.source = "model"
        decision.overridden = decision.action != answer.value
    return decision


def hard_rule(lead: LeadBrief) -> NextAction | None:
    """The action a rule forces (leave nurture, hand off, do not email, pause, wait), if any."""
    for rule in (_out_of_nurture, _hand_off, _may_not_email, _fatigue_pause, _too_soon):
        action = rule(lead)
        if action is not None:
            return action
    return None


def enforce_rules(proposed: NextAction, ctx: DecisionContext) -> NextAction:
    """A model's proposal, corrected by the hard rules (which always win).

    - a forced action (hand-off, opt-out, pause, too soon) replaces the proposal;
    - a hand-off no rule supports becomes the policy's choice (nothing a lead writes can
      route it to sales);
    - a send never moves the lead back before `lead.stage`, and a video needs a first name.
    """
    lead = ctx.lead
    forced = hard_rule(lead)
    if forced is not None:
        if forced.action == proposed.action == "hand_off":
            return proposed
        if forced.action == proposed.action == "wait":
            return proposed.model_copy(
                update={"wait_days": max(forced.wait_days, proposed.wait_days)}
            )
        return forced.model_copy(update={"reason": f"{forced.reason} (rule over the model)"})
    policy = _send(lead)
    if proposed.action == "hand_off":
        return policy.model_copy(
            update={"reason": f"{policy.reason} (no hand-off rule applies; model overruled)"}
        )
    if proposed.action == "wait":
        return proposed  # holding back is always allowed
    update: dict[str, object] = {}
    if _rank(proposed.stage) < _rank(lead.stage):
        update["stage"] = lead.stage
    if proposed.action == "send_video" and not _video_ready(lead):
        update["action"] = "send_email"
    if not proposed.query.strip():
        update["query"] = policy.query
    return proposed.model_copy(update=update) if update else proposed


def content_stage(lead: LeadBrief) -> Stage:
    """The furthest stage the lead's segments, trigger, lifecycle, score and history support."""
    candidates: list[Stage] = [lead.stage]
    for segment in lead.segments:
        if segment in SEGMENT_STAGE:
            candidates.append(SEGMENT_STAGE[segment])
        elif segment.startswith("mofu:"):
            candidates.append("solution")
    if lead.trigger in TRIGGER_STAGE:
        candidates.append(TRIGGER_STAGE[lead.trigger])
    if lead.lifecycle_stage == "mql" or _is_mql(lead) or lead.decile == 1:
        candidates.append("vendor")
    # The arc moves on with the touches: education first, proof later, then the ask. After
    # eight touches a lead still opening them (the last one opened) gets the ask itself.
    if "re-engage" not in lead.segments:
        if lead.touches_sent >= 8:
            candidates.append("decision" if lead.unopened_in_a_row == 0 else "vendor")
        elif lead.touches_sent >= 4:
            candidates.append("solution")
    stage = max(candidates, key=_rank)
    if "enterprise" in lead.segments and stage == "solution":
        stage = "vendor"  # enterprise track: team licences, case studies, ROI
    return stage


def main_theme(lead: LeadBrief) -> str | None:
    """The course theme the lead engaged with most (themes first, then the mofu segment)."""
    for theme in lead.themes:
        if theme and theme != "general":
            return theme
    for segment in lead.segments:
        if segment.startswith("mofu:") and segment != "mofu:general":
            return segment.removeprefix("mofu:")
    return None


def _out_of_nurture(lead: LeadBrief) -> NextAction | None:
    who = OUT_OF_NURTURE.get(lead.lifecycle_stage)
    if who is None:
        return None
    return _wait(lead, OUT_OF_NURTURE_DAYS, f"The lead is {who}, so it leaves nurture.")


def _hand_off(lead: LeadBrief) -> NextAction | None:
    if lead.lifecycle_stage == "sql":
        return _wait(lead, WITH_SALES_DAYS, "Already with sales (SQL); nurture holds.")
    reason = None
    if lead.trigger == "demo_request" or ("late:demo" in lead.segments and lead.high_intent_48h):
        reason = "Asked for a demo: hand off to a rep now."
    elif lead.trigger == "email_reply":
        reason = "Replied to an email: a person should answer and ask for the conversation."
    elif (
        lead.may_email
        and lead.score is not None
        and lead.score > HAND_OFF_SCORE
        and lead.high_intent_48h
    ):
        reason = (
            f"Score {lead.score:.0f} (> {HAND_OFF_SCORE:.0f}) with a high-intent signal "
            "in the last 48 hours: sales-ready."
        )
    if reason is None:
        return None
    return NextAction(
        action="hand_off",
        stage="decision",
        theme=main_theme(lead),
        query=_query(lead, "decision"),
        wait_days=0,
        reason=reason,
    )


def _may_not_email(lead: LeadBrief) -> NextAction | None:
    if lead.may_email and "excluded" not in lead.segments:
        return None
    return _wait(
        lead,
        NO_EMAIL_RECHECK_DAYS,
        "We may not email this lead (opted out, no consent or suppressed); no touch.",
    )


def _fatigue_pause(lead: LeadBrief) -> NextAction | None:
    if lead.unopened_in_a_row < FATIGUE_UNOPENED:
        return None
    pause = _fatigue_days(lead)
    since = lead.days_since_last_touch or 0
    if since >= pause:
        return None  # paused long enough: _send picks a different angle
    return _wait(
        lead,
        pause - since,
        f"{lead.unopened_in_a_row} emails unopened in a row: pause {pause} days after the "
        "last touch, then try a different angle.",
    )


def _too_soon(lead: LeadBrief) -> NextAction | None:
    since = lead.days_since_last_touch
    if since is None or since >= MIN_GAP_DAYS:
        return None
    return _wait(
        lead,
        MIN_GAP_DAYS - since,
        f"Last touch {since} day{'s' if since != 1 else ''} ago; no touch within "
        f"{MIN_GAP_DAYS} days of the previous one.",
    )


def _send(lead: LeadBrief) -> NextAction:
    stage = content_stage(lead)
    fresh_angle = lead.unopened_in_a_row >= FATIGUE_UNOPENED
    video = _video_ready(lead) and _video_worthy(lead) and stage in ("vendor", "decision")
    channel = "a personalized video" if video else "an email"
    theme = main_theme(lead)
    about = f" on {theme.replace('-', ' ')}" if theme else ""
    if fresh_angle:
        why = f"After {lead.unopened_in_a_row} unopened emails and a pause, a different angle"
    elif lead.trigger in TRIGGER_WORDS:
        why = f"The lead {TRIGGER_WORDS[lead.trigger]}"
    elif lead.touches_sent == 0:
        why = "First touch"
    else:
        why = "Next step in the nurture arc"
    return NextAction(
        action="send_video" if video else "send_email",
        stage=stage,
        theme=theme,
        query=_query(lead, stage, fresh_angle=fresh_angle),
        wait_days=0,
        reason=f"{why}: {channel} at the {stage} stage{about}.",
    )


def _wait(lead: LeadBrief, days: int, reason: str) -> NextAction:
    return NextAction(
        action="wait",
        stage=content_stage(lead),
        theme=main_theme(lead),
        query="",
        wait_days=max(1, min(90, days)),
        reason=reason,
    )


def _query(lead: LeadBrief, stage: Stage, *, fresh_angle: bool = False) -> str:
    usual, different = QUERIES[stage]
    theme = main_theme(lead)
    topic = theme.replace("-", " ") if theme else ""
    query = (different if fresh_angle else usual).format(
        topic=topic, industry=(lead.industry or "").lower()
    )
    if "enterprise" in lead.segments:
        query += " team licence enterprise"
    if "re-engage" in lead.segments and not fresh_angle:
        query += " what's new"
    return " ".join(query.split())


def _fatigue_days(lead: LeadBrief) -> int:
    if lead.unopened_in_a_row >= 2 * FATIGUE_UNOPENED:
        return LONG_FATIGUE_PAUSE_DAYS
    return FATIGUE_PAUSE_DAYS


def _video_ready(lead: LeadBrief) -> bool:
    """A personal video greets by name: without a first name it is just an ad."""
    return bool(lead.first_name and lead.first_name.strip())


def _video_worthy(lead: LeadBrief) -> bool:
    """Top decile, or a behavioural cluster of buyers (pricing / demo / trial)."""
    if lead.decile == 1:
        return True
    return any(
        segment.startswith("cluster:") and any(word in segment for word in BUYER_CLUSTER_WORDS)
        for segment in lead.segments
    )


def _is_mql(lead: LeadBrief) -> bool:
    return (
        lead.fit is not None
        and lead.behaviour is not None
        and lead.fit >= MQL_FIT
        and lead.behaviour >= MQL_BEHAVIOUR
    )


def _rank(stage: Stage) -> int:
    return STAGES.index(stage)
