"""The offline model's answers: Markdown composed from what the tools returned.

Tools return JSON; these functions read the fields a marketer cares about (tolerating a few
spellings of each) and say what the numbers mean and what to do next. Unknown shapes fall
back to a compact listing, never to an echo of the request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from agent.models.conversation import ToolRun, lead_id_of, pick, records
from agent.models.formatting import MAX_LISTED, compact, first_sentence, inline, inner, when

TOP_LEADS = (
    "I can't rank every lead from this chat. Ask about one lead (*why is lead 4411 top "
    "decile?*), look leads up by company (*find leads at Acme*), or ask *what's waiting for "
    "approval?*: those drafts are for the top-decile leads."
)

# What each chat tool lets a user do, with an example; the help lists the bound ones.
CAPABILITIES: tuple[tuple[str, str], ...] = (
    ("score_lead", "explain a lead's score: *why is lead 4411 top decile?*"),
    ("segment_lead", "say which segments a lead is in: *what segment is lead 4411 in?*"),
    ("find_leads", "find leads: *who is Acme's VP?*"),
    ("draft_email", "draft the next email: *draft the next touch for Acme's VP*"),
    ("draft_video_script", "write a personalized video script: *video script for lead 4411*"),
    ("schedule_touch", "schedule a draft: *schedule it for tomorrow at 9am*"),
    ("hand_off_to_sdr", "hand a lead to sales: *hand off lead 4411, they asked for a demo*"),
    ("search_content", "search the content library: *content about ROI for the decision stage*"),
    ("pipeline_summary", "summarise the pipeline: *how is the pipeline this month?*"),
    ("design_sequence",
     "design a nurture: *design a 60-day nurture for mid-market fintech leads*"),
    ("save_sequence", "save a design: *save it as \"Fintech security 60\"*"),
    ("list_sequences", "list sequences: *what sequences do we have?*"),
    ("show_sequence", "show one: *show the \"core\" sequence*"),
    ("set_sequence_status", "pause, resume or archive one: *pause the \"core\" sequence*"),
    ("list_approvals", "show what waits for approval: *what's waiting for approval?*"),
    ("top_leads", "rank the hottest open leads: *who are our hottest leads?*"),
    ("report_experiments", "see the experiments and the holdout: *how are the experiments doing?*"),
)  # fmt: skip


# --- leads ---------------------------------------------------------------------------------


def lead_label(record: Mapping[str, Any]) -> str:
    """'lead 12: Ana Ruiz, VP Marketing at Acme' from whatever the record holds."""
    lead = inner(record, "lead")
    name = pick(lead, "name", "full_name") or " ".join(
        str(part) for part in (lead.get("first_name"), lead.get("last_name")) if part
    )
    if not name and isinstance(record.get("lead"), str):
        name = record["lead"]  # a queue row naming its lead: {"lead": "Ana Ruiz", "lead_id": 7}
    role, company = pick(lead, "role", "title"), pick(lead, "company")
    if role and company:
        where = f"{role} at {company}"
    else:
        where = str(role or (f"at {company}" if company and name else company or ""))
    who = ", ".join(part for part in (name, where) if part).replace(", at ", " at ")
    lead_id = lead_id_of(lead)
    head = f"lead {lead_id}" if lead_id is not None else "the lead"
    return f"{head}: {who}" if who else head


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def narrow(
    matches: list[dict[str, Any]], role: str | None, name: str | None = None
) -> list[dict[str, Any]]:
    """The matches whose role (and name) fit the words; all of them when none fits."""
    narrowed = matches
    if role:
        wanted = _role_words(role)
        fitting = [m for m in narrowed if wanted & _role_words(str(_field(m, "role") or ""))]
        narrowed = fitting or narrowed
    if name:
        words = {w.lower() for w in re.findall(r"[\w@.+-]+", name)}
        fitting = [m for m in narrowed if words <= _record_words(m)]
        narrowed = fitting or narrowed
    return narrowed


def _field(record: dict[str, Any], key: str) -> Any:
    lead = record.get("lead")
    return record.get(key) if key in record or not isinstance(lead, dict) else lead.get(key)


_ROLE_SYNONYMS = {"vp": "vice president", "cmo": "chief marketing officer", "cto":
                  "chief technology officer", "ceo": "chief executive officer", "cfo":
                  "chief financial officer", "coo": "chief operating officer"}  # fmt: skip


def _role_words(role: str) -> set[str]:
    text = role.lower()
    for short, long in _ROLE_SYNONYMS.items():
        text = text.replace(long, short)
    return {w for w in re.findall(r"[a-z]+", text) if w not in {"of", "the", "and", "a"}}


def _record_words(record: dict[str, Any]) -> set[str]:
    lead = inner(record, "lead")
    text = " ".join(str(v) for v in lead.values() if isinstance(v, str | int))
    return {w.lower() for w in re.findall(r"[\w@.+-]+", text)}


def which_lead(name: str, role: str | None, matches: list[dict[str, Any]]) -> str:
    who = f"{name}'s {role}" if role else name
    if not matches:
        return (
            f"I found no lead matching **{who}**. Could you give me the lead id, their email, "
            "or another spelling of the name or company?"
        )
    lines = [f"Several leads match **{who}**:"]
    lines += [f"{i}. {lead_label(m)}" for i, m in enumerate(matches[:MAX_LISTED], start=1)]
    lines.append("Which one do you mean (a number or a lead id)?")
    return "\n".join(lines)


def lead_list(query: str, matches: list[dict[str, Any]]) -> str:
    if not matches:
        return f"No lead matches **{query}**. Try a company, a surname or an email address."
    count = len(matches)
    lines = [f"{count} lead{'s match' if count != 1 else ' matches'} **{query}**:"]
    for match in matches[:MAX_LISTED]:
        score = _score_bits(match)
        lines.append(f"- {lead_label(match)}{f' ({score})' if score else ''}")
    if len(matches) > MAX_LISTED:
        lines.append(f"- ... and {len(matches) - MAX_LISTED} more; narrow it with a company.")
    return "\n".join(lines)


def _score_bits(record: dict[str, Any]) -> str:
    score, decile = pick(record, "score"), pick(record, "decile")
    bits = []
    if isinstance(score, int | float):
        bits.append(f"score {score:.0f}")
    if decile is not None:
        bits.append(f"decile {decile}")
    return ", ".join(bits)


# --- scores and segments -------------------------------------------------------------------


def factor_texts(result: dict[str, Any]) -> list[str]:
    """The score's reasons as sentences: strings as they are, dicts by their label."""
    factors = pick(result, "factors", "reasons", "explanation", "why") or []
    texts = []
    for factor in factors if isinstance(factors, list) else [factors]:
        if isinstance(factor, dict):
            label = pick(factor, "text", "label", "factor", "reason", "name", "feature")
            impact = pick(factor, "impact", "weight", "contribution", "points")
            if label:
                sign = f" ({impact:+.1f})" if isinstance(impact, int | float) else ""
                texts.append(f"{label}{sign}")
        elif factor:
            texts.append(str(factor))
    return texts


