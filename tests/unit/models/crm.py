"""A small in-memory CRM behind LangChain tools with the chat tools' contract signatures.

The offline model is tested against these real tools (real `@tool` functions, real JSON
results) so its tool use and its answers can be checked end to end without a store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, tool

LEADS: list[dict[str, Any]] = [
    {"lead_id": 4411, "first_name": "Ana", "last_name": "Ruiz", "company": "Acme",
     "role": "VP Marketing", "email": "ana@acme.example", "score": 91.4, "decile": 1},
    {"lead_id": 4412, "first_name": "Bo", "last_name": "Chen", "company": "Acme",
     "role": "Data Analyst", "email": "bo@acme.example", "score": 38.0, "decile": 7},
    {"lead_id": 5120, "first_name": "Chidi", "last_name": "Okafor", "company": "Kestrel Bank",
     "role": "Head of Data", "email": "chidi@kestrel.example", "score": 72.5, "decile": 2},
]  # fmt: skip


@dataclass
class Crm:
    """The tools and a log of every call made to them."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)  # tool names that raise

    def tools(self, *names: str) -> list[BaseTool]:
        every = self._build()
        return [t for t in every if not names or t.name in names]

    def called(self) -> list[str]:
        return [name for name, _ in self.calls]

    def _log(self, tool_name: str, /, **args: Any) -> None:
        self.calls.append((tool_name, args))
        if tool_name in self.fail:
            raise ValueError(f"{tool_name} is down for maintenance")

    def _build(self) -> list[BaseTool]:
        crm = self

        @tool
        def find_leads(query: str) -> str:
            """Find leads by name, company, role or email."""
            crm._log("find_leads", query=query)
            words = query.lower().split()
            found = [lead for lead in LEADS if all(w in json.dumps(lead).lower() for w in words)]
            return json.dumps({"leads": found})

        @tool
        def score_lead(lead_id: int) -> str:
            """A lead's score (0-100), decile and the factors behind it."""
            crm._log("score_lead", lead_id=lead_id)
            lead = _lead(lead_id)
            return json.dumps(
                {**lead, "fit": 70.0, "behaviour": 82.0, "model_version": "rules-v1",
                 "factors": ["visited pricing 4×", "asked for a demo 1×"]}
            )  # fmt: skip

        @tool
        def segment_lead(lead_id: int) -> str:
            """The segments a lead is in."""
            crm._log("segment_lead", lead_id=lead_id)
            return json.dumps({"lead_id": lead_id, "segments": ["late:demo", "enterprise"]})

        @tool
        def search_content(
            query: str, stage: str | None = None, segment: str | None = None, k: int = 3
        ) -> str:
            """Search the content library."""
            crm._log("search_content", query=query, stage=stage, segment=segment, k=k)
            return json.dumps(
                [{"title": "ROI of upskilling calculator", "url": "https://x.example/roi",
                  "stage": stage or "decision", "text": "Work out the payback. More text."}][:k]
            )  # fmt: skip

        @tool
        def draft_email(lead_id: int, stage: str | None = None, theme: str | None = None) -> str:
            """Draft the next email for a lead."""
            crm._log("draft_email", lead_id=lead_id, stage=stage, theme=theme)
            lead = _lead(lead_id)
            return json.dumps(
                {"draft_id": 55, "lead_id": lead_id, "status": "pending",
                 "subject": f"{lead['company']}'s analytics skills gap",
                 "preview": "Three questions to size it", "cta_text": "Book a call",
                 "cta_url": "https://x.example/call",
                 "paragraphs": [f"Hi {lead['first_name']},", "Teams like yours start small."],
                 "sources": ["https://x.example/gap"]}
            )  # fmt: skip

        @tool
        def draft_video_script(lead_id: int) -> str:
            """Write a personalized video script for a lead."""
            crm._log("draft_video_script", lead_id=lead_id)
            return json.dumps(
                {"draft_id": 56, "title": "For Ana", "cta_text": "Book", "cta_url": "https://x",
                 "shots": [{"seconds": 10, "line": "Hi Ana", "shot": "acme.example"},
                           {"seconds": 20, "line": "One point", "shot": "slide"}]}
            )  # fmt: skip

        @tool
        def schedule_touch(lead_id: int, draft_id: int, send_at: str | None = None) -> str:
            """Schedule a draft to be sent."""
            crm._log("schedule_touch", lead_id=lead_id, draft_id=draft_id, send_at=send_at)
            return json.dumps({"touch_id": 91, "send_at": send_at or "2026-11-26T09:00"})

        @tool
        def hand_off_to_sdr(lead_id: int, reason: str) -> str:
            """Hand a lead to an SDR."""
            crm._log("hand_off_to_sdr", lead_id=lead_id, reason=reason)
            return json.dumps(
                {"handoff_id": 7, "sla_due_at": "2026-11-25T16:00", "talk_track":
                 {"opening": "You asked about a demo", "next_step": "Book the call"}}
            )  # fmt: skip

        @tool
        def pipeline_summary(
            since: str | None = None, until: str | None = None, segment: str | None = None
        ) -> str:
            """Pipeline numbers for a period."""
            crm._log("pipeline_summary", since=since, until=until, segment=segment)
            return json.dumps(
                {"leads_in_nurture": 812, "lead_to_mql_rate": 0.21, "mql_to_sql_rate": 0.14,
                 "sqls_per_1000_contacts": 18.5, "revenue_influenced": 125000,
                 "by_segment": {"enterprise": {"leads": 40, "mql_to_sql_rate": 0.2}}}
            )  # fmt: skip

        @tool
        def design_sequence(
            goal: str, segment: str | None = None, days: int = 60, touches: int | None = None
        ) -> str:
            """Propose a nurture sequence."""
            crm._log("design_sequence", goal=goal, segment=segment, days=days, touches=touches)
            return json.dumps(
                {"definition": {"name": "proposal", "description": goal,
                                "steps": [{"day": 1, "stage": "problem", "channel": "email"},
                                          {"day": 6, "stage": "solution", "channel": "email"}]},
                 "content_map": {"problem": [{"title": "Skills gap", "url": "https://x/gap"}]},
                 "triggers": ["demo_request"], "missing": ["Which whitepaper exactly?"]}
            )  # fmt: skip

        @tool
        def save_sequence(name: str, definition: dict[str, Any]) -> str:
            """Save a designed sequence."""
            crm._log("save_sequence", name=name, definition=definition)
            return json.dumps({"name": name, "status": "paused", "steps": definition["steps"]})

        @tool
        def list_sequences() -> str:
            """List saved sequences."""
            crm._log("list_sequences")
            return json.dumps([{"name": "core", "status": "active", "steps": 10},
                               {"name": "enterprise", "status": "paused", "steps": 9}])  # fmt: skip

        @tool
        def show_sequence(name: str) -> str:
            """Show one sequence."""
            crm._log("show_sequence", name=name)
            return json.dumps({"name": name, "status": "active",
                               "steps": [{"day": 1, "channel": "email"}]})  # fmt: skip

        @tool
        def set_sequence_status(name: str, status: str) -> str:
            """Set a sequence's status: active, paused or archived."""
            crm._log("set_sequence_status", name=name, status=status)
            return json.dumps({"name": name, "status": status})

        @tool
        def list_approvals(status: str = "pending") -> str:
            """Drafts by approval status."""
            crm._log("list_approvals", status=status)
            return json.dumps(
                [{"approval_id": 3, "lead_id": 4411, "first_name": "Ana", "company": "Acme",
                  "subject": "Acme's analytics skills gap"}]
            )  # fmt: skip

        return [
            find_leads, score_lead, segment_lead, search_content, draft_email,
            draft_video_script, schedule_touch, hand_off_to_sdr, pipeline_summary,
            design_sequence, save_sequence, list_sequences, show_sequence,
            set_sequence_status, list_approvals,
        ]  # fmt: skip


