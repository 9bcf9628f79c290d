"""Wiring: the nurture agent over the configured model, knowledge base, store and checkpointer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from sqlmodel import Session

from agent.checkpoints import open_checkpointer
from agent.experiments import is_holdout, send_window_for, vary_email, vary_format
from agent.knowledge import open_knowledge_base
from agent.models.budget import cost_usd
from agent.models.factory import build_budget, build_chat_model
from agent.nurture.deps import NurtureDeps, utc_now
from agent.nurture.run import NurtureAgent
from agent.outbox import alternate_senders, send_window, sender_of
from agent.runtime import Runtime
from agent.settings import Settings
from knowledge.base import KnowledgeBase, KnowledgeBaseError
from store.db import session_scope
from store.models import Lead
from tools.content import find_snippets
from tools.decide import decide_next_action
from tools.drafting.core import draft_email, draft_video_script
from tools.drafting.render import render_email, render_video_script
from tools.guardrails import check_email, check_video_script
from tools.handoff import HandoffError, HandoffRule, SlaPolicy, check_handoff, create_handoff
from tools.schemas import DecisionContext, LeadBrief, NextAction, Snippet
from tools.unsubscribe import unsubscribe_url

# Lead after lead asks the same templated content questions: answers are reused this long
# (a re-index from `nurture kb index` reaches a running agent within it).
KB_ANSWER_TTL_S = 60.0


class WiringError(RuntimeError):
    """The agent cannot start: say what is missing and how to fix it."""


def handoff_rule(settings: Settings) -> HandoffRule:
    return HandoffRule(
        sla=SlaPolicy(hours=settings.handoff_sla_hours, timezone=settings.business_timezone)
    )


class NurtureParts:
    """The model-driven steps of the graph, over one model, knowledge base and store."""

    def __init__(
        self,
        runtime: Runtime,
        model: BaseChatModel | None,
        kb: KnowledgeBase | None,
        *,
        prompts_dir: Path | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.model = model
        self.kb = kb
        self.rule = handoff_rule(runtime.settings)
        # Evals point these at another prompt folder and a fixed moment.
        self.prompts_dir = prompts_dir
        self.clock = clock

    def decide(self, ctx: DecisionContext) -> NextAction:
        """The hand-off rule first (it reads the store), then the model checked by hard rules."""
        with session_scope(self.runtime.engine) as session:
            check = check_handoff(
                session, lead_id=ctx.lead.lead_id, rule=self.rule, now=self.clock()
            )
        if check.qualifies:
            return NextAction(action="hand_off", stage="decision", reason=check.why_now)
        action = decide_next_action(self.model, ctx, prompts_dir=self.prompts_dir).action
        if action.action == "hand_off":
            # Only the hand-off rule sends leads to sales; the model's wish becomes the ask.
            return action.model_copy(update={"action": "send_email", "stage": "decision"})
        return vary_format(self.runtime.engine, self.settings, ctx.lead, action)

    def retrieve(self, brief: LeadBrief, action: NextAction) -> list[Snippet]:
        if self.kb is None:
            return []
        segment = next((s for s in brief.segments if not s.startswith("cluster:")), None)
        query = action.query or action.theme or brief.stage
        return find_snippets(self.kb, query=query, stage=action.stage, segment=segment, k=3)

    def draft(self, ctx: DecisionContext) -> dict[str, Any]:
        """Draft, render as sent, and run every guardrail on the result."""
        assert ctx.action is not None
        if ctx.action.action == "send_video":
            ctx = self._voiced_by_owner(ctx)
            video = draft_video_script(self.model, ctx, prompts_dir=self.prompts_dir)
            body = render_video_script(video.draft)
            report = check_video_script(video.draft, ctx)
            return self._result(video, body, report.model_dump()["issues"])
        # The holdout cohort gets the plain baseline: the template drafter, no experiments.
        model = None if is_holdout(self.settings, ctx.lead.lead_id) else self.model
        email = draft_email(model, ctx, prompts_dir=self.prompts_dir)
        email.draft, variants = vary_email(
            self.runtime.engine, self.settings, self.model, ctx, email.draft
        )
        link = unsubscribe_url(self.settings.public_url, self._email(ctx), self._secret())
        rendered = render_email(email.draft, ctx, link)
        report = check_email(
            email.draft,
            ctx,
            rendered=(rendered.subject, rendered.text, rendered.html),
            unsubscribe_url=link,
        )
        result = self._result(
            email, rendered.text, report.model_dump()["issues"], html=rendered.html
        )
        return {**result, "experiments": variants}

    def _result(
        self, drafted: Any, body: str, issues: list[dict[str, Any]], html: str | None = None
    ) -> dict[str, Any]:
        content = drafted.draft.model_dump(mode="json")
        return {
            "kind": drafted.kind,
            "content": content,
            "body": body,
            "html": html,
            "sources": content.get("sources", []),
            "model": drafted.model_name,
            "prompt_version": drafted.prompt_ref,
            "prompt_tokens": drafted.prompt_tokens,
            "completion_tokens": drafted.completion_tokens,
            "cost_usd": cost_usd(
                drafted.model_name, drafted.prompt_tokens, drafted.completion_tokens
            ),
            "guardrail_issues": issues,
            # Lead-provided text that tried to instruct the model: a human looks first.
            "needs_review": bool(drafted.injection),
            "injection": [signal.as_dict() for signal in drafted.injection],
        }

    def _voiced_by_owner(self, ctx: DecisionContext) -> DecisionContext:
        """A personal video is recorded by the lead's owner (its task goes to them), so the
        script introduces them; the company, title and address stay the sender's. An owner
        kept as an address or id rather than a name leaves the sender as it is."""
        lead = self._lead(ctx)
        owner = (lead.owner or "").strip() if lead else ""
        if ctx.sender is None or not owner or "@" in owner or owner == ctx.sender.name:
            return ctx
        return ctx.model_copy(update={"sender": ctx.sender.model_copy(update={"name": owner})})

    def _email(self, ctx: DecisionContext) -> str:
        lead = self._lead(ctx)
        return lead.email if lead else ""

    def _lead(self, ctx: DecisionContext) -> Lead | None:
        with session_scope(self.runtime.engine) as session:
            return session.get(Lead, ctx.lead.lead_id)

    def _secret(self) -> str:
        return self.settings.session_secret

    def hand_off(self, session: Session, brief: LeadBrief, action: NextAction) -> int:
        snippets = self.retrieve(brief, action)
        try:
            result = create_handoff(
                session,
                lead_id=brief.lead_id,
                reason=action.reason,
                brief=brief,
                snippets=snippets,
                rule=self.rule,
                seller=self.settings.sender_company,
                now=self.clock(),
            )
        except HandoffError as exc:
            raise WiringError(str(exc)) from exc
        assert result.handoff.id is not None
        return result.handoff.id


def nurture_deps(
    runtime: Runtime,
    *,
    model: BaseChatModel | None = None,
    kb: KnowledgeBase | None = None,
    prompts_dir: Path | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> NurtureDeps:
    parts = NurtureParts(runtime, model, kb, prompts_dir=prompts_dir, clock=clock)
    return NurtureDeps(
        engine=runtime.engine,
        sender=sender_of(runtime.settings),
        alt_senders=alternate_senders(runtime.settings),
        decide=parts.decide,
        retrieve=parts.retrieve,
        draft=parts.draft,
        hand_off=parts.hand_off,
        window=send_window(runtime.settings),
        window_for=partial(send_window_for, runtime.settings),
        run_callbacks=lambda: [build_budget(runtime.settings)],
        clock=clock,
    )


def open_kb(settings: Settings) -> KnowledgeBase:
    """The knowledge base, indexed: an empty index would make every draft ungrounded."""
    try:
        kb = open_knowledge_base(settings)
        if kb.count() == 0:
            kb.index_folder()
    except KnowledgeBaseError as exc:
        raise WiringError(f"the knowledge base cannot be opened: {exc}") from exc
    kb.result_ttl_s = KB_ANSWER_TTL_S
    return kb


@contextmanager
def nurture_agent(runtime: Runtime) -> Iterator[NurtureAgent]:
    """The nurture agent with the configured model, the indexed content and durable threads."""
    model = build_chat_model(runtime.settings)
    deps = nurture_deps(runtime, model=model, kb=open_kb(runtime.settings))
    with open_checkpointer(runtime.settings) as saver:
        yield NurtureAgent(deps, saver)