def score(score_run: ToolRun, segment_run: ToolRun | None, question: str) -> str:
    result = score_run.result if isinstance(score_run.result, dict) else {}
    value, decile = pick(result, "score"), pick(result, "decile")
    lines = [f"**{_capitalized(lead_label(result))}**" if result else "**The lead**"]
    if isinstance(value, int | float):
        summary = f"scores **{value:.0f}/100**"
        if decile is not None:
            summary += f", decile **{decile}**" + (
                " (the top 10 % of leads)" if decile == 1 else ""
            )
        lines[0] += " " + summary + "."
    asked_top = re.search(r"\btop (?:decile|10|ten)\b", question.lower())
    if asked_top and decile is not None and decile != 1:
        lines.append(f"It is **not** in the top decile: it is in decile {decile}.")
    axes = [
        f"{label} {result[key]:.0f}"
        for key, label in (("fit", "fit"), ("behaviour", "behaviour"), ("behavior", "behaviour"))
        if isinstance(result.get(key), int | float)
    ]
    if axes:
        lines.append("Axes: " + " · ".join(axes) + ".")
    factors = factor_texts(result)
    if factors:
        lines.append("Why:")
        lines += [f"- {factor}" for factor in factors[:6]]
    elif value is not None:
        lines.append("The scorer gave no factors for this lead.")
    model = pick(result, "model_version", "model")
    if model:
        lines.append(f"Scored by model {model}.")
    if segment_run is not None and segment_run.error is None:
        names = segment_names(segment_run.result)
        if names:
            lines.append("Segments: " + ", ".join(f"`{name}`" for name in names) + ".")
    if not isinstance(value, int | float):
        lines.append(compact(result))
    return "\n".join(lines)


def segment_names(result: Any) -> list[str]:
    found = pick(result, "segments", "segment") if isinstance(result, dict) else result
    if isinstance(found, str):
        return [found]
    if isinstance(found, list):
        return [str(pick(s, "name", "segment") if isinstance(s, dict) else s) for s in found]
    return []


def segments(run: ToolRun) -> str:
    result = run.result if isinstance(run.result, dict) else {}
    names = segment_names(run.result)
    who = _capitalized(lead_label(result)) if result else "The lead"
    if not names:
        return f"{who} is in no segment yet (it may be new: segments update on its next event)."
    lines = [f"{who} is in " + ", ".join(f"`{n}`" for n in names) + "."]
    clusters = pick(result, "clusters", "cluster")
    if clusters:
        listed = clusters if isinstance(clusters, list) else [clusters]
        lines.append("Behavioural cluster: " + ", ".join(f"`{c}`" for c in listed) + ".")
    return "\n".join(lines)


