"""The offline model's planner: from the conversation to the next tool calls or the answer.

Stateless: every turn re-reads the newest request and the tool results that came back since,
so a plan of several steps (find the lead, then draft for it) unfolds one model call at a time.
Only tools that are bound are ever called.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from agent.models import answers, report_answers
from agent.models.conversation import Conversation, ToolRun, lead_id_of, pick, records
from agent.models.intents import classify
from agent.models.slots import Slots, extract_slots

MAX_TOOL_ROUNDS = 8

LEAD_INTENTS = frozenset(
    {"explain_score", "segment_lead", "draft_email", "draft_video", "hand_off", "schedule_touch"}
)
NAME_INTENTS = frozenset({"save_sequence", "show_sequence", "set_sequence_status"})


@dataclass(frozen=True)
class Call:
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    text: str


Step = Reply | tuple[Call, ...]


@dataclass(frozen=True)
class Request:
    """What the user wants this turn: an intent and its slots."""

    intent: str | None
    slots: Slots
    text: str


@dataclass(frozen=True)
class Toolbox:
    """The bound tools: name -> the argument names its schema declares (None: unknown)."""

    tools: Mapping[str, frozenset[str] | None]

    def has(self, name: str) -> bool:
        return name in self.tools

    def call(self, tool: str, /, **args: Any) -> Call:
        accepted = self.tools.get(tool)
        if accepted is not None:
            args = {key: value for key, value in args.items() if key in accepted}
        return Call(tool, args)


def understand(conversation: Conversation, today: date) -> Request:
    """The intent and slots of the newest request; a bare answer to our question ('the second
    one', 'lead 4412', a name) continues the request we asked about."""
    text = conversation.request
    slots = extract_slots(text, today)
    intent = classify(text)
    asked = (conversation.previous_reply or "").rstrip().endswith("?")
    if intent is None and asked and conversation.previous_request:
        previous = classify(conversation.previous_request)
        if previous is not None:
            earlier = extract_slots(conversation.previous_request, today)
            slots = _bare_answer(previous, text, slots)
            if previous == "design_sequence" and earlier.wants_save:
                previous = "save_sequence"
            return Request(previous, earlier.merged(slots), text)
    if intent is None and slots.lead_id is not None:
        intent = "explain_score"
    return Request(intent, slots, text)


def _bare_answer(intent: str, text: str, slots: Slots) -> Slots:
    """Slots for a reply that only answers our question: the words are the name we asked for."""
    words = text.strip().strip(".!?\"'“”")
    if intent in LEAD_INTENTS or intent == "find_leads":
        if slots.lead_id is None and slots.lead_name is None and slots.ordinal is None:
            return replace(slots, lead_name=words)
    elif (intent in NAME_INTENTS or intent == "design_sequence") and slots.name is None:
        return replace(slots, name=words, save_as=words)
    return slots


def next_step(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    """The tool calls to make next, or the answer."""
    if len(conversation.runs) >= MAX_TOOL_ROUNDS:
        return Reply(answers.summary_of_runs(conversation.runs))
    planner = PLANNERS.get(request.intent or "", plan_help)
    step = planner(request, conversation, toolbox)
    if isinstance(step, tuple):
        ran = {(run.name, _key(run.args)) for run in conversation.runs}
        if all((call.name, _key(call.args)) in ran for call in step):
            # Never ask for the same thing twice in one turn: answer with what came back.
            return Reply(answers.summary_of_runs(conversation.runs))
    return step


def _key(args: dict[str, Any]) -> str:
    return repr(sorted(args.items(), key=lambda item: item[0]))


# --- leads ---------------------------------------------------------------------------------


def resolve_lead(request: Request, conversation: Conversation, toolbox: Toolbox) -> int | Step:
    """The lead the request is about, or the step that finds it, or the question to ask."""
    slots = request.slots
    if slots.lead_id is not None:
        return slots.lead_id
    earlier = conversation.earlier("find_leads")
    if slots.ordinal is not None and earlier is not None and not conversation.run("find_leads"):
        shown = answers.narrow(records(earlier.result), slots.role, slots.person)
        if 1 <= slots.ordinal <= len(shown):
            found = lead_id_of(shown[slots.ordinal - 1])
            if found is not None:
                return found
    if slots.lead_name:
        return _lead_by_name(slots, conversation, toolbox)
    last = conversation.last_lead_id()
    if last is not None:
        return last
    return Reply(
        "Which lead do you mean? Give me its id (e.g. lead 4411), an email, or a name and "
        "company (e.g. Acme's VP)?"
    )


def _lead_by_name(slots: Slots, conversation: Conversation, toolbox: Toolbox) -> int | Step:
    name = slots.lead_name or ""
    run = conversation.run("find_leads")
    if run is None:
        earlier = conversation.earlier("find_leads")
        if earlier is not None:
            # An answer to "which one?": pick by name among the matches shown before.
            picked = answers.narrow(records(earlier.result), slots.role, slots.person or name)
            if len(picked) == 1 and lead_id_of(picked[0]) is not None:
                return lead_id_of(picked[0])  # type: ignore[return-value]
        if not toolbox.has("find_leads"):
            return Reply(answers.missing_tool("find_leads", "look leads up by name"))
        return (toolbox.call("find_leads", query=name),)
    if run.error:
        return Reply(answers.failure(run))
    matches = answers.narrow(records(run.result), slots.role, slots.person)
    if len(matches) == 1 and lead_id_of(matches[0]) is not None:
        return lead_id_of(matches[0])  # type: ignore[return-value]
    return Reply(answers.which_lead(name, slots.role, matches))


def _lead_step(
    request: Request,
    conversation: Conversation,
    toolbox: Toolbox,
    tool: str,
    what: str,
    args: Callable[[int], dict[str, Any]],
    answer: Callable[[ToolRun, Conversation, Request], str],
) -> Step:
    if not toolbox.has(tool):
        return Reply(answers.missing_tool(tool, what))
    lead = resolve_lead(request, conversation, toolbox)
    if not isinstance(lead, int):
        return lead
    run = conversation.run(tool)
    if run is None:
        return (toolbox.call(tool, **args(lead)),)
    if run.error:
        return Reply(answers.failure(run))
    return Reply(answer(run, conversation, request))


# --- planners, one per intent --------------------------------------------------------------


def plan_explain_score(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    if not toolbox.has("score_lead"):
        return Reply(answers.missing_tool("score_lead", "explain scores"))
    lead = resolve_lead(request, conversation, toolbox)
    if not isinstance(lead, int):
        return lead
    score = conversation.run("score_lead")
    if score is None:
        calls = [toolbox.call("score_lead", lead_id=lead)]
        if toolbox.has("segment_lead"):
            calls.append(toolbox.call("segment_lead", lead_id=lead))
        return tuple(calls)
    if score.error:
        return Reply(answers.failure(score))
    return Reply(answers.score(score, conversation.run("segment_lead"), request.text))


def plan_segment_lead(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    return _lead_step(
        request, conversation, toolbox, "segment_lead", "look up segments",
        lambda lead: {"lead_id": lead},
        lambda run, _conv, _req: answers.segments(run),
    )  # fmt: skip


def plan_draft_email(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    slots = request.slots
    return _lead_step(
        request, conversation, toolbox, "draft_email", "draft emails",
        lambda lead: {"lead_id": lead, "stage": slots.stage, "theme": slots.theme or slots.topic},
        lambda run, conv, _req: answers.email_draft(run, conv.run("find_leads")),
    )  # fmt: skip


def plan_draft_video(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    return _lead_step(
        request, conversation, toolbox, "draft_video_script", "write video scripts",
        lambda lead: {"lead_id": lead},
        lambda run, _conv, _req: answers.video_script(run),
    )  # fmt: skip


def plan_hand_off(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    reason = request.slots.reason or _reason_from_score(conversation)
    return _lead_step(
        request, conversation, toolbox, "hand_off_to_sdr", "hand leads off to sales",
        lambda lead: {"lead_id": lead, "reason": reason},
        lambda run, _conv, _req: answers.hand_off(run),
    )  # fmt: skip


def _reason_from_score(conversation: Conversation) -> str:
    score = conversation.earlier("score_lead")
    if score is not None and isinstance(score.result, dict):
        factors = answers.factor_texts(score.result)[:2]
        if factors:
            return "Marketer's request from chat: " + "; ".join(factors)
    return "Marketer's request from chat"


def plan_schedule(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    if not toolbox.has("schedule_touch"):
        return Reply(answers.missing_tool("schedule_touch", "schedule touches"))
    slots = request.slots
    draft_run = conversation.earlier("draft_email") or conversation.earlier("draft_video_script")
    draft_id = slots.draft_id
    lead_id = slots.lead_id
    if draft_id is None and draft_run is not None and isinstance(draft_run.result, dict):
        draft_id = _int(pick(draft_run.result, "draft_id", "id"))
        lead_id = lead_id or _int(draft_run.args.get("lead_id")) or lead_id_of(draft_run.result)
    if draft_id is None:
        return Reply(
            "Which draft should I schedule? Draft one first (e.g. 'draft the next touch for "
            "lead 4411') or give me its id (e.g. draft 55)?"
        )
    if lead_id is None:
        lead = resolve_lead(replace(request, slots=replace(slots, draft_id=draft_id)),
                            conversation, toolbox)  # fmt: skip
        if not isinstance(lead, int):
            return lead
        lead_id = lead
    run = conversation.run("schedule_touch")
    if run is None:
        return (
            toolbox.call(
                "schedule_touch", lead_id=lead_id, draft_id=draft_id, send_at=slots.send_at
            ),
        )
    if run.error:
        return Reply(answers.failure(run))
    return Reply(answers.scheduled(run))


def plan_find_leads(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    if not toolbox.has("find_leads"):
        return Reply(answers.missing_tool("find_leads", "search leads"))
    slots = request.slots
    query = slots.lead_name or slots.topic or _search_words(request.text)
    if not query:
        return Reply("Who are you looking for? Give me a name, a company or an email?")
    run = conversation.run("find_leads")
    if run is None:
        return (toolbox.call("find_leads", query=query),)
    if run.error:
        return Reply(answers.failure(run))
    return Reply(answers.lead_list(query, answers.narrow(records(run.result), slots.role)))


def plan_search_content(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    if not toolbox.has("search_content"):
        return Reply(answers.missing_tool("search_content", "search the content library"))
    slots = request.slots
    run = conversation.run("search_content")
    if run is None:
        query = slots.topic or _search_words(request.text) or (slots.theme or "")
        return (
            toolbox.call("search_content", query=query, stage=slots.stage,
                         segment=slots.segment, k=slots.k or 3),
        )  # fmt: skip
    if run.error:
        return Reply(answers.failure(run))
    return Reply(answers.content(run))


def plan_pipeline(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    if not toolbox.has("pipeline_summary"):
        return Reply(answers.missing_tool("pipeline_summary", "summarise the pipeline"))
    slots = request.slots
    run = conversation.run("pipeline_summary")
    if run is None:
        return (
            toolbox.call(
                "pipeline_summary",
                since=slots.since.isoformat() if slots.since else None,
                until=slots.until.isoformat() if slots.until else None,
                segment=slots.segment,
            ),
        )
    if run.error:
        return Reply(answers.failure(run))
    return Reply(report_answers.pipeline(run))


def plan_design(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    if not toolbox.has("design_sequence"):
        return Reply(answers.missing_tool("design_sequence", "design sequences"))
    slots = request.slots
    design = conversation.run("design_sequence")
    if design is None:
        return (
            # The design tool reads the audience from the goal's words; only a segment name
            # written out is passed as one.
            toolbox.call("design_sequence", goal=slots.goal or request.text,
                         segment=slots.segment_name,
                         days=slots.days or 60, touches=slots.touches),
        )  # fmt: skip
    if design.error:
        return Reply(answers.failure(design))
    if not slots.wants_save:
        return Reply(report_answers.design(design) + "\n\n" + report_answers.SAVE_HINT)
    return _save(design, slots.save_as, conversation, toolbox, show_design=True)


def plan_save(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    design = conversation.earlier("design_sequence")
    if design is None:
        return Reply(
            "There is no sequence design in this conversation to save yet. Shall I design one? "
            "Try: 'Design a 60-day nurture for enterprise leads'."
        )
    return _save(design, request.slots.save_as or request.slots.name, conversation, toolbox)


def _save(
    design: ToolRun,
    name: str | None,
    conversation: Conversation,
    toolbox: Toolbox,
    *,
    show_design: bool = False,
) -> Step:
    shown = report_answers.design(design) + "\n\n" if show_design else ""
    if not toolbox.has("save_sequence"):
        return Reply(shown + answers.missing_tool("save_sequence", "save sequences"))
    if not name:
        return Reply(shown + "What name should I save this sequence under?")
    name = sequence_slug(name)
    run = conversation.run("save_sequence")
    if run is None:
        return (toolbox.call("save_sequence", name=name, definition=_definition(design, name)),)
    if run.error:
        return Reply(shown + answers.failure(run))
    return Reply(shown + report_answers.saved(run, name))


def sequence_slug(name: str) -> str:
    """Sequence names are slugs ('Fintech security 60' -> 'fintech-security-60')."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or name


def _definition(design: ToolRun, name: str) -> dict[str, Any]:
    result = design.result if isinstance(design.result, dict) else {}
    inner = result.get("definition")
    definition = dict(inner if isinstance(inner, dict) else result)
    definition["name"] = name
    return definition


def plan_list_sequences(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    if not toolbox.has("list_sequences"):
        return Reply(answers.missing_tool("list_sequences", "list sequences"))
    run = conversation.run("list_sequences")
    if run is None:
        return (toolbox.call("list_sequences"),)
    if run.error:
        return Reply(answers.failure(run))
    return Reply(report_answers.sequence_list(run))


def plan_show_sequence(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    name = request.slots.name or _last_sequence_name(conversation)
    if not name:
        return _ask_which_sequence(conversation, toolbox, "show")
    if not toolbox.has("show_sequence"):
        return Reply(answers.missing_tool("show_sequence", "show sequences"))
    run = conversation.run("show_sequence")
    if run is None:
        return (toolbox.call("show_sequence", name=sequence_slug(name)),)
    if run.error:
        return Reply(answers.failure(run))
    return Reply(report_answers.sequence(run))


def plan_set_status(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    slots = request.slots
    if not slots.name:
        slots = replace(slots, name=_last_sequence_name(conversation))
    if not slots.name:
        return _ask_which_sequence(conversation, toolbox, "change")
    if not slots.status:
        return Reply(f"Should '{slots.name}' be active, paused or archived?")
    if not toolbox.has("set_sequence_status"):
        return Reply(answers.missing_tool("set_sequence_status", "pause or resume sequences"))
    run = conversation.run("set_sequence_status")
    if run is None:
        name = sequence_slug(slots.name)
        return (toolbox.call("set_sequence_status", name=name, status=slots.status),)
    if run.error:
        return Reply(answers.failure(run))
    return Reply(report_answers.status_changed(run, slots.name, slots.status))


def _last_sequence_name(conversation: Conversation) -> str | None:
    """The sequence this conversation saved or showed last ("pause it")."""
    for run in (*reversed(conversation.runs), *reversed(conversation.history)):
        if run.name in ("save_sequence", "show_sequence", "set_sequence_status") and not run.error:
            name = run.args.get("name")
            if name:
                return str(name)
    return None


def _ask_which_sequence(conversation: Conversation, toolbox: Toolbox, verb: str) -> Step:
    listed = conversation.run("list_sequences")
    if listed is None and toolbox.has("list_sequences"):
        return (toolbox.call("list_sequences"),)
    if listed is not None and not listed.error and not records(listed.result):
        return Reply(report_answers.sequence_list(listed))
    listing = report_answers.sequence_list(listed) + "\n\n" if listed and not listed.error else ""
    return Reply(f"{listing}Which sequence should I {verb}? Give me its name in quotes?")


def plan_approvals(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    if not toolbox.has("list_approvals"):
        return Reply(answers.missing_tool("list_approvals", "list approvals"))
    status = request.slots.approval_status or "pending"
    run = conversation.run("list_approvals")
    if run is None:
        return (toolbox.call("list_approvals", status=status),)
    if run.error:
        return Reply(answers.failure(run))
    return Reply(answers.approvals(run, status))


def plan_top_leads(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    if not toolbox.has("top_leads"):
        return Reply(answers.TOP_LEADS)
    run = conversation.run("top_leads")
    if run is None:
        args: dict[str, Any] = {}
        if request.slots.segment:
            args["segment"] = request.slots.segment
        return (toolbox.call("top_leads", **args),)
    if run.error:
        return Reply(answers.failure(run))
    return Reply(report_answers.top_leads(run))


def plan_experiments(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    if not toolbox.has("report_experiments"):
        return Reply(answers.missing_tool("report_experiments", "report on experiments"))
    run = conversation.run("report_experiments")
    if run is None:
        return (toolbox.call("report_experiments"),)
    if run.error:
        return Reply(answers.failure(run))
    return Reply(report_answers.experiments(run))


def plan_help(request: Request, conversation: Conversation, toolbox: Toolbox) -> Step:
    return Reply(answers.help_text(toolbox.tools, understood=request.intent == "help"))


PLANNERS: dict[str, Callable[[Request, Conversation, Toolbox], Step]] = {
    "explain_score": plan_explain_score,
    "segment_lead": plan_segment_lead,
    "draft_email": plan_draft_email,
    "draft_video": plan_draft_video,
    "hand_off": plan_hand_off,
    "schedule_touch": plan_schedule,
    "find_leads": plan_find_leads,
    "search_content": plan_search_content,
    "pipeline_summary": plan_pipeline,
    "design_sequence": plan_design,
    "save_sequence": plan_save,
    "list_sequences": plan_list_sequences,
    "show_sequence": plan_show_sequence,
    "set_sequence_status": plan_set_status,
    "list_approvals": plan_approvals,
    "top_leads": plan_top_leads,
    "report_experiments": plan_experiments,
    "help": plan_help,
}

_COMMAND_TEXT = """find search look up lookup show me list any who is are what which do we have
got for the a an some please can you could i need get give suggest recommend content assets
asset leads lead contacts people prospects about on our with that there"""
_COMMAND_WORDS = frozenset(_COMMAND_TEXT.split())


def _search_words(text: str) -> str:
    words = [w.strip("?.,!") for w in text.split()]
    return " ".join(w for w in words if w and w.lower() not in _COMMAND_WORDS)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None
