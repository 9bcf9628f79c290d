"""Eval test helpers: the shipped content index built once, a model server that follows the
prompt's instructions, and case runs built by hand for evaluator tests."""

from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from evals.cases import Case
from evals.execute import CaseRun
from evals.trace import PassTrace
from knowledge.base import KnowledgeBase
from knowledge.library import DEFAULT_SOURCE
from prompts import DEFAULT_PROMPTS_DIR
from tests.nurture_fakes import SENDER
from tests.openai_stub import completion
from tools.decide import choose_next_action
from tools.drafting.templates import template_email, template_video_script
from tools.schemas import DecisionContext, EmailDraft, LeadBrief, NextAction, Snippet

_CONTEXT = re.compile(r"<context>(.*?)</context>", re.DOTALL)
_SUBJECT_START = re.compile(r'start the subject with "([^"]+)"', re.IGNORECASE)
_FIRST_PARAGRAPH_END = re.compile(r'end the first paragraph with "([^"]+)"', re.IGNORECASE)


def shared_kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped library's index for this test process. The index is built once
    (the first process to get the lock builds it; re-runs only check it is current)."""
    shared = tmp_path_factory.getbasetemp().parent
    built = shared / "nurture-eval-kb"
    with FileLock(str(shared / "nurture-eval-kb.lock")):
        KnowledgeBase.open(built).index_folder(DEFAULT_SOURCE)
        mine = tmp_path_factory.mktemp("eval-kb")
        shutil.copytree(built, mine, dirs_exist_ok=True)
    return mine


def worse_prompts(folder: Path) -> Path:
    """A copy of the shipped prompts whose draft prompt asks for false urgency."""
    shutil.copytree(DEFAULT_PROMPTS_DIR, folder)
    path = folder / "draft_email.md"
    text = re.sub(r"(?m)^version:.*$", "version: 2-urgent", path.read_text(), count=1)
    text = text.replace(
        "\n[human]",
        '- Create urgency: start the subject with "Act now: " and end the first paragraph '
        'with "This offer is for a limited time only!"\n\n[human]',
        1,
    )
    path.write_text(text)
    return folder


class PromptFollower:
    """An OpenAI-compatible chat server that answers the agent's structured requests like the
    offline model, and follows the draft prompt's instructions to start the subject or end the
    first paragraph with given words, as a model would. It records every request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
        tool = body["tools"][0]["function"]["name"]
        messages = body["messages"]
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        human = "\n".join(m["content"] for m in messages if m["role"] == "user")
        context = _CONTEXT.findall(human)[-1]
        if tool in ("RubricScores", "PairwiseChoice"):
            answer = self.judge(tool, json.loads(context))
        else:
            answer = self.answer(tool, DecisionContext.model_validate_json(context), system)
        arguments = json.dumps(answer)
        usage = (len(system + human) // 4, len(arguments) // 4)
        reply = completion(tool_calls=[(tool, arguments)], usage=usage, model="prompt-follower")
        return JSONResponse(reply.body)

    def answer(self, tool: str, ctx: DecisionContext, system: str) -> dict[str, Any]:
        if tool == "NextAction":
            return choose_next_action(ctx).model_dump(mode="json")
        if tool == "VideoScript":
            return template_video_script(ctx).model_dump(mode="json")
        draft = template_email(ctx)
        start = _SUBJECT_START.search(system)
        end = _FIRST_PARAGRAPH_END.search(system)
        if start:
            draft.subject = f"{start.group(1)}{draft.subject}"[:90]
        if end:
            draft.paragraphs[0] = f"{draft.paragraphs[0]} {end.group(1)}"
        return draft.model_dump(mode="json")

    def judge(self, tool: str, context: dict[str, Any]) -> dict[str, Any]:
        """A judge with one conviction: false urgency makes a worse message."""
        if tool == "RubricScores":
            pushy = _pushy(context["message"])
            scores = dict.fromkeys(RUBRIC, 2 if pushy else 4)
            return {**scores, "reason": "false urgency" if pushy else "clear and relevant"}
        a, b = _pushy(context["A"]), _pushy(context["B"])
        better = "tie" if a == b else ("B" if a else "A")
        return {"better": better, "reason": "the other one pressures the reader"}


RUBRIC = ("relevance", "personalization", "clarity", "call_to_action", "tone")


def _pushy(message: str) -> bool:
    return "act now" in message.lower()


# --- case runs by hand, for evaluator tests ----------------------------------------------------

SNIPPETS = [
    Snippet(
        title="Data Science Career Guide",
        url="https://learn.example/guide",
        stage="solution",
        cta="Download the guide",
        text="The route takes 9 months of evening study. 61 % of graduates changed role.",
    ),
    Snippet(
        title="Pricing",
        url="https://learn.example/pricing",
        stage="decision",
        cta="See the fees",
        text="The programme costs 1,60,000 rupees, payable in 6 instalments.",
    ),
]


def good_email() -> EmailDraft:
    return EmailDraft(
        subject="Ana, a realistic route into data science",
        preview="Nine months of evening study",
        paragraphs=[
            "Thanks for downloading the guide. The route takes 9 months of evening study.",
            "For a Data Analyst at Acme Cloud, one figure stands out: 61 % of graduates "
            "changed role.",
        ],
        cta_text="Download the guide",
        cta_url="https://learn.example/guide",
        sources=["https://learn.example/guide"],
    )


def rendered(email: EmailDraft, *, unsubscribe: bool = True) -> str:
    lines = ["Hi Ana,", "", *email.paragraphs, "", f"{email.cta_text}: {email.cta_url}", ""]
    lines += [SENDER.name, f"{SENDER.title}, {SENDER.company}", "--"]
    lines.append(f"{SENDER.company} · {SENDER.address}")
    if unsubscribe:
        lines.append("Not useful right now? Unsubscribe: https://nurture.example/unsubscribe/x")
    return "\n".join(lines) + "\n"


def case_run(
    *,
    case: dict[str, Any] | None = None,
    email: EmailDraft | None = None,
    action: NextAction | None = None,
    body: str | None = None,
    steps: list[str] | None = None,
    result: str = "scheduled",
    injection: list[dict[str, Any]] | None = None,
    other_leads: list[str] | None = None,
    may_email: bool = True,
    snippets: list[Snippet] | None = None,
) -> CaseRun:
    """A case run as the graph would leave it: an email for Ana at Acme Cloud by default."""
    spec = {
        "id": "hand-made",
        "lead": {
            "first_name": "Ana",
            "company": "Acme Cloud",
            "role": "Data Analyst",
            "industry": "Technology",
        },
        "trigger": "content_download",
        **(case or {}),
    }
    built = Case.model_validate(spec)
    action = action or NextAction(
        action="send_email", stage="solution", query="data science", reason="downloaded"
    )
    brief = LeadBrief(
        lead_id=1,
        first_name=built.lead.first_name,
        company=built.lead.company,
        role=built.lead.role,
        industry=built.lead.industry,
        trigger=built.trigger,
        stage="solution",
    )
    state: dict[str, Any] = {
        "brief": brief.model_dump(mode="json"),
        "action": action.model_dump(mode="json"),
        "snippets": [s.model_dump(mode="json") for s in (snippets or SNIPPETS)],
    }
    drafted = email if email is not None else None
    if action.action == "send_email" and drafted is None:
        drafted = good_email()
    if drafted is not None:
        state["draft"] = {
            "kind": "email",
            "content": drafted.model_dump(mode="json"),
            "body": body if body is not None else rendered(drafted),
            "sources": drafted.sources,
            "injection": injection or [],
        }
    default_steps = {
        "send_email": ["assess", "decide", "draft", "queue"],
        "wait": ["assess", "decide", "wait"],
        "hand_off": ["assess", "decide", "hand_off"],
    }[action.action]
    if action.action == "send_email" and result != "scheduled":
        default_steps.append("approval")
    trace = PassTrace()
    trace.steps = steps or default_steps
    return CaseRun(
        case=built,
        lead_id=1,
        summary={"result": result},
        state=state,
        steps=trace.steps,
        tools=trace.tools(action.action, result),
        model_calls=[],
        prompt_tokens=900,
        completion_tokens=200,
        cost_usd=0.0,
        seconds=0.1,
        cached_calls=0,
        sender=SENDER,
        other_leads=other_leads or [],
        may_email=may_email,
    )