# --- drafts and actions --------------------------------------------------------------------


def email_draft(run: ToolRun, lookup: ToolRun | None) -> str:
    result = run.result if isinstance(run.result, dict) else {}
    draft = inner(result, "draft")
    draft_id = pick(result, "draft_id", "id")
    lead_id = run.args.get("lead_id")
    head = f"Draft {draft_id}" if draft_id is not None else "Draft"
    lines = [f"**{head}** for lead {lead_id}:" if lead_id is not None else f"**{head}**:", ""]
    subject, preview = pick(draft, "subject"), pick(draft, "preview", "preview_line")
    if subject:
        lines.append(f"**Subject:** {subject}")
    if preview:
        lines.append(f"*Preview:* {preview}")
    body = pick(draft, "text_body", "body", "text")
    paragraphs = draft.get("paragraphs")
    if isinstance(paragraphs, list) and not body:
        body = "\n\n".join(str(p) for p in paragraphs)
    if body:
        lines += ["", str(body)]
    cta_text, cta_url = pick(draft, "cta_text", "cta"), pick(draft, "cta_url", "url")
    if cta_text and cta_url and str(cta_url) not in str(body):
        lines += ["", f"[{cta_text}]({cta_url})"]
    lines += _sources(draft)
    lines += _status_lines(result)
    return "\n".join(lines).strip()


def video_script(run: ToolRun) -> str:
    result = run.result if isinstance(run.result, dict) else {}
    script = inner(result, "script")
    shots = [s for s in script.get("shots", []) if isinstance(s, dict)]
    seconds = sum(int(s.get("seconds", 0)) for s in shots)
    draft_id = pick(result, "draft_id", "id")
    title = pick(script, "title", "subject") or "Video script"
    lines = [f"**{title}**" + (f" (draft {draft_id})" if draft_id is not None else "")]
    if shots:
        lines[0] += f", {seconds} s:"
        lines += [
            f'{i}. ({shot.get("seconds")} s) "{shot.get("line")}" *Shot:* {shot.get("shot")}'
            for i, shot in enumerate(shots, start=1)
        ]
    background = pick(script, "background_url")
    if background:
        lines.append(f"Background: {background}")
    cta_text, cta_url = pick(script, "cta_text"), pick(script, "cta_url")
    if cta_text:
        lines.append(f"Call to action: [{cta_text}]({cta_url})" if cta_url else cta_text)
    lines += _sources(script)
    lines += _status_lines(result)
    body = pick(result, "body", "text")
    if not shots and body:
        lines[0] += ":"
        lines[1:1] = ["", str(body)]
    elif not shots:
        lines.append(compact(result))
    return "\n".join(lines)


def _sources(draft: Mapping[str, Any]) -> list[str]:
    sources = draft.get("sources")
    if isinstance(sources, list) and sources:
        return ["", "Sources: " + ", ".join(str(s) for s in sources)]
    return []


REVIEW = "a person reviews it before anything is sent"
SCHEDULE_HINT = "say *schedule it* (optionally with a time)"
STATUS_MEANINGS = {
    "pending": f"waiting for approval ({REVIEW})",
    "pending_approval": f"waiting for approval ({REVIEW})",
    "approved": "approved",
    "rejected": "rejected",
    "draft": f"ready to schedule: {SCHEDULE_HINT}",
    "ready": f"ready to schedule: {SCHEDULE_HINT}",
    "flagged": "held back by the guardrails",
}


def _status_lines(result: dict[str, Any]) -> list[str]:
    """What the guardrails found and what happens to the draft next."""
    lines = []
    guard = result.get("guardrails")
    if isinstance(guard, dict):
        issues = guard.get("issues") or []
    elif isinstance(guard, list):
        issues = guard
    else:
        issues = result.get("issues") or []
    if issues:
        lines += ["", "**Guardrails flagged it** (it will not be sent as is):"]
        for issue in issues[:5]:
            text = pick(issue, "message", "code") if isinstance(issue, dict) else issue
            lines.append(f"- {text}")
    elif isinstance(guard, str) and guard:
        lines += ["", f"Guardrails: {guard}."]
    status = pick(result, "approval_status", "status", "approval")
    if isinstance(status, dict):
        status = pick(status, "status")
    if status:
        lines += ["", f"Status: {STATUS_MEANINGS.get(str(status), str(status))}."]
    elif result.get("needs_approval") is True:
        lines += ["", f"Status: needs approval when scheduled ({REVIEW}); {SCHEDULE_HINT}."]
    elif result.get("needs_approval") is False:
        lines += ["", f"Status: ready to schedule: {SCHEDULE_HINT}."]
    return lines


