"""One case through the real nurture graph, in its own store: what the agent did, at what cost."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from agent.models import build_budget
from agent.nurture.actions import thread_id_of
from agent.nurture.run import NurtureAgent
from agent.runtime import Runtime
from agent.settings import Settings
from agent.wiring import nurture_deps, sender_of
from evals.cache import CacheStats, current_stats
from evals.cases import Case
from evals.stores import CaseStores
from evals.trace import ModelCall, PassTrace
from knowledge.base import KnowledgeBase
from store import crud
from store.db import session_scope
from store.models import Lead
from tools.schemas import (
    DecisionContext,
    EmailDraft,
    LeadBrief,
    NextAction,
    Sender,
    Snippet,
    VideoScript,
)


@dataclass(frozen=True)
class Harness:
    """What every case of a run shares: settings, model, content index, prompts, stores."""

    settings: Settings
    model: BaseChatModel | None
    kb: KnowledgeBase | None
    stores: CaseStores
    work_dir: Path
    prompts_dir: Path | None = None
    keep_stores: bool = False


@dataclass
class CaseRun:
    """What the agent did for one case, read back from the graph state and the store."""

    case: Case
    lead_id: int
    summary: dict[str, Any]
    state: dict[str, Any]
    steps: list[str]
    tools: list[str]
    model_calls: list[ModelCall]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    seconds: float
    cached_calls: int
    sender: Sender
    other_leads: list[str]
    may_email: bool
    error: str | None = None
    twin: CaseRun | None = None
    judge: dict[str, Any] = field(default_factory=dict)  # filled by the judge, when one runs

    @property
    def action(self) -> NextAction | None:
        raw = self.state.get("action")
        return NextAction.model_validate(raw) if raw else None

    @property
    def result(self) -> str | None:
        return self.summary.get("result")

    @property
    def brief(self) -> LeadBrief | None:
        raw = self.state.get("brief")
        return LeadBrief.model_validate(raw) if raw else None

    @property
    def draft(self) -> dict[str, Any] | None:
        return self.state.get("draft") or None

    @property
    def email(self) -> EmailDraft | None:
        draft = self.draft
        if not draft or draft.get("kind") != "email":
            return None
        return EmailDraft.model_validate(draft["content"])

    @property
    def video(self) -> VideoScript | None:
        draft = self.draft
        if not draft or draft.get("kind") != "video_script":
            return None
        return VideoScript.model_validate(draft["content"])

    @property
    def snippets(self) -> list[Snippet]:
        return [Snippet.model_validate(s) for s in self.state.get("snippets") or []]

    def context(self) -> DecisionContext | None:
        """The context the draft was written from (what its claims may rest on)."""
        brief = self.brief
        if brief is None:
            return None
        return DecisionContext(
            lead=brief, snippets=self.snippets, sender=self.sender, action=self.action
        )

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def outcome(self) -> dict[str, Any]:
        """What is stored and compared between runs."""
        draft = self.draft or {}
        content = draft.get("content") or {}
        action = self.action
        brief = self.brief
        return {
            "result": self.result,
            "score": brief.score if brief else None,
            "decile": brief.decile if brief else None,
            "segments": brief.segments if brief else [],
            "lead_stage": brief.stage if brief else None,
            "action": action.action if action else None,
            "stage": action.stage if action else None,
            "reason": action.reason if action else None,
            "steps": self.steps,
            "tools": self.tools,
            "draft_kind": draft.get("kind"),
            "subject": content.get("subject") or content.get("title"),
            "body": draft.get("body"),
            "sources": draft.get("sources", []),
            "prompt_version": draft.get("prompt_version"),
            "model": draft.get("model"),
            "guardrail_issues": self.state.get("guardrail_issues") or [],
            "injection": draft.get("injection", []),
            "twin": (
                {"action": self.twin.action.action, "stage": self.twin.action.stage}
                if self.twin is not None and self.twin.action is not None
                else None
            ),
            "error": self.error,
        }


def run_case(case: Case, harness: Harness) -> CaseRun:
    """The case, and for a case with injected text the same case without it."""
    run = _run(case, harness)
    if case.injected:
        run.twin = _run(case.without_injection(), harness)
    return run


def _run(case: Case, harness: Harness) -> CaseRun:
    folder = harness.work_dir / "cases" / case.id.replace("~", "-")
    engine, lead_id = harness.stores.open(case, folder)
    try:
        settings = harness.settings.model_copy(update={"var_dir": folder, "database_url": None})
        runtime = Runtime(settings=settings, engine=engine)
        now = harness.stores.now
        deps = nurture_deps(
            runtime,
            model=harness.model,
            kb=harness.kb,
            prompts_dir=harness.prompts_dir,
            clock=lambda: now,
        )
        budget, trace = build_budget(settings), PassTrace()
        deps.run_callbacks = lambda: [budget, trace]
        agent = NurtureAgent(deps, InMemorySaver())
        stats = CacheStats()
        token = current_stats.set(stats)
        started = time.perf_counter()
        error = None
        summary: dict[str, Any] = {}
        try:
            summary = agent.run_lead(lead_id, trigger=case.trigger)
        except Exception as exc:  # a failing case is a result, not the end of the run
            error = f"{type(exc).__name__}: {exc}"
        finally:
            current_stats.reset(token)
        seconds = time.perf_counter() - started
        config: RunnableConfig = {"configurable": {"thread_id": thread_id_of(lead_id)}}
        state = dict(agent.graph.get_state(config).values)
        if not summary and state.get("result"):
            summary = {"result": state["result"]}
        with session_scope(engine) as session:
            lead = session.get(Lead, lead_id)
            may_email = bool(lead and crud.may_email(session, lead=lead))
        usage = budget.totals()
        action = state.get("action") or {}
        return CaseRun(
            case=case,
            lead_id=lead_id,
            summary=summary,
            state=state,
            steps=trace.steps,
            tools=trace.tools(action.get("action"), state.get("result")),
            model_calls=trace.model_calls,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=usage.cost_usd,
            seconds=seconds,
            cached_calls=stats.hits,
            sender=sender_of(settings),
            other_leads=harness.stores.other_leads,
            may_email=may_email,
            error=error,
        )
    finally:
        engine.dispose()
        if not harness.keep_stores:
            shutil.rmtree(folder, ignore_errors=True)
