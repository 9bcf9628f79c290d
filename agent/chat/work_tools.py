"""Chat tools that act: draft a touch, schedule it, hand a lead off, design and run sequences,
and summarise the pipeline. Each returns JSON; failures come back as {"error": ...}."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from langchain_core.tools import BaseTool, tool
from sqlmodel import Session

from agent.chat.lead_tools import dumps
from agent.experiments import holdout_cohort, send_window_for
from agent.nurture.actions import last_touch_at
from agent.outbox import alternate_senders, send_window
from agent.wiring import NurtureParts, sender_of
from knowledge.base import KnowledgeBase
from store import crud
from store.db import session_scope
from store.models import Draft, Lead, Touch, TouchStatus
from tools import analytics
from tools.bandit.report import overview
from tools.bandit.trials import attach_to_draft, chosen_ids, link_draft_touch
from tools.brief import lead_brief
from tools.cadence import next_send_slot
from tools.decide import choose_next_action
from tools.handoff import HandoffError, create_handoff, handoff_view
from tools.schemas import DecisionContext, NextAction, Sender
from tools.senders import as_header, sender_for
from tools.sequences import design, registry
from tools.sequences.errors import SequenceError


def work_tools(parts: NurtureParts) -> list[BaseTool]:
    """The acting tools over the nurture parts (model, knowledge base, store)."""
    engine = parts.runtime.engine
    sender = sender_of(parts.settings)
    team = (sender, *alternate_senders(parts.settings))

    def signer_of(session: Session, lead_id: int) -> Sender:
        # The lead's turn of the team, as the agent's passes sign: a chat draft and the touch
        # it is scheduled as come from the same person the lead heard from last.
        return sender_for(session, lead_id=lead_id, team=team, now=datetime.now(UTC))

    def drafted(lead_id: int, kind: str, stage: str | None, theme: str | None) -> str:
        with session_scope(engine) as session:
            if session.get(Lead, lead_id) is None:
                return dumps({"error": f"no lead with id {lead_id}"})
            brief = lead_brief(session, lead_id=lead_id)
            signer = signer_of(session, lead_id)
        action = choose_next_action(DecisionContext(lead=brief))
        wanted = "send_video" if kind == "video_script" else "send_email"
        update: dict[str, Any] = {"action": wanted}
        if stage:
            update["stage"] = stage
        if theme:
            update.update(theme=theme, query=f"{theme} {action.query}".strip())
        action = NextAction.model_validate({**action.model_dump(), **update})
        snippets = parts.retrieve(brief, action)
        ctx = DecisionContext(lead=brief, snippets=snippets, sender=signer, action=action)
        result = parts.draft(ctx)
        with session_scope(engine) as session:
            draft = crud.add_draft(
                session,
                draft=Draft(
                    lead_id=lead_id,
                    kind=result["kind"],
                    subject=result["content"].get("subject") or result["content"].get("title"),
                    preview=result["content"].get("preview"),
                    body=result["body"],
                    sources=result["sources"],
                    model=result["model"],
                    prompt_version=result["prompt_version"],
                    prompt_tokens=result["prompt_tokens"],
                    completion_tokens=result["completion_tokens"],
                    tokens=result["prompt_tokens"] + result["completion_tokens"],
                    guardrails=result["guardrail_issues"],
                ),
            )
            # Its variants go with it: counted as trials if it is scheduled and sent.
            attach_to_draft(
                session,
                lead_id=lead_id,
                draft_id=int(draft.id or 0),
                assignment_ids=chosen_ids(result.get("experiments")),
            )
        return dumps(
            {
                "draft_id": draft.id,
                "lead_id": lead_id,
                "lead": brief.first_name,
                "kind": result["kind"],
                "stage": action.stage,
                "subject": draft.subject,
                "body": result["body"],
                "sources": result["sources"],
                "guardrails": result["guardrail_issues"] or "all passed",
                "needs_approval": brief.decile == 1 or result["needs_review"],
            }
        )

    @tool
    def draft_email(lead_id: int, stage: str | None = None, theme: str | None = None) -> str:
        """Draft the next nurture email for a lead from the company's content: subject,
        preview line, 2-3 short paragraphs, one call to action, signature and unsubscribe.

        stage: problem | solution | vendor | decision (default: where the lead is).
        theme: a topic to focus on, e.g. "data science" (default: the lead's interest).
        Returns the draft id (for schedule_touch), the text, its sources and guardrail result.
        """
        return drafted(lead_id, "email", stage, theme)

    @tool
    def draft_video_script(lead_id: int) -> str:
        """Draft a 30-60 s personalized video script for a lead: greeting by name, their company
        and context, one point from the content, one call to action, with shot notes."""
        return drafted(lead_id, "video_script", None, None)

    @tool
    def schedule_touch(lead_id: int, draft_id: int, send_at: str | None = None) -> str:
        """Queue a draft to be sent: at `send_at` (ISO date/time) or the next good moment in
        the lead's send window (and its send-time experiment's hour band), after the gap since
        its last touch (NURTURE_MIN_GAP_DAYS, 4 days by default). Top-decile leads'
        drafts wait for human approval first. Never for leads who opted out."""
        return _schedule(parts, lead_id, draft_id, send_at, signer_of)

    @tool
    def hand_off_to_sdr(lead_id: int, reason: str) -> str:
        """Hand a sales-ready lead to an SDR now, with why-now, a talk track and the SLA.
        reason: why, in a sentence (recorded on the hand-off)."""
        with session_scope(engine) as session:
            try:
                result = create_handoff(
                    session,
                    lead_id=lead_id,
                    reason=reason,
                    rule=parts.rule,
                    seller=sender.company,
                )
            except HandoffError as exc:
                return dumps({"error": str(exc)})
            return dumps({"created": result.created, **handoff_view(result.handoff)})

    @tool
    def pipeline_summary(
        since: str | None = None, until: str | None = None, segment: str | None = None
    ) -> str:
        """The pipeline's numbers: leads in nurture, lead->MQL, MQL->SQL, SQLs per 1,000,
        time to MQL, hand-off latency vs SLA, revenue influenced, email rates; by segment and
        by sequence, with a weekly trend; nurture's uplift over the holdout cohort (conversion
        of each, the difference with its 95 % interval and a verdict). since/until: ISO dates
        or words ("this month", "last quarter", "30d"); segment: a name or a pattern such as
        "mofu:*"."""
        holdout = holdout_cohort(parts.settings)
        with session_scope(engine) as session:
            try:
                return dumps(
                    analytics.pipeline_summary(session, since, until, segment, holdout=holdout)
                )
            except ValueError as exc:
                return dumps({"error": str(exc)})

    @tool
    def report_experiments() -> str:
        """The running and finished experiments (subject, CTA, format, send hour) with each
        variant's results and chance of being best, and nurture's uplift over the holdout
        cohort that gets only the plain drip (with a 95 % interval)."""
        with session_scope(engine) as session:
            settings = parts.settings
            return dumps(
                overview(session, share=settings.holdout_share, salt=settings.holdout_salt)
            )

    @tool
    def design_sequence(
        goal: str, segment: str | None = None, days: int = 60, touches: int | None = None
    ) -> str:
        """Propose a nurture sequence for a goal ("60-day nurture for fintech leads who
        downloaded the security whitepaper"): segments, content map by stage with links,
        cadence, triggers, hand-off rule, and questions about what is missing. Not saved."""
        try:
            return dumps(
                design.design_sequence(
                    goal,
                    segment,
                    days,
                    touches,
                    find_content=_finder(parts.kb),
                    handoff_rule=parts.rule,
                )
            )
        except SequenceError as exc:
            return dumps({"error": str(exc)})

    @tool
    def save_sequence(name: str, definition: dict[str, Any]) -> str:
        """Save a sequence (the `definition` returned by design_sequence) under `name`; the
        worker then runs it. Saving an existing name updates it."""
        with session_scope(engine) as session:
            try:
                row = registry.save_sequence(session, definition, name=name)
            except SequenceError as exc:
                return dumps({"error": str(exc)})
            return dumps({"saved": True, **registry.sequence_summary(row)})

    @tool
    def list_sequences() -> str:
        """The saved sequences with status, enrolment segments and steps."""
        with session_scope(engine) as session:
            rows = registry.list_sequences(session)
            return dumps({"sequences": [registry.sequence_summary(r) for r in rows]})

    @tool
    def show_sequence(name: str) -> str:
        """One saved sequence in full: enrolment rules, steps (day, stage, theme, channel)."""
        with session_scope(engine) as session:
            try:
                row = registry.get_sequence(session, name)
            except SequenceError as exc:
                return dumps({"error": str(exc)})
            return dumps({**registry.sequence_summary(row), "definition": row.definition})

    @tool
    def set_sequence_status(name: str, status: str) -> str:
        """Activate, pause (nothing sent, nobody enters) or archive a saved sequence.
        status: active | paused | archived."""
        with session_scope(engine) as session:
            try:
                row = registry.set_status(session, name, status)
            except SequenceError as exc:
                return dumps({"error": str(exc)})
            return dumps(registry.sequence_summary(row))

    return [
        draft_email,
        draft_video_script,
        schedule_touch,
        hand_off_to_sdr,
        pipeline_summary,
        report_experiments,
        design_sequence,
        save_sequence,
        list_sequences,
        show_sequence,
        set_sequence_status,
    ]


def _finder(kb: KnowledgeBase | None) -> design.FindContent | None:
    if kb is None:
        return None
    return lambda query, stage, segment: kb.search(query, stage=stage, segment=segment, k=5)


def _schedule(
    parts: NurtureParts,
    lead_id: int,
    draft_id: int,
    send_at: str | None,
    signer_of: Callable[[Session, int], Sender],
) -> str:
    engine = parts.runtime.engine
    with session_scope(engine) as session:
        lead = session.get(Lead, lead_id)
        draft = session.get(Draft, draft_id)
        if lead is None or draft is None or draft.lead_id != lead_id:
            return dumps({"error": f"no draft {draft_id} for lead {lead_id}; draft one first"})
        if not crud.may_email(session, lead=lead):
            return dumps({"error": f"lead {lead_id} opted out or gave no consent: not scheduled"})
        if draft.guardrails:
            return dumps({"error": "the draft failed guardrails; redraft it", **_codes(draft)})
        if draft.touch_id is not None:
            return dumps({"error": f"draft {draft_id} is already queued as touch {draft.touch_id}"})
        try:
            wanted = datetime.fromisoformat(send_at) if send_at else None
        except ValueError:
            return dumps({"error": f"send_at {send_at!r} is not an ISO date/time"})
        if wanted is not None and wanted.tzinfo is None:
            wanted = wanted.replace(tzinfo=UTC)
        now = datetime.now(UTC)
        brief = lead_brief(session, lead_id=lead_id, now=now)
        needs_approval = brief.decile == 1
        touch = crud.add_touch(
            session,
            touch=Touch(
                lead_id=lead_id,
                channel="video" if draft.kind == "video_script" else "email",
                status=TouchStatus.drafted if needs_approval else TouchStatus.approved,
                idempotency_key=f"chat:draft:{draft_id}",
                sender=as_header(signer_of(session, lead_id)),
            ),
        )
        touch_id = int(touch.id or 0)
        # The configured window and gap, narrowed to the hour band of the lead's send-time
        # experiment, as the agent schedules its own touches.
        window = send_window_for(
            parts.settings, session, brief, touch_id, send_window(parts.settings)
        )
        touch.due_at = next_send_slot(
            now,
            timezone=lead.timezone,
            last_touch_at=last_touch_at(session, lead_id=lead_id, excluding=touch_id),
            not_before=wanted,
            window=window,
        )
        draft.touch_id = touch_id
        session.add_all([touch, draft])
        link_draft_touch(session, draft_id=draft_id, touch_id=touch_id, channel=touch.channel)
        approval_id = None
        if needs_approval:
            approval_id = crud.request_approval(session, draft_id=draft_id, thread_id=None).id
        return dumps(
            {
                "touch_id": touch.id,
                "due_at": touch.due_at,
                "status": "awaiting approval" if needs_approval else "scheduled",
                "approval_id": approval_id,
            }
        )


def _codes(draft: Draft) -> dict[str, Any]:
    return {"issues": [g.get("code") for g in draft.guardrails if isinstance(g, dict)]}