def _lead(lead_id: int) -> dict[str, Any]:
    for lead in LEADS:
        if lead["lead_id"] == lead_id:
            return lead
    raise ValueError(f"no lead {lead_id}")


TODAY = date(2026, 11, 25)  # a Wednesday


@dataclass
class Chat:
    """A conversation driven the way a tool-calling graph drives it: call the model, run the
    tool calls it makes, feed the results back, until it answers."""

    model: BaseChatModel
    tools: Sequence[BaseTool]
    messages: list[BaseMessage] = field(default_factory=list)
    on_call: Callable[[AIMessage], None] | None = None

    def say(self, text: str, max_rounds: int = 10) -> AIMessage:
        by_name = {t.name: t for t in self.tools}
        bound = self.model.bind_tools(list(self.tools))
        self.messages.append(HumanMessage(text))
        for _ in range(max_rounds):
            answer = bound.invoke(self.messages)
            assert isinstance(answer, AIMessage)
            self.messages.append(answer)
            if not answer.tool_calls:
                return answer
            for call in answer.tool_calls:
                assert call["name"] in by_name, f"called an unbound tool {call['name']}"
                try:
                    result = by_name[call["name"]].invoke(call)
                except ValueError as exc:
                    result = ToolMessage(
                        f"Error: {exc}\n Please fix your mistakes.",
                        tool_call_id=call["id"],
                        status="error",
                    )
                self.messages.append(result)
        raise AssertionError("the model never answered")