def scheduled(run: ToolRun) -> str:
    result = run.result if isinstance(run.result, dict) else {}
    moment = pick(result, "send_at", "scheduled_for", "due_at", "at")
    touch = pick(result, "touch_id", "id")
    args = run.args
    text = f"Scheduled draft {args.get('draft_id')} for lead {args.get('lead_id')}"
    text += f" for **{when(moment)}**" if moment else ""
    text += f" (touch {touch})." if touch is not None else "."
    note = pick(result, "note", "reason", "message")
    return text + (f" {note}" if note else "")


def hand_off(run: ToolRun) -> str:
    result = run.result if isinstance(run.result, dict) else {}
    handoff_id = pick(result, "handoff_id", "id")
    lines = [
        f"Handed lead {run.args.get('lead_id')} to sales"
        + (f" (hand-off {handoff_id})" if handoff_id is not None else "")
        + "."
    ]
    due = pick(result, "sla_due_at", "sla_due", "due_at", "deadline")
    if due:
        lines.append(f"SLA: first contact due by **{when(due)}**.")
    owner = pick(result, "sdr", "owner", "assignee")
    if owner:
        lines.append(f"Assigned to {owner}.")
    if result.get("created") is False or result.get("existing"):
        lines.append("(It already had an open hand-off; I did not create a second one.)")
    track = pick(result, "talk_track")
    if isinstance(track, dict):
        lines.append("Talk track:")
        lines += [f"- **{key.replace('_', ' ')}**: {inline(value)}" for key, value in track.items()]
    elif track:
        lines += ["Talk track:", str(track)]
    return "\n".join(lines)


# --- content -------------------------------------------------------------------------------


def content(run: ToolRun) -> str:
    found = records(run.result)
    query = run.args.get("query") or "that"
    filters = ", ".join(
        f"{key} {run.args[key]}" for key in ("stage", "segment") if run.args.get(key)
    )
    where = f" ({filters})" if filters else ""
    if not found:
        return (
            f"The content library has nothing on **{query}**{where}. Try broader words or "
            "drop the stage filter."
        )
    lines = [f"Content on **{query}**{where}:"]
    for item in found[:MAX_LISTED]:
        title, url = pick(item, "title") or "untitled", pick(item, "url")
        stage = pick(item, "stage")
        line = f"- [{title}]({url})" if url else f"- {title}"
        line += f" ({stage} stage)" if stage else ""
        text = pick(item, "text", "snippet")
        if text:
            line += f": {first_sentence(str(text))}"
        lines.append(line)
    return "\n".join(lines)


def approvals(run: ToolRun, status: str) -> str:
    found = records(run.result)
    if not found:
        return f"Nothing is {status} approval." if status == "pending" else f"No {status} drafts."
    title = "waiting for approval" if status == "pending" else status
    lines = [f"{len(found)} draft{'s' if len(found) != 1 else ''} {title}:"]
    for item in found[:MAX_LISTED]:
        ident = pick(item, "approval_id", "id")
        subject = pick(item, "subject", "title")
        line = f"- #{ident} " if ident is not None else "- "
        line += lead_label(item)
        line += f" (decile {item['decile']})" if item.get("decile") is not None else ""
        line += f': "{subject}"' if subject else ""
        since = pick(item, "created_at", "requested_at")
        line += f" (since {since})" if since else ""
        lines.append(line)
    if status == "pending":
        lines.append("Approve, edit or reject them in Slack or the web approval queue.")
    return "\n".join(lines)


# --- fallbacks -----------------------------------------------------------------------------


def missing_tool(tool: str, what: str) -> str:
    return f"I can't {what} here: this chat has no `{tool}` tool."


def failure(run: ToolRun) -> str:
    return f"`{run.name}` did not work: {run.error}"


def help_text(tools: Mapping[str, Any], *, understood: bool) -> str:
    available = [line for tool, line in CAPABILITIES if tool in tools]
    head = "Here is what I can do:" if understood else "I did not understand that. I can:"
    if not available:
        return (
            "I am the built-in offline model and this conversation has no tools, so I can't "
            "look anything up. Set OPENAI_API_KEY or OPENAI_BASE_URL for a full model."
        )
    return "\n".join([head, *(f"- {line}" for line in available)])


def summary_of_runs(runs: Iterable[ToolRun]) -> str:
    lines = ["Here is what I found:"]
    for run in runs:
        outcome = f"failed: {run.error}" if run.error else compact(run.result)
        lines.append(f"- `{run.name}`: {outcome}")
    return "\n".join(lines)
