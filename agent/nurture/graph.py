"""The per-lead nurture graph: assess (score, segment, sequence, brief) -> decide -> draft (the
content, then the copy) -> queue (and schedule) or approve -> act.

Nodes that write to the store key their writes on the pass's `run_key`, so a node that runs
again (a crash, a resume) writes nothing twice. The approval node only calls `interrupt()`:
LangGraph re-runs it from its start on resume, so it must stay free of side effects.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import interrupt

from agent.nurture import actions
from agent.nurture.deps import NurtureDeps
from agent.nurture.state import NurtureState
from store.db import session_scope
from tools import lead_scoring
from tools.bandit.trials import link_queued_touch
from tools.brief import lead_brief
from tools.profile import profile_of
from tools.schemas import DecisionContext, LeadBrief, NextAction, Sender
from tools.segments.assign import segment_lead
from tools.triggers.hints import apply_hint


def build_nurture_graph(
    deps: NurtureDeps, checkpointer: BaseCheckpointSaver | None = None
) -> CompiledStateGraph:
    """Compile the graph over these dependencies (tests pass fakes and an in-memory saver)."""

    def assess(state: NurtureState) -> dict[str, Any]:
        # The pass's record, the lead's score, segments and sequence, and its brief: one
        # transaction (a pass cut short here starts over from a clean store).
        lead_id, now = state["lead_id"], deps.clock()
        with session_scope(deps.engine) as session:
            actions.start_run(session, state=state, now=now)
            # One read of the lead's profile serves its score and its segments.
            loaded = profile_of(session, lead_id=lead_id, now=now)
            [score] = lead_scoring.score_leads(session, lead_ids=[lead_id], now=now, loaded=loaded)
            segments = segment_lead(session, lead_id=lead_id, now=now, loaded=loaded).segments
            # Then the sequence: the right track, and its step if one is due (the hint).
            given = state.get("hint") or {}
            event = given.get("event_type") or state.get("trigger")
            deps.enrol(session, lead_id, segments, event, now)
            hint = state.get("hint") or deps.hint_for(session, lead_id, now)
            brief = lead_brief(
                session,
                lead_id=lead_id,
                trigger=state.get("trigger"),
                now=now,
                scored=(score, segments),
            )
            # Chosen once per pass and kept in the thread: a resumed pass signs the same way.
            sender = deps.sender_for(session, lead_id, now)
        return {
            "brief": brief.model_dump(mode="json"),
            "hint": hint,
            "sender": sender.model_dump(mode="json"),
        }

    def decide(state: NurtureState) -> dict[str, Any]:
        brief = LeadBrief.model_validate(state["brief"])
        action = apply_hint(deps.decide(DecisionContext(lead=brief)), state.get("hint"), brief)
        return {"action": action.model_dump(mode="json")}

    def draft(state: NurtureState) -> dict[str, Any]:
        # The content search and the copy are one step: re-running a search after a crash is
        # cheap, and one step fewer is one checkpoint fewer on every pass.
        brief = LeadBrief.model_validate(state["brief"])
        action = NextAction.model_validate(state["action"])
        snippets = deps.retrieve(brief, action)
        context = DecisionContext(
            lead=brief,
            snippets=snippets,
            sender=Sender.model_validate(state["sender"]) if state.get("sender") else deps.sender,
            action=action,
        )
        drafted = deps.draft(context)
        return {
            "snippets": [s.model_dump(mode="json") for s in snippets],
            "draft": drafted,
            "guardrail_issues": drafted.get("guardrail_issues", []),
        }

    def queue(state: NurtureState) -> dict[str, Any]:
        # Store the touch and its draft; one that needs no human is scheduled in the same
        # transaction, so a touch is never left drafted without a send time.
        with session_scope(deps.engine) as session:
            queued = actions.queue_draft(session, state=state, deps=deps)
            link_queued_touch(session, queued, chosen=state["draft"].get("experiments"))
            if "result" in queued:  # held, or waiting for a human
                return queued
            queued_state = cast(NurtureState, {**state, **queued})
            return {**queued, **actions.schedule(session, state=queued_state, deps=deps)}

    def approval(state: NurtureState) -> dict[str, Any]:
        # Resumed with the human's verdict (Slack, web queue or CLI), maybe days later.
        decision = interrupt(
            {
                "approval_id": state["approval_id"],
                "draft_id": state["draft_id"],
                "lead_id": state["lead_id"],
            }
        )
        return {"decision": decision}

    def apply_decision(state: NurtureState) -> dict[str, Any]:
        with session_scope(deps.engine) as session:
            return actions.apply_decision(session, state=state, deps=deps)

    def schedule(state: NurtureState) -> dict[str, Any]:
        with session_scope(deps.engine) as session:
            return actions.schedule(session, state=state, deps=deps)

    def hand_off(state: NurtureState) -> dict[str, Any]:
        with session_scope(deps.engine) as session:
            return actions.hand_off(session, state=state, deps=deps)

    def wait(state: NurtureState) -> dict[str, Any]:
        action = NextAction.model_validate(state["action"])
        with session_scope(deps.engine) as session:
            actions.finish_run(
                session,
                state=state,
                result="waiting",
                next_check_at=deps.clock() + timedelta(days=max(action.wait_days, 1)),
            )
        return {"result": "waiting"}

    def after_decide(state: NurtureState) -> str:
        kind = state["action"]["action"]
        return {"hand_off": "hand_off", "wait": "wait"}.get(kind, "draft")

    def after_queue(state: NurtureState) -> str:
        return "approval" if state.get("result") == "awaiting_approval" else END

    def after_decision(state: NurtureState) -> str:
        return END if state.get("result") == "rejected" else "schedule"

    graph = StateGraph(NurtureState)
    for name, node in [
        ("assess", assess),
        ("decide", decide),
        ("draft", draft),
        ("queue", queue),
        ("approval", approval),
        ("apply_decision", apply_decision),
        ("schedule", schedule),
        ("hand_off", hand_off),
        ("wait", wait),
    ]:
        graph.add_node(name, node)
    graph.add_edge(START, "assess")
    graph.add_edge("assess", "decide")
    graph.add_conditional_edges("decide", after_decide, ["hand_off", "wait", "draft"])
    graph.add_edge("draft", "queue")
    graph.add_conditional_edges("queue", after_queue, ["approval", END])
    graph.add_edge("approval", "apply_decision")
    graph.add_conditional_edges("apply_decision", after_decision, ["schedule", END])
    graph.add_edge("schedule", END)
    graph.add_edge("hand_off", END)
    graph.add_edge("wait", END)
    return graph.compile(checkpointer=checkpointer)
